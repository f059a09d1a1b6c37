import re
from datetime import time

import pytest

from dispatch.settings import (
    DEV_ACCOUNT_SID,
    DEV_AUTH_TOKEN,
    DEV_SECRET_KEY,
    KNOWN_ACCOUNT_SIDS,
    KNOWN_SECRETS,
    PROJECT_ROOT,
    Settings,
    SettingsError,
)

# Secrets as production should have them (made once with secrets.token_urlsafe / token_hex).
GOOD_SECRET_KEY = "q7Vd2xL0bN9rKf4TzWc8HmPj1sYe6GaU3oRi5EnBvQk"
GOOD_AUTH_TOKEN = "9f1c2b7e4a6d8035c1e2f4a7b9d0c3e5"
GOOD_ACCOUNT_SID = "AC3b8e1f0a9c7d2e4f6a1b3c5d7e9f0a2b"
PRODUCTION = {
    "DISPATCH_ENV": "production",
    "SECRET_KEY": GOOD_SECRET_KEY,
    "TWILIO_AUTH_TOKEN": GOOD_AUTH_TOKEN,
    "DATABASE_URL": "postgresql://dispatch@127.0.0.1:5432/dispatch",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}
TWILIO = {
    "SMS_TRANSPORT": "twilio",
    "TWILIO_ACCOUNT_SID": GOOD_ACCOUNT_SID,
    "TWILIO_FROM_NUMBER": "+15005550006",
    "PUBLIC_BASE_URL": "https://dispatch.example.org",
}


def test_defaults_are_a_first_run():
    settings = Settings.load(environ={})
    assert settings.DATABASE_URL.startswith("sqlite:///") and settings.DATABASE_URL.endswith(
        "instance/dispatch.sqlite3"
    )
    assert settings.REDIS_URL == "embedded"
    assert settings.SMS_TRANSPORT == "outbox"
    assert settings.DEFAULT_REGION == "CN"
    assert settings.MARKET_TIMEZONE == "Asia/Shanghai"
    assert settings.quiet_hours == (time(21, 0), time(8, 0))
    assert settings.TWILIO_AUTH_TOKEN == DEV_AUTH_TOKEN  # development signs with a known token


def test_environment_names_are_read_and_typed():
    settings = Settings.load(
        environ={
            "DATABASE_URL": "postgresql://u@db/x",
            "REDIS_URL": "redis://r:6379/1",
            "SMS_SEND_RATE": "2.5",
            "SMS_MAX_ATTEMPTS": "3",
            "QUIET_HOURS": "22:30-07:15",
            "PUBLIC_BASE_URL": "https://d.example.org",
            "TWILIO_AUTH_TOKEN": "t" * 32,
        }
    )
    assert settings.DATABASE_URL == "postgresql://u@db/x"
    assert settings.SMS_SEND_RATE == 2.5
    assert settings.SMS_MAX_ATTEMPTS == 3
    assert settings.quiet_hours == (time(22, 30), time(7, 15))


def test_overrides_win_over_the_environment():
    settings = Settings.load({"SMS_TRANSPORT": "outbox"}, environ={"SMS_TRANSPORT": "twilio"})
    assert settings.SMS_TRANSPORT == "outbox"


@pytest.mark.parametrize("missing", ["SECRET_KEY", "TWILIO_AUTH_TOKEN"])
def test_production_refuses_to_start_without_secrets(missing):
    environ = dict(PRODUCTION)
    del environ[missing]
    with pytest.raises(SettingsError, match=missing):
        Settings.load(environ=environ)


def test_production_refuses_the_embedded_redis():
    environ = {**PRODUCTION, "REDIS_URL": "embedded"}
    with pytest.raises(SettingsError, match="REDIS_URL"):
        Settings.load(environ=environ)


def test_production_with_everything_starts_and_keeps_its_own_secrets():
    settings = Settings.load(environ=PRODUCTION)
    assert settings.TWILIO_AUTH_TOKEN == GOOD_AUTH_TOKEN and settings.SECRET_KEY == GOOD_SECRET_KEY
    assert settings.is_production
    assert Settings.load(environ={**PRODUCTION, **TWILIO}).TWILIO_ACCOUNT_SID == GOOD_ACCOUNT_SID


