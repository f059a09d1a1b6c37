"""SMS part counting: GSM 03.38 and UCS-2 boundaries, escape and surrogate pairs never split."""

from __future__ import annotations

import math
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.sms.segments import (
    GSM7_BASIC_TABLE,
    GSM7_EXTENSION_CHARS,
    GSM7_PART,
    GSM7_SINGLE,
    UCS2_PART,
    UCS2_SINGLE,
    SegmentCount,
    count_segments,
    fits,
    is_gsm7,
)

EMOJI = "😀"  # U+1F600, a surrogate pair in UTF-16


def test_constants() -> None:
    assert (GSM7_SINGLE, GSM7_PART, UCS2_SINGLE, UCS2_PART) == (160, 153, 70, 67)


def test_basic_table_is_the_03_38_default_alphabet_in_code_order() -> None:
    assert len(GSM7_BASIC_TABLE) == 128
    assert len(set(GSM7_BASIC_TABLE)) == 128
    expected = {
        0x00: "COMMERCIAL AT",
        0x09: "LATIN CAPITAL LETTER C WITH CEDILLA",
        0x0A: "LINE FEED",
        0x0D: "CARRIAGE RETURN",
        0x10: "GREEK CAPITAL LETTER DELTA",
        0x11: "LOW LINE",
        0x1A: "GREEK CAPITAL LETTER XI",
        0x1F: "LATIN CAPITAL LETTER E WITH ACUTE",
        0x24: "CURRENCY SIGN",
        0x40: "INVERTED EXCLAMATION MARK",
        0x5B: "LATIN CAPITAL LETTER A WITH DIAERESIS",
        0x5F: "SECTION SIGN",
        0x60: "INVERTED QUESTION MARK",
        0x7F: "LATIN SMALL LETTER A WITH GRAVE",
    }
    for code, name in expected.items():
        ch = GSM7_BASIC_TABLE[code]
        assert ch in "\n\r" or unicodedata.name(ch) == name, hex(code)
    assert GSM7_BASIC_TABLE[0x0A] == "\n" and GSM7_BASIC_TABLE[0x0D] == "\r"
    for offset in range(10):
        assert GSM7_BASIC_TABLE[0x30 + offset] == str(offset)
    for offset in range(26):
        assert GSM7_BASIC_TABLE[0x41 + offset] == chr(ord("A") + offset)
        assert GSM7_BASIC_TABLE[0x61 + offset] == chr(ord("a") + offset)


def test_every_basic_character_costs_one_septet() -> None:
    for ch in GSM7_BASIC_TABLE.replace("\x1b", ""):
        assert count_segments(ch) == SegmentCount("GSM-7", 1, 1), repr(ch)


@pytest.mark.parametrize("ch", list(GSM7_EXTENSION_CHARS))
def test_extension_characters_cost_two_septets(ch: str) -> None:
    assert count_segments(ch) == SegmentCount("GSM-7", 2, 1)


@pytest.mark.parametrize("ch", ["€", "[", "]", "{", "}", "\\", "^", "~", "|", "\f"])
def test_named_extension_characters(ch: str) -> None:
    assert count_segments("a" + ch).units == 3


@pytest.mark.parametrize(
    "ch",
    [
        "ç",  # only the capital Ç is in the table
        "`",
        "\t",
        "\x1b",  # the escape itself is not text
        "á",
        "¢",
        "Α",  # Greek capital alpha, not Latin A
        "中",
        "，",
        EMOJI,
    ],
)
def test_characters_outside_gsm7_force_ucs2(ch: str) -> None:
    assert not is_gsm7(ch)
    assert count_segments("hello " + ch).encoding == "UCS-2"


def test_empty_text_is_one_segment() -> None:
    assert count_segments("") == SegmentCount("GSM-7", 0, 1)
    assert fits("", 1)


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (160, 1), (161, 2), (GSM7_PART * 2, 2), (307, 3), (GSM7_PART * 3, 3), (460, 4)],
)
def test_gsm7_boundaries(length: int, segments: int) -> None:
    assert count_segments("a" * length) == SegmentCount("GSM-7", length, segments)


def test_extension_characters_count_toward_the_single_limit() -> None:
    assert count_segments("a" * 158 + "€") == SegmentCount("GSM-7", 160, 1)
    assert count_segments("a" * 159 + "€") == SegmentCount("GSM-7", 161, 2)


