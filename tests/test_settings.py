from datetime import time

import pytest

from dispatch.settings import DEV_AUTH_TOKEN, Settings, SettingsError


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
    environ = {
        "DISPATCH_ENV": "production",
        "SECRET_KEY": "s" * 32,
        "TWILIO_AUTH_TOKEN": "t" * 32,
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    del environ[missing]
    with pytest.raises(SettingsError, match=missing):
        Settings.load(environ=environ)


def test_production_refuses_the_embedded_redis():
    environ = {"DISPATCH_ENV": "production", "SECRET_KEY": "s", "TWILIO_AUTH_TOKEN": "t"}
    with pytest.raises(SettingsError, match="REDIS_URL"):
        Settings.load(environ=environ)


def test_production_with_everything_starts_and_keeps_its_own_secrets():
    environ = {
        "DISPATCH_ENV": "production",
        "SECRET_KEY": "s" * 32,
        "TWILIO_AUTH_TOKEN": "t" * 32,
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    settings = Settings.load(environ=environ)
    assert settings.TWILIO_AUTH_TOKEN == "t" * 32 and settings.is_production


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
    ],
)
def test_malformed_settings_are_refused_with_their_name(environ, message):
    with pytest.raises(SettingsError, match=message):
        Settings.load(environ=environ)


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
    environ = {
        "DISPATCH_ENV": "production",
        "SECRET_KEY": "s" * 32,
        "TWILIO_AUTH_TOKEN": "t" * 32,
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "SMS_TRANSPORT": "twilio",
        "TWILIO_FROM_NUMBER": "+15005550006",
        "PUBLIC_BASE_URL": "https://dispatch.example.org",
    }
    with pytest.raises(SettingsError, match="TWILIO_ACCOUNT_SID"):
        Settings.load(environ=environ)
    assert Settings.load(environ={**environ, "TWILIO_ACCOUNT_SID": "AC" + "1" * 32}).is_production


def test_overrides_given_as_text_are_typed_like_the_environment():
    assert Settings.load({"SMS_SEND_RATE": "5", "STANDBY_ENABLED": "no"}, environ={}).SMS_SEND_RATE == 5.0
    assert Settings.load({"STANDBY_ENABLED": "no"}, environ={}).STANDBY_ENABLED is False
