"""How many SMS parts a text costs: GSM 03.38 septets or UCS-2 code units, packed the way carriers split."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GSM7_SINGLE = 160
GSM7_PART = 153
UCS2_SINGLE = 70
UCS2_PART = 67

# The 128 code points of the GSM 03.38 default alphabet in code order, so position == septet value.
# 0x1B is the escape to the extension table, not a character a text can contain.
GSM7_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# Each of these is sent as ESC + one septet, so it costs two.
GSM7_EXTENSION_CHARS = "\f^{}\\[~]|€"

_GSM7_BASIC = frozenset(GSM7_BASIC_TABLE) - {"\x1b"}
_GSM7_EXTENSION = frozenset(GSM7_EXTENSION_CHARS)

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True)
class SegmentCount:
    """The encoding a text needs, its length in that encoding's units, and the parts it is sent as."""

    encoding: Encoding
    units: int
    segments: int


def is_gsm7(text: str) -> bool:
    """True when every character is in the GSM 03.38 basic or extension table."""
    return all(ch in _GSM7_BASIC or ch in _GSM7_EXTENSION for ch in text)


def count_segments(text: str) -> SegmentCount:
    """Count `text` as a carrier would: GSM-7 when it can be, else UCS-2; the empty text is one part."""
    if is_gsm7(text):
        widths = [2 if ch in _GSM7_EXTENSION else 1 for ch in text]
        return SegmentCount("GSM-7", sum(widths), _parts(widths, GSM7_SINGLE, GSM7_PART))
    # UTF-16: characters outside the BMP (most emoji) are a surrogate pair, two code units.
    widths = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return SegmentCount("UCS-2", sum(widths), _parts(widths, UCS2_SINGLE, UCS2_PART))


def fits(text: str, max_segments: int) -> bool:
    """True when `text` goes out in at most `max_segments` parts."""
    return count_segments(text).segments <= max_segments


def _parts(widths: list[int], single: int, part: int) -> int:
    if sum(widths) <= single:
        return 1
    # Greedy packing rather than ceil(units / part): an escape pair or a surrogate pair is never split
    # across parts, so a two-unit character that would straddle a boundary opens the next part.
    parts, used = 1, 0
    for width in widths:
        if used + width > part:
            parts, used = parts + 1, 0
        used += width
    return parts