def test_escape_pair_straddling_a_part_boundary_moves_to_the_next_part() -> None:
    # 306 septets would be two parts by ceil(306/153), but € cannot start at septet 153 of part one.
    straddling = "a" * 152 + "€" + "a" * 152
    assert count_segments(straddling) == SegmentCount("GSM-7", 306, 3)
    aligned = "a" * 153 + "€" + "a" * 151
    assert count_segments(aligned) == SegmentCount("GSM-7", 306, 2)


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (70, 1), (71, 2), (UCS2_PART * 2, 2), (135, 3), (UCS2_PART * 3, 3), (202, 4)],
)
def test_ucs2_boundaries_with_chinese(length: int, segments: int) -> None:
    assert count_segments("中" * length) == SegmentCount("UCS-2", length, segments)


def test_emoji_counts_two_utf16_units() -> None:
    assert count_segments(EMOJI) == SegmentCount("UCS-2", 2, 1)
    assert count_segments("中" * 68 + EMOJI) == SegmentCount("UCS-2", 70, 1)
    assert count_segments("中" * 69 + EMOJI) == SegmentCount("UCS-2", 71, 2)


def test_surrogate_pair_is_never_split_across_parts() -> None:
    # 134 units would be two parts by ceil(134/67), but the emoji cannot start at unit 67 of part one.
    straddling = "中" * 66 + EMOJI + "中" * 66
    assert count_segments(straddling) == SegmentCount("UCS-2", 134, 3)
    aligned = "中" * 67 + EMOJI + "中" * 65
    assert count_segments(aligned) == SegmentCount("UCS-2", 134, 2)


def test_one_chinese_character_turns_long_english_into_ucs2() -> None:
    english = "Job offer: plumber, Taixi, 300 yuan/day. Reply 1 123 to accept." * 2
    assert count_segments(english).encoding == "GSM-7"
    assert count_segments(english).segments == 1
    mixed = count_segments(english + "中")
    assert mixed.encoding == "UCS-2"
    assert mixed.units == len(english) + 1
    assert mixed.segments == math.ceil((len(english) + 1) / UCS2_PART)


def test_fits() -> None:
    assert fits("a" * 160, 1)
    assert not fits("a" * 161, 1)
    assert fits("a" * 161, 2)
    assert fits("中" * 134, 2)
    assert not fits("中" * 135, 2)
    assert not fits("a", 0)


@given(st.integers(min_value=0, max_value=2_000))
def test_gsm7_ascii_letters_follow_the_formula(n: int) -> None:
    expected = 1 if n <= GSM7_SINGLE else math.ceil(n / GSM7_PART)
    assert count_segments("x" * n) == SegmentCount("GSM-7", n, expected)


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", max_size=1_000))
def test_gsm7_ascii_letters_text_follows_the_formula(text: str) -> None:
    n = len(text)
    expected = 1 if n <= GSM7_SINGLE else math.ceil(n / GSM7_PART)
    assert count_segments(text) == SegmentCount("GSM-7", n, expected)


_MIXED = st.text(
    alphabet=st.one_of(
        st.sampled_from(GSM7_BASIC_TABLE.replace("\x1b", "") + GSM7_EXTENSION_CHARS),
        st.sampled_from("中文零工市场，。" + EMOJI + "🚧"),
        st.characters(codec="utf-8"),
    ),
    max_size=400,
)


@given(_MIXED, _MIXED)
def test_segments_never_fall_as_text_is_appended(text: str, more: str) -> None:
    before, after = count_segments(text), count_segments(text + more)
    assert after.segments >= before.segments


@given(_MIXED)
def test_segments_never_fall_one_character_at_a_time(text: str) -> None:
    previous = 1
    for end in range(len(text) + 1):
        current = count_segments(text[:end]).segments
        assert current >= previous
        previous = current


@given(_MIXED)
def test_units_and_parts_are_consistent(text: str) -> None:
    count = count_segments(text)
    single, part = (GSM7_SINGLE, GSM7_PART) if count.encoding == "GSM-7" else (UCS2_SINGLE, UCS2_PART)
    if count.units <= single:
        assert count.segments == 1
    else:
        # Packing wastes at most one unit per part, at each boundary a pair would straddle.
        assert math.ceil(count.units / part) <= count.segments <= math.ceil(count.units / (part - 1))
    if count.encoding == "UCS-2":
        assert count.units == len(text.encode("utf-16-le", "surrogatepass")) // 2
