"""The simulator's texts: Chinese and English have the same keys, and every key the templates and the
page script use exists (a missing one would show its key on the page)."""

from __future__ import annotations

import re
from pathlib import Path

import dispatch.sim
from dispatch import i18n
from dispatch.models import MessageStatus, WorkerStatus

SIM_DIR = Path(dispatch.sim.__file__).parent
ENDINGS = ("hangup", "end", "reject", "error")
# Event kinds the server sends that the script shows with a text of the same name.
EVENT_KINDS = ("timeout", "silence", "recorded", "beep", "enqueued", "agent_answered", "left_queue")


def test_both_languages_have_the_same_keys() -> None:
    assert set(i18n.catalogue("zh")) == set(i18n.catalogue("en"))


def test_every_key_the_templates_use_exists() -> None:
    used = set()
    for path in (SIM_DIR / "templates").rglob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*['"]([a-z_.]+)['"]\s*[,)]""", path.read_text()))
    assert used and not used - set(i18n.catalogue("zh"))
    dynamic = {i18n.label_key(status) for status in MessageStatus}
    dynamic |= {i18n.label_key(status) for status in WorkerStatus}
    assert not dynamic - set(i18n.catalogue("zh"))


def test_every_text_the_script_shows_exists() -> None:
    script = (SIM_DIR / "static" / "sim.js").read_text()
    used = set(re.findall(r"""\btext\(\s*"([a-z_]*[a-z])\"""", script))  # ended_ + reason: below
    used |= {f"ended_{reason}" for reason in ENDINGS} | set(EVENT_KINDS) | {"no_keys", "pressed"}
    assert {"dialling", "hint_digits", "state_enqueued"} <= used
    assert not {f"call_js.{key}" for key in used} - set(i18n.catalogue("zh"))
