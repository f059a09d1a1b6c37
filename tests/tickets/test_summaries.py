"""Every machine-made summary has words in Chinese and English, and the Chinese words are Chinese:
a walk over every summary key, with the fields of each filled as a ticket would fill them."""

from __future__ import annotations

import re

import pytest

from dispatch.console.tickets.summaries import render
from dispatch.i18n import catalogue
from dispatch.ivr import flows
from dispatch.ivr.turn import FLOW_STEPS
from dispatch.models import TicketKind
from dispatch.sms import registration
from dispatch.tickets import kinds
from dispatch.tickets.summaries import KEYS, Summary, from_details

CJK = re.compile(r"[\u4e00-\u9fff]")
# Two English words in a row: a sentence (or part of one) left in English.
ENGLISH_WORDS = re.compile(r"[A-Za-z]{2,}[\s,;:]+[A-Za-z]{2,}")

# A value for every field a summary takes, as a machine would record it: names and SMS bodies in
# Chinese (as people write them), codes and counts as numbers, steps and flows as their codes.
SAMPLE_FIELDS = {
    "code": "101",
    "name": "张三",
    "employer": "王老板",
    "phone": "+8613800138000",
    "trade": {"zh": "搬运", "en": "porter"},
    "filled": 1,
    "headcount": 3,
    "seq": 2,
    "owed": 600,
    "missing": ["trade", "date", "pay", "place"],
    "body": "明天要人",
    "step": "headcount",
    "flow": "job",
    "count": 3,
    "queue_result": "queue-full",
    "ticket": 42,
    "start": "12-02 07:00",
}


def sample(key: str) -> Summary:
    return Summary.of(key, **{field: SAMPLE_FIELDS[field] for field in KEYS[key]})


@pytest.mark.parametrize("key", sorted(KEYS))
def test_every_summary_reads_in_chinese_without_english(key):
    words = render(sample(key), "zh")
    assert CJK.search(words), words
    assert not ENGLISH_WORDS.search(words), words
    assert "{" not in words and "tickets.summary" not in words


@pytest.mark.parametrize("key", sorted(KEYS))
def test_every_summary_reads_in_english(key):
    words = render(sample(key), "en")
    assert "{" not in words and "tickets.summary" not in words
    assert ENGLISH_WORDS.search(words), words
    chinese = set(CJK.findall(words))
    assert chinese <= set("".join(str(value) for value in SAMPLE_FIELDS.values())) | set("搬运"), words


def test_the_fields_are_worded_in_the_agents_language():
    summary = Summary.of("job_request_missing", missing=["trade", "place"], body="招人")
    assert render(summary, "zh") == "招工短信没能登记，缺工种、地点：招人"
    assert render(summary, "en") == "Job request by SMS not taken, missing trade, place: 招人"
    part_way = Summary.of("call_back_part_way", flow="register", step="min_pay")
    assert render(part_way, "zh") == "电话求职登记中途挂断（停在“最低日薪”），请回拨"
    escalated = sample("unfilled_escalated")
    assert "（搬运）" in render(escalated, "zh") and "(porter)" in render(escalated, "en")
    assert "600元" in render(sample("wage_case_none"), "zh")


def test_the_texts_and_the_keys_are_the_same_set():
    for language in ("zh", "en"):
        texts = {key.removeprefix("tickets.summary.") for key in catalogue(language)}
        worded = {key for key in texts if "." not in key and f"tickets.summary.{key}" in catalogue(language)}
        assert worded == set(KEYS), language


def test_every_step_and_flow_a_call_or_a_text_can_stop_at_has_words():
    steps = set(flows.STEPS) | set(registration.STEPS) | {step for s in FLOW_STEPS.values() for step in s}
    zh = catalogue("zh")
    assert sorted(step for step in steps if f"tickets.step.{step}" not in zh) == []
    assert sorted(flow for flow in ("menu", *FLOW_STEPS, "manage") if f"tickets.flow.{flow}" not in zh) == []


def test_a_summary_takes_exactly_the_fields_of_its_words():
    with pytest.raises(ValueError, match="no ticket summary"):
        Summary.of("caller_asked_nicely")
    with pytest.raises(ValueError, match="takes"):
        Summary.of("menu_failed")
    with pytest.raises(ValueError, match="takes"):
        Summary.of("agent_asked", reason="x")


def test_tickets_made_before_summaries_were_kept_are_read_from_their_details():
    details = {"job_code": "105", "name": "李四", "employer": "王老板", "paid": "part", "owed": 600}
    assert from_details("wage_case", details) == Summary(
        "wage_case_part", {"code": "105", "name": "李四", "employer": "王老板", "owed": 600}
    )
    assert from_details("follow_up", {"job_code": "1", "party": "nobody"}) is None
    assert from_details("voicemail", details) is None
    assert from_details("held_job", {"reason": "employer_held"}) is None  # no job code: stored words


def test_priority_comes_from_the_kind_and_the_summary():
    assert kinds.priority(TicketKind.UNPARSED_SMS) == 3
    assert kinds.priority(TicketKind.FAILED_SMS) == 2
    assert kinds.priority(TicketKind.CALL_BACK, "call_back_part_way") == 2
    assert kinds.priority(TicketKind.CALL_BACK, "call_back_at_menu") == 4
    assert kinds.priority(TicketKind.UNFILLED_JOB, "unfilled_after_start") == 1
    assert kinds.priority(TicketKind.INSURANCE, "insurance_placed") == 4
    assert kinds.priority(TicketKind.INSURANCE, "insurance_not_placed") == 2
    assert kinds.priority(TicketKind.HELD_JOB, "held_job_wage_case", urgent=True) == 1
    assert set(kinds.PRIORITY) == set(TicketKind)
    assert set(kinds.BY_SUMMARY) <= set(KEYS)
