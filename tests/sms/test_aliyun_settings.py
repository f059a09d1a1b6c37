"""The carrier's settings: SMS_TRANSPORT=aliyun refuses to start without its account, signature, push
secret and allow-list, or with a push secret that cannot be a URL path's secret."""

from __future__ import annotations

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
