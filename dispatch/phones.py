"""Phone numbers: one person, one E.164 string, however the number was typed."""

from __future__ import annotations

import unicodedata

import phonenumbers


class InvalidPhoneNumber(ValueError):
    """The text is not a valid phone number; nothing is stored under it."""

    def __init__(self, raw: str) -> None:
        super().__init__(f"not a valid phone number: {raw!r}")
        self.raw = raw


def to_e164(raw: str, default_region: str = "CN") -> str:
    """`13800138000`, `+86 138 0013 8000`, `8613800138000` and `１３８…` all give `+8613800138000`."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text:
        raise InvalidPhoneNumber(raw)
    number = _parse(text, default_region)
    if number is None and text.isdigit() and not text.startswith("0"):
        # A country code typed without its plus sign, e.g. 8613800138000.
        number = _parse("+" + text, default_region)
    if number is None:
        raise InvalidPhoneNumber(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _parse(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def try_e164(raw: str, default_region: str = "CN") -> str | None:
    try:
        return to_e164(raw, default_region)
    except InvalidPhoneNumber:
        return None


def display(e164: str) -> str:
    """How an agent or an SMS shows a number: national format for domestic numbers."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
