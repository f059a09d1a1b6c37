"""Reply normalisation and Chinese numerals, as the SMS reply parser relies on them."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dispatch.sms.normalize import (
    chinese_numeral_to_int,
    has_cjk,
    is_cjk,
    normalize,
    numerals_to_digits,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # full-width forms
        ("１ １２３", "1 123"),
        ("ＹＥＳ", "YES"),
        ("ｙｅｓ", "yes"),
        ("１　１２３", "1 123"),
        # carrier signatures
        ("【中国移动】1 123", "1 123"),
        ("1 123【中国联通】", "1 123"),
        ("接【签名】受", "接 受"),
        ("【外【内】层】Y", "Y"),
        ("︻中国电信︼1 123", "1 123"),  # vertical presentation forms NFKC-map to 【】
        # punctuation between tokens separates, around the text it goes
        ("1，123", "1 123"),
        ("1,123。", "1 123"),
        ("Y-123", "Y 123"),
        ("1、123！", "1 123"),
        ("“接”", "接"),
        ("《1》（123）", "1 123"),
        ("...1 123!!!", "1 123"),
        ("1……123", "1 123"),
        ("'Y';\"123\"", "Y 123"),
        ("1：123；", "1 123"),
        # whitespace of every kind collapses
        ("  1 \t\n 123\r\n", "1 123"),
        ("1\u3000\u3000123", "1 123"),
        ("1\u00a0123", "1 123"),
        # zero-width and control characters disappear without splitting tokens
        ("1\u200b23", "123"),
        ("\ufeff1 123", "1 123"),
        ("12\u200d3", "123"),
        ("1\x0023", "123"),
        ("1\x07 123", "1 123"),
        ("1\ufe0f\u20e3 123", "1 123"),  # keycap emoji digit
        # kept inside tokens
        ("*123#", "*123#"),
        ("+8613800138000", "+8613800138000"),
        ("＋８６ １３８", "+86 138"),
        ("a+86", "a 86"),
        ("1+1", "1 1"),
        ("+Y", "Y"),
        ("注册 水电工 太西", "注册 水电工 太西"),
        ("café", "café"),
        ("cafe\u0301", "café"),
        # case and Chinese numerals are left for the parser
        ("Yes", "Yes"),
        ("接 一二三", "接 一二三"),
        ("三百五十", "三百五十"),
        # nothing left
        ("", ""),
        ("  ", ""),
        ("。！？", ""),
        ("【中国移动】", ""),
        ("😀👍", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_tolerates_lone_surrogates() -> None:
    assert normalize("1\ud83d 123") == "1 123"


_ANY_TEXT = st.text(max_size=1_600)
_REPLY_LIKE = st.text(
    alphabet=st.one_of(
        st.sampled_from("0123456789１２３ＹＮyn接不张三百五十两千零〇 \u3000\t\n+#*-.,"),
        st.sampled_from("，。！？、；：“”‘’（）《》…【】︻︼"),
        st.sampled_from("\u200b\u200d\ufeff\ufe0f\u20e3\u0301\u0308😀"),
        st.characters(),
    ),
    max_size=200,
)


@given(st.one_of(_ANY_TEXT, _REPLY_LIKE))
@example("x" * 1_600)
@example("😀" * 1_600)
@example("e【x】\u0301")
@example("【【】】】【【")
@example("++86 #+86 ++")
def test_normalize_is_idempotent_and_trimmed(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert once == once.strip()
    assert "  " not in once
    assert unicodedata.normalize("NFKC", once) == once


@given(st.text(min_size=1_600, max_size=1_600))
def test_normalize_handles_long_text(text: str) -> None:
    normalize(text)


@given(_REPLY_LIKE)
def test_normalize_output_is_only_tokens_and_single_spaces(text: str) -> None:
    normalized = normalize(text)
    for token in normalized.split(" ") if normalized else []:
        assert token
        for i, ch in enumerate(token):
            assert ch in "#*" or (ch == "+" and i == 0) or unicodedata.category(ch)[0] in "LNM", repr(ch)


@pytest.mark.parametrize(
    ("token", "value"),
    [
        ("零", 0),
        ("〇", 0),
        ("三", 3),
        ("两", 2),
        ("十", 10),
        ("十二", 12),
        ("一十二", 12),
        ("二十", 20),
        ("二十五", 25),
        ("九十九", 99),
        ("一百", 100),
        ("两百", 200),
        ("三百五", 350),
        ("三百五十", 350),
        ("三百零五", 305),
        ("三百〇五", 305),
        ("一千", 1000),
        ("一千二", 1200),
        ("一千二百", 1200),
        ("一千二百五", 1250),
        ("一千二百三十四", 1234),
        ("一千零五", 1005),
        ("一千零五十", 1050),
        ("两千", 2000),
        ("一二三", 123),
        ("一三八零零一三八零零零", 13800138000),
        ("〇〇七", 7),
        ("零三", 3),
        ("壹", 1),
        ("拾", 10),
        ("贰拾伍", 25),
        ("叁佰伍拾", 350),
        ("壹仟贰佰", 1200),
        ("肆陆柒捌玖", 46789),
    ],
)
def test_chinese_numeral_to_int(token: str, value: int) -> None:
    assert chinese_numeral_to_int(token) == value


@pytest.mark.parametrize(
    "token",
    [
        "",
        "张三",
        "三个",
        "3",
        "三3",
        "百",
        "千",
        "十十",
        "百十",
        "三百三百",
        "十百",
        "二三百",
        "零十",
        "三百零",
        "三百零零五",
        "十零五",
        "一千零二百",
        "一百十",
        "万",
        "三 百",
    ],
)
def test_chinese_numeral_to_int_rejects(token: str) -> None:
    assert chinese_numeral_to_int(token) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("接 一二三", "接 123"),
        ("注册 水电工 太西 三百 张三", "注册 水电工 太西 300 张三"),
        ("1 一二三", "1 123"),
        ("不 三百五", "不 350"),
        ("张三 三个 三", "张三 三个 3"),
        ("", ""),
        ("1 123", "1 123"),
    ],
)
def test_numerals_to_digits(text: str, expected: str) -> None:
    assert numerals_to_digits(text) == expected


@given(_REPLY_LIKE)
def test_numerals_to_digits_is_idempotent_on_normalized_text(text: str) -> None:
    once = numerals_to_digits(normalize(text))
    assert numerals_to_digits(once) == once


@pytest.mark.parametrize(
    ("ch", "expected"),
    [
        ("中", True),
        ("一", True),
        ("㐀", True),  # Extension A
        ("𠀀", True),  # Extension B
        ("〇", False),  # CJK symbols block
        ("【", False),
        ("。", False),
        ("\u3000", False),
        ("ア", False),
        ("a", False),
        ("1", False),
        ("", False),
        ("中文", False),
    ],
)
def test_is_cjk(ch: str, expected: bool) -> None:
    assert is_cjk(ch) is expected


def test_has_cjk() -> None:
    assert has_cjk("1 接")
    assert not has_cjk("1 123 YES")
    assert not has_cjk("〇【】。")
    assert not has_cjk("")
