"""What the carrier (Alibaba Cloud SMS) tests share: the fake's account and the settings pointing at it."""

from __future__ import annotations

from typing import Any

from dispatch.settings import PROJECT_ROOT
from dispatch.sms.carrier_templates import load_registry
from tests.fakes.aliyun_api import FakeAliyunSms
from tests.helpers import TEST_AUTH_TOKEN

ACCESS_KEY_ID = "LTAI5tTestKeyId0000000000"
ACCESS_KEY_SECRET = "test-access-key-secret-0123456789"
SIGN_NAME = "潞州零工"
PUSH_SECRET = "push-secret-0123456789abcdefXYZ"
PUBLIC_BASE_URL = "https://dispatch.example.org"


def fake_carrier() -> FakeAliyunSms:
    """The fake, holding every template of our registry as approved."""
    registry = load_registry(PROJECT_ROOT / "config")
    templates = {template.code: template.text for _, template in registry.templates()}
    return FakeAliyunSms(ACCESS_KEY_ID, ACCESS_KEY_SECRET, SIGN_NAME, templates)


def carrier_settings(fake: FakeAliyunSms | None, **extra: Any) -> dict[str, Any]:
    values = {
        "SMS_TRANSPORT": "aliyun",
        "ALIYUN_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "ALIYUN_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
        "ALIYUN_SMS_SIGN_NAME": SIGN_NAME,
        "ALIYUN_SMS_ENDPOINT": fake.endpoint if fake is not None else "dysmsapi.aliyuncs.com",
        "ALIYUN_PUSH_SECRET": PUSH_SECRET,
        "ALIYUN_PUSH_ALLOW_FROM": "127.0.0.1,100.104.0.0/16",
        "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "SMS_SIGNATURE_ZH": SIGN_NAME,
        **extra,
    }
    return {name: value for name, value in values.items() if value is not None}
