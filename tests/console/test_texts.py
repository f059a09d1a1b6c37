"""Every console text exists in Chinese and English, and every text a template asks for exists."""

from __future__ import annotations

import re
from pathlib import Path

import dispatch.console
from dispatch.i18n import catalogue, label_key
from dispatch.models import AgentRole, TicketKind, TicketOutcome, TicketStatus

LITERAL_KEY = re.compile(r"""\bt(?:_or)?\(\s*['"]([a-z_][a-z0-9_.]*)['"]\s*[,)]""")
# Keys that templates build from a value: every value must have its text.
BUILT_KEYS = {
    "tickets.kind_": [kind.value for kind in TicketKind],
    "tickets.status_": [status.value for status in TicketStatus],
    "tickets.outcome_": [outcome.value for outcome in TicketOutcome],
}
CONSOLE_DIR = Path(dispatch.console.__file__).parent


def template_files() -> list[Path]:
    return sorted(Path(CONSOLE_DIR).glob("**/templates/**/*.html"))


def test_chinese_and_english_have_the_same_keys():
    zh, en = catalogue("zh"), catalogue("en")
    assert sorted(set(zh) - set(en)) == []
    assert sorted(set(en) - set(zh)) == []
    assert all(text.strip() for text in [*zh.values(), *en.values()])


def test_every_literal_key_in_a_template_exists():
    zh = catalogue("zh")
    missing = {
        f"{path.relative_to(CONSOLE_DIR)}: {key}"
        for path in template_files()
        for key in LITERAL_KEY.findall(path.read_text(encoding="utf-8"))
        if key not in zh and not key.endswith("_")
    }
    assert sorted(missing) == []
    assert len(template_files()) >= 4


def test_every_built_key_exists():
    zh = catalogue("zh")
    missing = [
        prefix + value
        for prefix, values in BUILT_KEYS.items()
        for value in values
        if prefix + value not in zh
    ]
    missing += [label_key(role) for role in AgentRole if label_key(role) not in zh]
    assert missing == []


def test_placeholders_match_between_languages():
    zh, en = catalogue("zh"), catalogue("en")
    fields = re.compile(r"{(\w+)}")
    differ = [key for key in zh if sorted(fields.findall(zh[key])) != sorted(fields.findall(en[key]))]
    assert differ == []
