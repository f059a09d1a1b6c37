"""The language list and the market's time zone are defined once, in dispatch/i18n, and the words of
pages, SMS and voice are found through it alone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dispatch import i18n
from dispatch.i18n.catalogue import load
from dispatch.models import Language
from dispatch.settings import Settings, SettingsError

DISPATCH = Path(i18n.__file__).resolve().parent.parent
I18N = DISPATCH / "i18n"
# A language tuple, list or set written out: ("zh", "en"), ["en", "zh"], {"zh", "en"}.
LANGUAGE_LIST = re.compile(r"""[(\[{]\s*['"](zh|en)['"]\s*,\s*['"](zh|en)['"]\s*,?\s*[)\]}]""")


def sources() -> list[Path]:
    return sorted(path for path in DISPATCH.rglob("*.py") if I18N not in path.parents)


def found(pattern: re.Pattern[str]) -> list[str]:
    return [
        f"{path.relative_to(DISPATCH)}:{number}: {line.strip()}"
        for path in sources()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]


def test_the_sources_are_found() -> None:
    assert len(sources()) > 100
    assert found(re.compile(r"market_zone\(")), "the pattern finds the users of the one zone"


def test_no_module_outside_i18n_builds_a_time_zone() -> None:
    assert found(re.compile(r"\bZoneInfo\(")) == []


def test_no_module_outside_i18n_lists_the_languages() -> None:
    assert found(LANGUAGE_LIST) == []
    assert found(re.compile(r"^\s*LANGUAGES\s*[:=]")) == []


def test_no_module_outside_i18n_makes_a_template_environment_or_reads_texts() -> None:
    assert found(re.compile(r"\bEnvironment\(")) == []
    assert found(re.compile(r"texts/\{?\w*\}?\.toml|\.glob\([^)]*texts")) == []


def test_the_languages_are_the_stored_ones_chinese_first() -> None:
    assert tuple(language.value for language in Language) == i18n.LANGUAGES
    assert i18n.DEFAULT_LANGUAGE == i18n.LANGUAGES[0] == "zh"


@pytest.mark.parametrize(
    ("chosen", "picked"),
    [("zh", "zh"), ("en", "en"), ("fr", "zh"), ("", "zh"), (None, "zh"), ("EN", "zh"), (1, "zh")],
)
def test_pick_language_keeps_a_known_language_else_chinese(chosen: object, picked: str) -> None:
    assert i18n.pick_language(chosen) == picked


def test_the_market_zone_is_one_object_per_name() -> None:
    settings = Settings.load({"MARKET_TIMEZONE": "Asia/Shanghai"})
    assert i18n.market_zone(settings) is i18n.zone("Asia/Shanghai")
    assert i18n.market_zone(settings).key == "Asia/Shanghai"
    with pytest.raises(SettingsError, match="not a time zone"):
        Settings.load({"MARKET_TIMEZONE": "Mars/Olympus"})


def test_one_fallback_for_pages_sms_and_voice() -> None:
    """A language nobody speaks gets Chinese everywhere, not an error or a key."""
    assert i18n.translate("format.today", "fr") == i18n.translate("format.today", "zh") == "今天"
    sms = {language: i18n.render_sms("opt_out_confirm", language, sig="X") for language in ("zh", "en", "fr")}
    assert sms["fr"] == sms["zh"] != sms["en"]
    assert i18n.prompt("welcome", "fr") == i18n.prompt("welcome", "zh")


def test_the_catalogue_holds_console_simulator_and_enum_texts() -> None:
    zh = i18n.catalogue("zh")
    assert {"tickets.title", "index.title", "call_js.dialling", "enum.job_status.open"} <= set(zh)
    assert i18n.translate("missing.key", "zh") == "missing.key"
    assert i18n.translate("format.money", "en", amount="300") == "¥300"


def test_a_key_in_two_files_is_refused(tmp_path: Path) -> None:
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    first.write_text('[queue]\ntitle = "一"\n', encoding="utf-8")
    second.write_text('[queue]\ntitle = "二"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"queue\.title"):
        load([first, second])
