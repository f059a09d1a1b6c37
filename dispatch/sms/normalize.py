"""Reply text as the parser sees it: half-width, signature-free, one space between tokens."""

from __future__ import annotations

import re
import unicodedata

# A carrier or gateway signature such as 【中国移动】; innermost first, so nested brackets also go.
_SIGNATURE = re.compile(r"【[^【】]*】")

_ZERO = "零〇"
_DIGITS = {
    **dict.fromkeys("零〇", 0),
    **dict.fromkeys("一壹", 1),
    **dict.fromkeys("二两贰", 2),
    **dict.fromkeys("三叁", 3),
    **dict.fromkeys("四肆", 4),
    **dict.fromkeys("五伍", 5),
    **dict.fromkeys("六陆", 6),
    **dict.fromkeys("七柒", 7),
    **dict.fromkeys("八捌", 8),
    **dict.fromkeys("九玖", 9),
}
_UNITS = {**dict.fromkeys("十拾", 10), **dict.fromkeys("百佰", 100), **dict.fromkeys("千仟", 1000)}
_NUMERAL_CHARS = frozenset(_DIGITS) | frozenset(_UNITS)
# The characters of a number written in Chinese, for patterns that look for one.
NUMERAL_CHARACTERS = "".join(sorted(_NUMERAL_CHARS))
MAX_DIGITS = 20  # a longer run of digits is no number anyone texts us (a phone number has 11-13)
_TOKEN = re.compile(r"\S+")

_CJK_RANGES = (
    (0x3400, 0x4DBF),  # Extension A
    (0x4E00, 0x9FFF),
    (0x20000, 0x2A6DF),  # Extension B
    (0x2A700, 0x2EE5F),  # Extensions C, D, E, F, I
    (0x30000, 0x323AF),  # Extensions G, H
)


def normalize(text: str) -> str:
    """`１，１２３。` gives `1 123`, `【中国移动】ＹＥＳ` gives `YES`; case and Chinese numerals are kept."""
    # Invisible characters go before NFKC, so a zero-width space inside `1\u200b23` cannot split a token.
    # NFKC produces none of them, and removing characters after it could leave text NFKC would change.
    text = "".join(ch for ch in text if not _is_invisible(ch))
    text = unicodedata.normalize("NFKC", text)
    # After NFKC because the vertical forms ︻︼ become 【】. A space rather than nothing, so the words
    # either side stay apart.
    previous: str | None = None
    while previous != text:
        previous, text = text, _SIGNATURE.sub(" ", text)
    kept = "".join(ch if _keeps(text, i) else " " for i, ch in enumerate(text))
    return " ".join(kept.split())


def _is_invisible(ch: str) -> bool:
    category = unicodedata.category(ch)
    if category == "Cc":
        return not ch.isspace()
    # Cf: zero-width space/joiners, BOM, soft hyphen; Cs: lone surrogates, which have no text meaning;
    # Me and variation selectors: keycap and emoji styling, so `1️⃣` reads as `1`.
    return category in ("Cf", "Cs", "Me") or 0xFE00 <= ord(ch) <= 0xFE0F or 0xE0100 <= ord(ch) <= 0xE01EF


def _keeps(text: str, i: int) -> bool:
    if text[i] == "+":
        # Only as the leading plus of a phone number; elsewhere it separates, as other punctuation does.
        follows_token = i > 0 and _is_token_char(text[i - 1])
        return not follows_token and i + 1 < len(text) and text[i + 1] in "0123456789"
    return _is_token_char(text[i])


def _is_token_char(ch: str) -> bool:
    # Combining marks stay with their letter; feature-phone users type # and * as part of codes (`*123#`).
    return ch in "#*" or unicodedata.category(ch)[0] in "LNM"


def chinese_numeral_to_int(token: str) -> int | None:
    """`三百五` gives 350, `一二三` 123, `两千` 2000; a token not wholly of Chinese numerals gives None."""
    if not token or not set(token) <= _NUMERAL_CHARS:
        return None
    if not any(ch in _UNITS for ch in token):
        # Read out digit by digit, as phone numbers and job numbers are; no longer than a phone number
        # with its country code (and int() refuses more than 4,300 digits).
        if len(token) > MAX_DIGITS:
            return None
        return int("".join(str(_DIGITS[ch]) for ch in token))
    return _positional(token)


def _positional(token: str) -> int | None:
    total = 0
    last_unit = 10_000  # above every unit, so the first unit is always allowed
    after_zero = False
    i, n = 0, len(token)
    while i < n:
        ch = token[i]
        if ch in _ZERO:
            # A single 零 marks a skipped place (三百零五); leading, doubled or trailing ones are malformed.
            if total == 0 or after_zero or i == n - 1:
                return None
            after_zero = True
            i += 1
            continue
        if ch in _UNITS:
            # Only 十 stands without a multiplier, and only first: 十二 is 12, but 百 alone is not 100.
            if i != 0 or _UNITS[ch] != 10:
                return None
            total, last_unit = 10, 10
            i += 1
            continue
        digit = _DIGITS[ch]
        i += 1
        if i < n:
            if token[i] not in _UNITS:
                return None
            unit = _UNITS[token[i]]
            # Units must fall (千 > 百 > 十); after 零 at least one place must have been skipped.
            if unit >= last_unit or (after_zero and unit * 10 >= last_unit):
                return None
            total += digit * unit
            last_unit, after_zero = unit, False
            i += 1
            continue
        # A final bare digit.
        if after_zero:
            return total + digit if last_unit >= 100 else None
        # Colloquially a bare digit right after 百 or 千 is the next place down: 三百五 is 350, 一千二 1200.
        return total + digit * (last_unit // 10 if last_unit >= 100 else 1)
    return total


def numerals_to_digits(text: str) -> str:
    """Replace each whitespace-separated token made wholly of Chinese numerals by its decimal value."""

    def convert(match: re.Match[str]) -> str:
        value = chinese_numeral_to_int(match.group())
        return match.group() if value is None else str(value)

    return _TOKEN.sub(convert, text)


def is_cjk(ch: str) -> bool:
    """True for one CJK unified ideograph (any extension); 〇, 【 and other CJK symbols are not."""
    return len(ch) == 1 and any(lo <= ord(ch) <= hi for lo, hi in _CJK_RANGES)


def has_cjk(text: str) -> bool:
    """True when `text` contains at least one CJK unified ideograph."""
    return any(is_cjk(ch) for ch in text)