# Each weak setting on an otherwise good production: (changes, the setting the refusal must name).
WEAK_PRODUCTION = {
    "secret_key-short": ({"SECRET_KEY": "s3cr3t-but-only-24-chars"}, "SECRET_KEY"),
    "secret_key-31-chars": ({"SECRET_KEY": GOOD_SECRET_KEY[:31]}, "SECRET_KEY"),
    "secret_key-dev-default": ({"SECRET_KEY": DEV_SECRET_KEY}, "SECRET_KEY"),
    "secret_key-example-env": ({"SECRET_KEY": "change-me-to-a-long-random-string"}, "SECRET_KEY"),
    "secret_key-placeholder-x": ({"SECRET_KEY": "x" * 48}, "SECRET_KEY"),
    "secret_key-few-characters": ({"SECRET_KEY": "abcabcabcabcabcabcabcabcabcabcabc"}, "SECRET_KEY"),
    "auth_token-31-chars": ({"TWILIO_AUTH_TOKEN": GOOD_AUTH_TOKEN[:31]}, "TWILIO_AUTH_TOKEN"),
    "auth_token-dev-default": ({"TWILIO_AUTH_TOKEN": DEV_AUTH_TOKEN}, "TWILIO_AUTH_TOKEN"),
    "auth_token-example-env": ({"TWILIO_AUTH_TOKEN": "x" * 32}, "TWILIO_AUTH_TOKEN"),
    "auth_token-zeros": ({"TWILIO_AUTH_TOKEN": "0" * 32}, "TWILIO_AUTH_TOKEN"),
    "auth_token-dev-secret-key": ({"TWILIO_AUTH_TOKEN": DEV_SECRET_KEY}, "TWILIO_AUTH_TOKEN"),
    "account_sid-dev-default": ({**TWILIO, "TWILIO_ACCOUNT_SID": DEV_ACCOUNT_SID}, "TWILIO_ACCOUNT_SID"),
    "account_sid-example-env": ({**TWILIO, "TWILIO_ACCOUNT_SID": "AC" + "x" * 32}, "TWILIO_ACCOUNT_SID"),
    "database-default-sqlite": ({"DATABASE_URL": ""}, "DATABASE_URL"),
    "database-sqlite-file": ({"DATABASE_URL": "sqlite:////var/lib/dispatch/d.sqlite3"}, "DATABASE_URL"),
    "database-sqlite-driver": ({"DATABASE_URL": "SQLite+pysqlite:///d.sqlite3"}, "DATABASE_URL"),
    "redis-embedded": ({"REDIS_URL": "embedded"}, "REDIS_URL"),
    "password-hash-cheap": ({"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}, "PASSWORD_HASH_METHOD"),
    "password-hash-cheap-scrypt": ({"PASSWORD_HASH_METHOD": "scrypt:1024:8:1"}, "PASSWORD_HASH_METHOD"),
}


@pytest.mark.parametrize("changes, setting", list(WEAK_PRODUCTION.values()), ids=list(WEAK_PRODUCTION))
def test_production_refuses_to_start_with_a_weak_setting(changes, setting):
    environ = {**PRODUCTION, **changes}
    with pytest.raises(SettingsError, match=setting) as refused:
        Settings.load(environ=environ)
    message = str(refused.value)
    assert "\n" not in message and message.startswith("production ")  # one line, says why
    if setting in {"SECRET_KEY", "TWILIO_AUTH_TOKEN"}:
        assert environ[setting] not in message  # never echoes a secret


def test_the_same_weak_settings_are_fine_outside_production():
    for changes, _ in WEAK_PRODUCTION.values():
        if "REDIS_URL" in changes:
            continue
        Settings.load(environ={**PRODUCTION, **changes, "DISPATCH_ENV": "development"})


@pytest.mark.parametrize("method", ["md5", "plain", "pbkdf2:sha256:many", "scrypt:1024", ""])
def test_a_password_hash_method_must_be_werkzeugs(method):
    if method == "":  # unset: the default
        assert Settings.load(environ={"PASSWORD_HASH_METHOD": method}).PASSWORD_HASH_METHOD == "scrypt"
        return
    with pytest.raises(SettingsError, match="PASSWORD_HASH_METHOD"):
        Settings.load(environ={"PASSWORD_HASH_METHOD": method})


@pytest.mark.parametrize("name", ["SECRET_KEY", "TWILIO_AUTH_TOKEN"])
@pytest.mark.parametrize("known", sorted(KNOWN_SECRETS))
def test_every_known_secret_is_refused_in_production(name, known):
    with pytest.raises(SettingsError, match=name):
        Settings.load(environ={**PRODUCTION, name: known})


def test_sqlite_in_production_only_when_explicitly_allowed():
    environ = {**PRODUCTION, "DATABASE_URL": "sqlite:////var/lib/dispatch/dispatch.sqlite3"}
    with pytest.raises(SettingsError, match="ALLOW_SQLITE_IN_PRODUCTION=1"):
        Settings.load(environ=environ)
    settings = Settings.load(environ={**environ, "ALLOW_SQLITE_IN_PRODUCTION": "1"})
    assert settings.ALLOW_SQLITE_IN_PRODUCTION and settings.DATABASE_URL.startswith("sqlite:")
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        Settings.load(environ={**environ, "ALLOW_SQLITE_IN_PRODUCTION": "0"})


# `NAME=value` in a shell line, an env file or a table cell; $(...), <...> and ... are instructions.
ASSIGNMENT = re.compile(r"\b(SECRET_KEY|TWILIO_AUTH_TOKEN|TWILIO_ACCOUNT_SID)\s*=\s*[\"']?([^\s\"'`|$<]+)")
PUBLISHED = [
    "README.md",
    "config/example.env",
    *sorted(p.relative_to(PROJECT_ROOT).as_posix() for p in (PROJECT_ROOT / "docs").glob("*.md")),
]


def published_values() -> list[tuple[str, str, str]]:
    found = []
    for name in PUBLISHED:
        text = (PROJECT_ROOT / name).read_text(encoding="utf-8")
        found += [
            (name, setting, value)
            for setting, value in ASSIGNMENT.findall(text)
            if any(ch.isalnum() for ch in value)
        ]
        # The README shows how to sign a webhook with the development token.
        found += [
            (name, "TWILIO_AUTH_TOKEN", value) for value in re.findall(r'RequestValidator\("([^"]+)"\)', text)
        ]
    return found


def test_every_secret_printed_in_the_readme_or_example_env_is_refused():
    """The refused list cannot drift from what we print: a new example value must be added to it."""
    values = published_values()
    assert ("config/example.env", "SECRET_KEY", "change-me-to-a-long-random-string") in values
    assert ("README.md", "TWILIO_AUTH_TOKEN", DEV_AUTH_TOKEN) in values  # the scan does read the README
    for where, setting, value in values:
        if setting == "TWILIO_ACCOUNT_SID":
            assert value in KNOWN_ACCOUNT_SIDS, f"{where}: {setting}={value} is not in KNOWN_ACCOUNT_SIDS"
            with pytest.raises(SettingsError, match=setting):
                Settings.load(environ={**PRODUCTION, **TWILIO, setting: value})
        else:
            assert value in KNOWN_SECRETS, f"{where}: {setting}={value} is not in settings.KNOWN_SECRETS"
            with pytest.raises(SettingsError, match=setting):
                Settings.load(environ={**PRODUCTION, setting: value})


def test_config_example_env_as_it_stands_is_refused():
    lines = (PROJECT_ROOT / "config" / "example.env").read_text(encoding="utf-8").splitlines()
    environ = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    assert environ["DISPATCH_ENV"] == "production"
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        Settings.load(environ=environ)
    environ["SECRET_KEY"] = GOOD_SECRET_KEY  # then its placeholder token, then its placeholder SID
    with pytest.raises(SettingsError, match="TWILIO_AUTH_TOKEN"):
        Settings.load(environ=environ)
    environ["TWILIO_AUTH_TOKEN"] = GOOD_AUTH_TOKEN
    with pytest.raises(SettingsError, match="TWILIO_ACCOUNT_SID"):
        Settings.load(environ=environ)
    environ["TWILIO_ACCOUNT_SID"] = GOOD_ACCOUNT_SID
    assert Settings.load(environ=environ).is_production


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"QUIET_HOURS": "late"}, "QUIET_HOURS"),
        ({"SMS_TRANSPORT": "carrier-pigeon"}, "SMS_TRANSPORT"),
        ({"SMS_SEND_RATE": "fast"}, "SMS_SEND_RATE"),
        ({"SMS_TRANSPORT": "twilio", "PUBLIC_BASE_URL": "https://x"}, "TWILIO_FROM_NUMBER"),
        ({"SMS_TRANSPORT": "twilio", "TWILIO_FROM_NUMBER": "+15005550006"}, "PUBLIC_BASE_URL"),
        ({"SMS_SEND_RATE": "nan"}, "SMS_SEND_RATE"),
        ({"SMS_SEND_RATE": "inf"}, "SMS_SEND_RATE"),
        ({"MARKET_TIMEZONE": "Asia/Nowhere"}, "MARKET_TIMEZONE"),
        ({"DEFAULT_REGION": "XX"}, "DEFAULT_REGION"),
        ({"OPENING_HOURS": "always"}, "OPENING_HOURS"),
        ({"MATCHING_POLICY": "seniority"}, "MATCHING_POLICY"),
        ({"HOLD_LIMIT_SECONDS": "0"}, "HOLD_LIMIT_SECONDS"),
        # A village caller reaches the district after two overflow waits: before the hold ends.
        ({"CALL_OVERFLOW_SECONDS": "90"}, "CALL_OVERFLOW_SECONDS"),
        ({"CALL_OVERFLOW_SECONDS": "100", "HOLD_LIMIT_SECONDS": "200"}, "CALL_OVERFLOW_SECONDS"),
    ],
)
def test_malformed_settings_are_refused_with_their_name(environ, message):
    with pytest.raises(SettingsError, match=message):
        Settings.load(environ=environ)


