"""Phone numbers never appear in full in what the suite prints: logs, tails and failure messages."""

from __future__ import annotations

import re

# Eleven or more digits in a row (E.164 or national): a phone number, or near enough to mask.
_PHONE = re.compile(r"\+?\d{11,15}")


def mask_phone(phone: str) -> str:
    """`+8613810010001` -> `+86138****0001`, `13810010001` -> `138****0001`."""
    if len(phone) < 9:
        return "****"
    return phone[:-8] + "****" + phone[-4:]


def mask_text(text: str) -> str:
    """Every phone-like run of digits in `text`, masked."""
    return _PHONE.sub(lambda match: mask_phone(match.group(0)), text)
