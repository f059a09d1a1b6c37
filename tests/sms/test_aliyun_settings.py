"""The carrier's settings: SMS_TRANSPORT=aliyun refuses to start without its account, signature, push
secret and allow-list, or with a push secret that cannot be a URL path's secret."""

from __future__ import annotations

import re

import pytest

from dispatch.settings import Settings, SettingsError
from tests.sms.aliyun_support import carrier_settings


def test_the_carrier_transport_starts_with_its_settings() -> None:
    settings = Settings.load(carrier_settings(None), environ={})
    assert settings.SMS_TRANSPORT == "aliyun" and not settings.is_first_run


@pytest.mark.parametrize(
    "missing",
    [
        "ALIYUN_ACCESS_KEY_ID",
        "ALIYUN_ACCESS_KEY_SECRET",
        "ALIYUN_SMS_SIGN_NAME",
        "ALIYUN_PUSH_SECRET",
        "ALIYUN_PUSH_ALLOW_FROM",
    ],
)
def test_the_carrier_transport_needs_each_of_its_settings(missing: str) -> None:
    with pytest.raises(SettingsError, match=missing):
        Settings.load(carrier_settings(None, **{missing: ""}), environ={})


@pytest.mark.parametrize(
    ("changes", "setting"),
    [
        ({"ALIYUN_PUSH_SECRET": "short"}, "ALIYUN_PUSH_SECRET"),
        ({"ALIYUN_PUSH_SECRET": "a/b" * 10}, "ALIYUN_PUSH_SECRET"),
        ({"ALIYUN_PUSH_ALLOW_FROM": "everyone"}, "ALIYUN_PUSH_ALLOW_FROM"),
        ({"ALIYUN_SMS_ENDPOINT": "ftp://x y"}, "ALIYUN_SMS_ENDPOINT"),
        ({"SMS_TRANSPORT": "tencent"}, "SMS_TRANSPORT"),
    ],
)
def test_malformed_carrier_settings_are_refused(changes: dict[str, str], setting: str) -> None:
    with pytest.raises(SettingsError, match=setting):
        Settings.load(carrier_settings(None, **changes), environ={})


def test_production_refuses_a_placeholder_push_secret() -> None:
    values = carrier_settings(
        None,
        DISPATCH_ENV="production",
        SECRET_KEY="Prod-Secret-Key-0123456789-abcdefghijklmnop",
        TWILIO_AUTH_TOKEN="Prod-Twilio-Token-0123456789abcdefXYZ",
        DATABASE_URL="postgresql://x@db/dispatch",
        REDIS_URL="redis://redis:6379/0",
        ALIYUN_PUSH_SECRET="x" * 40,
    )
    with pytest.raises(SettingsError, match="ALIYUN_PUSH_SECRET"):
        Settings.load(values, environ={})


PRODUCTION = {
    "DISPATCH_ENV": "production",
    "SECRET_KEY": "Prod-Secret-Key-0123456789-abcdefghijklmnop",
    "TWILIO_AUTH_TOKEN": "Prod-Twilio-Token-0123456789abcdefXYZ",
    "DATABASE_URL": "postgresql://x@db/dispatch",
    "REDIS_URL": "redis://redis:6379/0",
    "ALIYUN_PUSH_SECRET": "Kq3-pV9x_Lm2Tz8Rw4Yb7Nc1-hG5jD0sF6aQe3Wt",
}


def _config_with_codes(tmp_path, real: bool):
    """A copy of config/ whose carrier template codes are the approved kind (SMS_ and digits) or not."""
    import shutil

    from dispatch.settings import PROJECT_ROOT

    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    path = config / "carrier_templates.toml"
    text = path.read_text(encoding="utf-8")
    if real:
        counter = iter(range(100_000_000, 200_000_000))
        text = re.sub(r'code = "SMS_[A-Z0-9_]+"', lambda _: f'code = "SMS_{next(counter)}"', text)
    path.write_text(text, encoding="utf-8")
    return config


def test_production_refuses_the_placeholder_template_codes(tmp_path) -> None:
    values = carrier_settings(None, **PRODUCTION, CONFIG_DIR=str(_config_with_codes(tmp_path, real=False)))
    with pytest.raises(SettingsError, match=r"placeholder template codes .*SMS_ARRIVAL_EMPLOYER_ZH, .* more"):
        Settings.load(values, environ={})


def test_production_starts_with_the_approved_codes_and_a_test_with_the_placeholders(tmp_path) -> None:
    values = carrier_settings(None, **PRODUCTION, CONFIG_DIR=str(_config_with_codes(tmp_path, real=True)))
    assert Settings.load(values, environ={}).is_production
    assert Settings.load(carrier_settings(None), environ={}).SMS_TRANSPORT == "aliyun"  # placeholders