def test_a_longer_hold_allows_a_longer_overflow_wait():
    settings = Settings.load(environ={"CALL_OVERFLOW_SECONDS": "90", "HOLD_LIMIT_SECONDS": "181"})
    assert (settings.CALL_OVERFLOW_SECONDS, settings.HOLD_LIMIT_SECONDS) == (90, 181)
    assert Settings.load(environ={}).HOLD_LIMIT_SECONDS == 180


def test_quiet_hours_can_be_switched_off():
    assert Settings.load(environ={"QUIET_HOURS": "off"}).quiet_hours is None


@pytest.mark.parametrize(
    "environ",
    [
        {"SMS_TRANSPORT": "twilio", "TWILIO_FROM_NUMBER": "+15005550006", "PUBLIC_BASE_URL": "https://x"},
        {"PUBLIC_BASE_URL": "https://dispatch.example.org"},
    ],
)
def test_the_well_known_development_token_is_only_for_a_first_run(environ):
    """A service that sends real SMS or is reachable from outside would accept forged webhooks."""
    with pytest.raises(SettingsError, match="TWILIO_AUTH_TOKEN"):
        Settings.load(environ=environ)


def test_production_with_twilio_needs_a_real_account_sid():
    environ = {**PRODUCTION, **TWILIO}
    del environ["TWILIO_ACCOUNT_SID"]
    with pytest.raises(SettingsError, match="TWILIO_ACCOUNT_SID"):
        Settings.load(environ=environ)
    assert Settings.load(environ={**environ, "TWILIO_ACCOUNT_SID": GOOD_ACCOUNT_SID}).is_production


def test_overrides_given_as_text_are_typed_like_the_environment():
    assert Settings.load({"SMS_SEND_RATE": "5", "STANDBY_ENABLED": "no"}, environ={}).SMS_SEND_RATE == 5.0
    assert Settings.load({"STANDBY_ENABLED": "no"}, environ={}).STANDBY_ENABLED is False
