"""Every stored value a page can show has a name in Chinese and in English (`label`), and the pages
show that name, never the value itself."""

from __future__ import annotations

import enum
import re
from pathlib import Path

import pytest
from flask import render_template_string, session

import dispatch.console
import dispatch.models
import dispatch.sim
from dispatch import i18n
from dispatch.ivr import flows, followup, worker_line
from dispatch.ivr.menu import FLOWS
from dispatch.models import JobStatus, MessageStatus, OfferStatus, WageCaseStatus, WorkerStatus
from dispatch.voice.services import FLOW as FOLLOW_UP_FLOW

CJK = re.compile(r"[\u4e00-\u9fff]")
ENUMS = sorted(
    (
        kind
        for kind in vars(dispatch.models).values()
        if isinstance(kind, type) and issubclass(kind, enum.Enum) and kind.__module__.startswith("dispatch.")
    ),
    key=lambda kind: kind.__name__,
)
CALL_FLOWS = sorted(
    {"menu", FOLLOW_UP_FLOW, worker_line.FLOW, *flows.OUTBOUND_FLOWS, *(flow for flow, _ in FLOWS.values())}
)
CALL_STEPS = sorted({*flows.STEPS, *followup.STEPS})
PAGE_TEMPLATES = sorted(
    path
    for root in (Path(dispatch.console.__file__).parent, Path(dispatch.sim.__file__).parent)
    for path in root.glob("**/templates/**/*.html")
)


def names() -> list[tuple[str, str]]:
    """(key, what it names) for every enum member, call flow and call step."""
    every = [(i18n.label_key(member), repr(member)) for kind in ENUMS for member in kind]
    every += [(f"enum.{i18n.CALL_FLOW}.{flow}", f"call flow {flow}") for flow in CALL_FLOWS]
    every += [(f"enum.{i18n.CALL_STEP}.{step}", f"call step {step}") for step in CALL_STEPS]
    return every


def test_the_walk_finds_the_enums_flows_and_steps() -> None:
    assert {WorkerStatus, JobStatus, OfferStatus, MessageStatus, WageCaseStatus} <= set(ENUMS)
    assert len(ENUMS) >= 20
    assert {"menu", "job", "register", "manage", "followup", "worker", "offer_call", "notice_call"} == set(
        CALL_FLOWS
    )
    assert {"trade", "review", "queue_result", "paid", "stars", "done"} <= set(CALL_STEPS)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_member_of_every_enum_and_every_call_step_has_a_name(language: str) -> None:
    texts = i18n.catalogue(language)
    assert [f"{key} ({what})" for key, what in names() if not texts.get(key, "").strip()] == []


def test_chinese_names_are_chinese_and_english_names_are_not() -> None:
    zh, en = i18n.catalogue("zh"), i18n.catalogue("en")
    assert [key for key, _ in names() if not CJK.search(zh[key])] == []
    assert [key for key, _ in names() if CJK.search(en[key]) or zh[key] == en[key]] == []


def test_no_name_is_left_for_a_value_that_does_not_exist() -> None:
    known = {key for key, _ in names()}
    for language in i18n.LANGUAGES:
        stale = {key for key in i18n.catalogue(language) if key.startswith("enum.")} - known
        assert sorted(stale) == []


def test_label_names_a_member_in_the_language_asked() -> None:
    assert i18n.group_of(WageCaseStatus) == "wage_case_status"
    assert i18n.label_key(JobStatus.OPEN) == "enum.job_status.open"
    assert i18n.label(JobStatus.OPEN, "zh") == "招工中"
    assert i18n.label(JobStatus.OPEN, "en") == "Hiring"
    assert i18n.label(JobStatus.OPEN, "fr") == "招工中"
    assert i18n.label(None, "en") == ""


def test_values_kept_as_strings_are_named_too_and_an_unknown_one_shows_as_it_is() -> None:
    assert i18n.step_label("trade", "zh") == "选工种"
    assert i18n.step_label("trade", "en") == "Choosing the trade"
    assert i18n.flow_label("register", "zh") == "登记求职"
    assert i18n.label_for("wage_case_status", "mediating", "en") == "Mediating"
    assert i18n.step_label("a_retired_step", "zh") == "a_retired_step"
    assert i18n.step_label(None, "zh") == ""


def test_pages_call_label_in_the_page_language(app) -> None:
    template = "{{ label(status) }} · {{ step_label('review') }} · {{ value_label('job_status', 'filled') }}"
    with app.test_request_context("/console/"):
        zh = render_template_string(template, status=WorkerStatus.PAUSED)
        session["lang"] = "en"
        en = render_template_string(template, status=WorkerStatus.PAUSED)
    assert (zh, en) == ("暂停派活 · 核对岗位 · 已招满", "Paused · Checking the job · Filled")


def test_no_page_prints_a_raw_enum_value() -> None:
    """`{{ x.status.value }}` may name a CSS class or a data attribute, never text an agent reads."""
    printed = re.compile(r"{{[^}]*\.value\s*}}")
    raw = []
    for path in PAGE_TEMPLATES:
        html = path.read_text(encoding="utf-8")
        for match in printed.finditer(html):
            before = html[: match.start()]
            inside_a_tag = before.rfind("<") > before.rfind(">")
            if not inside_a_tag:
                raw.append(f"{path.name}: {match.group(0)}")
    assert len(PAGE_TEMPLATES) > 30
    assert raw == []
