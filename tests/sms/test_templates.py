"""Every SMS template, rendered with the longest realistic values, fits its segment budget.

Chinese: at most 2 UCS-2 segments (134 code units). English: one GSM-7 segment (160 septets) and
nothing in it that would force the whole text into UCS-2.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from dispatch.catalogue import towns_in_number_order, trade_short_name, trades_in_menu_order
from dispatch.followup.blocks import SEQS_LISTED as BLOCK_SEQS_LISTED
from dispatch.followup.texts import MAX_PENDING_LISTED
from dispatch.i18n import SMS_TEMPLATE_DIR as TEMPLATE_DIR
from dispatch.i18n import render_sms as render
from dispatch.i18n import sms_template_names as template_names
from dispatch.insurance.providers import RefusalReason
from dispatch.matching.forwarding_target import REASONS as FORWARD_REASONS
from dispatch.matching.notices import MAX_ADDRESS, MAX_CODES_LISTED, WORKERS_PER_SMS
from dispatch.models import EventKind, Site, WorkerStatus
from dispatch.settings import PROJECT_ROOT
from dispatch.sms.normalize import has_cjk
from dispatch.sms.registration import MAX_NAME, MAX_TRADES, town_short_name
from dispatch.sms.segments import count_segments, is_gsm7
from dispatch.wages.claims import CODES_LISTED as CLAIM_CODES_LISTED
from tests.helpers import outbound_to, text_in

LANGUAGES = ("zh", "en")
LONG_NAMES = {"zh": "欧阳慕容司马诸葛上官", "en": "Ouyang Xia"}  # MAX_NAME characters
LONGEST_PAY = 99999  # more digits than any daily wage the dialogue accepts (MAX_PAY is 5000)
STATUSES = [status.value for status in WorkerStatus]
RETRY = (False, True)
MATCH_PHONE = "0351 8888 88888"  # a phone as phones.display() shows it, a little longer than any
# What an agent types on a person's page: the console caps its length (people.services), not this test.
# An event as the outreach form takes it (the console checks each event's own text: outreach.check_event).
EVENT_TITLES = {"zh": "电焊技能培训班", "en": "Welding skills camp"}
EVENT_PLACES = {"zh": "零工市场服务大厅二楼", "en": "Market hall, 2nd floor"}
AGENT_TEXT = {"zh": "请明天早上7点到市场大厅。", "en": "Please come to the market hall at 7 tomorrow."}

# A job passed on to a friend (转给朋友), and who passed it on.
FORWARDED_JOB = {"from_name", "from_phone", "trade", "date", "day_word", "hour", "minute", "days", "pay"}

# What an employer who just posted a job is told about its offers (dispatch.matching.in_time).
POSTING = {"no_time", "offers_at", "offers_next_day"}

# Held offers one merged text lists at worst (dispatch/sms/merging.py fits as many as the text has room for).
MERGED_FIT = {"zh": 3, "en": 2}

# What each template needs; a new template must be added here (see test_every_template_has_a_context).
NEEDS: dict[str, set[str]] = {
    "agent_text": {"text"},
    "arrival_employer": {"code", "name", "worker_phone", "arrived"},
    "arrival_ok": {"code"},
    "arrival_which": {"codes"},
    "counter_reg_confirm": {"trade_names", "area", "pay"},
    "event_already": {"event_title", "waiting"},
    "event_booked": {"event_title", "date", "hour", "minute", "place"},
    "event_cancelled": {"event_title"},
    "event_moved_up": {"event_title", "date", "hour", "minute", "place", "event_id"},
    "event_not_signed_up": {"event_id"},
    "event_reminder": {"event_title", "date", "hour", "minute", "place"},
    "event_unknown": {"event_id"},
    "event_waiting": {"event_title", "position"},
    "events_opt_in_confirm": set(),
    "events_opt_out_confirm": set(),
    "followup_already": {"code"},
    "followup_employer": {"code", "date", "seq", "name"},
    "followup_next": {"code", "missing", "wage"},
    "followup_reminder_employer": {"code", "seq", "name"},
    "followup_reminder_worker": {"code", "date", "trade", "missing"},
    "followup_retry": {"code", "party", "missing"},
    "followup_thanks_employer": {"code", "seq", "left", "ask_block"},
    "followup_block_done": {"code", "seq", "name"},
    "followup_block_which": {"code", "seqs"},
    "followup_thanks_worker": {"code", "wage"},
    "followup_which_employer": {"pending"},
    "followup_which_side": {"codes", "pending"},
    "followup_which_wage": {"code"},
    "followup_which_worker": {"codes"},
    "followup_worker": {"code", "date", "trade", "name"},
    "forward_done": {"code", "to_phone", "invited"},
    "forward_invite": FORWARDED_JOB | {"area"},
    "forward_offer": FORWARDED_JOB | {"area", "code"},
    "forward_refused": {"why", "code", "kept", "to_phone", "limit", "trade"},
    "help": set(),
    "how_to_post": set(),
    "how_to_register": set(),
    "insurance_refused": {"code", "trade", "reason"},
    "ivr_reg_confirm": {"trade", "area", "pay"},
    "job_cancelled": {"code", "trade", "date", "area"},
    "job_created": {"code", "held", "trade", "headcount", "date", "hour", "minute", "days", "pay", "area"}
    | POSTING,
    "job_request_confirm": {"retry", "code", "trade", "headcount", "date", "hour", "days", "pay", "area"},
    "job_request_dropped": {"code"},
    "job_request_expired": {"code"},
    "job_request_posted": {"code", "held"} | POSTING,
    "job_request_unclear": set(),
    "language_set": set(),
    "match_cancel_employer": {"name", "worker_phone", "code", "trade", "filled", "headcount"},
    "match_cancel_ok": {"code"},
    "match_cancel_over": {"code"},
    "match_closed": {"code", "cancelled"},
    "match_confirm_cancel": {"codes"},
    "match_declined": {"code"},
    "match_expired": {"code"},
    "match_full": {"code", "standby"},
    "match_offer_gone": {"code"},
    "match_overlap": {"code", "other_code"},
    "match_unfilled": {"code", "trade", "remaining"},
    "match_unknown_code": {"code", "codes"},
    "match_which_code": {"codes", "cancel"},
    "no_show_ok": {"code", "name", "worker_phone", "reoffered"},
    "no_show_unknown": {"code"},
    "no_show_which": {"code", "listed"},
    "no_show_worker": {"code"},
    "not_active": {"status"},
    "not_registered": set(),
    "not_understood": set(),
    "offer": {
        "reopened",
        "trade",
        "date",
        "day_word",
        "hour",
        "minute",
        "days",
        "pay",
        "area",
        "code",
        "reply_by",
    },
    "opt_in_confirm": set(),
    "opt_out_confirm": set(),
    "outreach_event": {
        "event_kind",
        "event_title",
        "date",
        "hour",
        "minute",
        "place",
        "capacity",
        "event_id",
    },
    "paused": set(),
    "placement_employer": {"code", "trade", "filled", "headcount", "placed"},
    "placement_insurance": {"code", "insurance", "insured_days"},
    "placement_worker": {
        "code",
        "trade",
        "date",
        "day_word",
        "hour",
        "minute",
        "address",
        "pay",
        "employer_name",
        "employer_phone",
    },
    "policy_menu": {"topics"},
    "policy_topic": {"title", "text"},
    "pull_jobs": {"jobs"},
    # offers a frequency limit held, sent as one text (dispatch/sms/merging.py: as many as fit)
    "offer_merged": {"offers"},
    "pull_none": {"trade"},
    "profile": {"name", "trade_names", "area", "pay", "status"},
    "reminder": {
        "soon",
        "code",
        "trade",
        "date",
        "day_word",
        "hour",
        "minute",
        "address",
        "pay",
        "employer_phone",
    },
    "reg_ask_area": {"retry", "towns"},
    "reg_ask_confirm": {"retry", "name", "trade_names", "area", "pay"},
    "reg_ask_name": {"retry"},
    "reg_ask_pay": {"retry"},
    "reg_ask_trade": {"retry", "trades"},
    "reg_done": set(),
    "reg_to_agent": set(),
    "resumed": set(),
    "worker_record": {"bookings", "more", "month_days", "month_pay"},
    "wage_case_closed": {"code", "case_result", "case_amount", "case_owed"},
    "wage_claim_already": {"code", "case_open"},
    "wage_claim_opened": {"code", "case_owed"},
    "wage_claim_which": {"claim_code", "claim_codes"},
}


def _config(name: str) -> dict[str, Any]:
    with (PROJECT_ROOT / "config" / name).open("rb") as file:
        return tomllib.load(file)


def _template_files(language: str) -> set[str]:
    return {path.name for path in (TEMPLATE_DIR / language).glob("*.txt")}


def _signature(runtime, language: str) -> str:
    settings = runtime.settings
    return settings.SMS_SIGNATURE_EN if language == "en" else settings.SMS_SIGNATURE_ZH


def _longest(values: list[str], count: int = 1) -> list[str]:
    return sorted(values, key=len, reverse=True)[:count]


def _pulled(session, language: str) -> dict[str, Any]:
    """A job as `找活` lists it, with the longest values it can have."""
    trades = trades_in_menu_order(session)
    towns = towns_in_number_order(session)
    sites = list(session.scalars(select(Site)))
    return {
        "code": "99999999",
        "trade": _longest([trade_short_name(t, language) for t in trades])[0],
        "pay": LONGEST_PAY,
        "area": _longest([town_short_name(site, language) for site in [*sites, *towns]])[0],
        "date": date(2026, 12, 31),
        "day_word": "",
        "hour": 23,
        "minute": 30,
    }


def _policy_menus(language: str) -> list[list[tuple[int, str]]]:
    """The `政策` menu with none to eight topics (the seeded ones, then two short ones): a carrier's
    template per length (the console keeps every menu within the budget: hall.policy.check)."""
    seeded = [(t["position"], t[f"title_{language}"]) for t in _config("policy_topics.toml")["topic"]]
    more = [(7, "求职登记"), (8, "其他")] if language == "zh" else [(7, "Sign up"), (8, "More")]
    topics = seeded + more
    return [topics[:count] for count in range(len(topics) + 1)]


def _contexts(session, runtime, template: str, language: str) -> list[dict[str, Any]]:
    """Every variant of `template` worth measuring, each with the longest values it can be given."""
    trades = trades_in_menu_order(session)
    towns = towns_in_number_order(session)
    sites = list(session.scalars(select(Site)))  # any site, villages included, can be a home area
    values: dict[str, list[Any]] = {
        "sig": [_signature(runtime, language)],
        "retry": list(RETRY),
        "status": STATUSES,
        "name": [LONG_NAMES[language]],
        "trade_names": [_longest([trade_short_name(t, language) for t in trades], MAX_TRADES)],
        "area": _longest([site.name(language) for site in sites]),
        "pay": [LONGEST_PAY],
        "trades": [[(t.ivr_digit, trade_short_name(t, language)) for t in trades]],
        "towns": [[(town.number, town_short_name(town, language)) for town in towns]],
        "trade": _longest([trade_short_name(t, language) for t in trades]),
        "code": ["99999999"],  # Job.code holds up to 8 digits
        "headcount": [99],
        "date": [date(2026, 12, 31)],  # two-digit month and day
        "hour": [23],
        "days": [60],
        "held": [False, True],
        "day_word": ["", "today", "tomorrow", "day_after"],  # matching: how far ahead the job starts
        "minute": [0, 30],
        "reopened": [False, True],
        "address": ["地" * MAX_ADDRESS["zh"] if language == "zh" else "W" * MAX_ADDRESS["en"]],
        "employer_phone": [MATCH_PHONE],
        "employer_name": [LONG_NAMES[language], ""],
        "worker_phone": [MATCH_PHONE],
        "placed": [[(LONG_NAMES[language], MATCH_PHONE)] * WORKERS_PER_SMS],
        "filled": [99, 98],  # a job filled, and one still short (placement_employer says which)
        "standby": [False, True],
        "codes": [["99999999"] * MAX_CODES_LISTED],
        # `找活`: the longest two jobs always fit, one in English (more when shorter: pull.py drops the last)
        "arrived": ["23:59"],
        "reply_by": ["", "23:59"],
        "reoffered": [0, 99],
        "listed": [[], [(99, LONG_NAMES[language])] * WORKERS_PER_SMS],
        "bookings": [[], [{"code": "99999999", "date": date(2026, 12, 31)}] * 2],
        "more": [0, 99],
        "month_days": [31],
        "month_pay": [3_099_969],  # 31 days at the longest pay
        "jobs": [[_pulled(session, language)] * (2 if language == "zh" else 1)],
        "offers": [[_pulled(session, language)] * MERGED_FIT[language]],
        "cancel": [False, True],
        "other_code": ["99999999"],
        "cancelled": [False, True],
        "remaining": [99],
        "text": [AGENT_TEXT[language]],
        # follow-ups (回访): a worker's number on a job, what is still to answer, the employer's list
        "seq": [99],  # at most a job's headcount (99)
        "missing": ["both", "paid", "stars"],
        "wage": [False, True],
        "left": [0, 99],
        # an employer's low rating asks whether to stop sending the worker (`101 2 不要`)
        "ask_block": [False, True],
        "seqs": [[99] * BLOCK_SEQS_LISTED],
        "party": ["worker", "employer"],
        "pending": [[("99999999", 99, LONG_NAMES[language])] * MAX_PENDING_LISTED],
        # forwarding (转给朋友): who passed it on, to whom, and every reason a forward is refused for
        "from_name": [LONG_NAMES[language], ""],
        "from_phone": [MATCH_PHONE],
        "to_phone": [MATCH_PHONE],
        "invited": [False, True],
        "why": list(FORWARD_REASONS),
        "kept": [False, True],
        "limit": [99],
        # day insurance: PREFIX-YYMMDD-NNNNNN from the enrolment id (a seventh digit after ten million),
        # with the longest prefix Settings.check allows (4 letters), whatever this deployment's is
        "insurance": ["", f"ABCD-261231-{9_999_999:06d}"],
        "insured_days": [1, 60],  # the job's days still to come, at most Job.days
        "reason": [reason.value for reason in RefusalReason],
        # in time (issue 16): when a night's offers go, or that none can; a reminder's kind
        "no_time": [False, True],
        "offers_at": [None, datetime(2026, 12, 31, 6, 0), datetime(2026, 12, 31, 21, 59)],
        "offers_next_day": [False, True],
        "soon": [False, True],
        # wage cases (dispatch.wages): every result, amounts up to the largest claim (100,000 x 60 days)
        "case_result": ["recovered", "partly_recovered", "closed_unresolved"],
        "case_amount": [9_999_999],
        "case_owed": [9_999_999],
        # a worker's claim at any time (欠薪 101): a case open or closed, a code of none of theirs
        "case_open": [False, True],
        "claim_code": ["", "99999999"],
        "claim_codes": [[], ["99999999"] * CLAIM_CODES_LISTED],
        # policy answers (政策): the seeded menu (the console checks the menu still fits on every change),
        # and a topic's title (its text is as long as the console allows: hall.policy.check)
        "topics": _policy_menus(language),
        # outreach (活动): every kind, an announcement's missing date, place and sign-up; an event's id
        "event_kind": [kind.value for kind in EventKind],
        "event_title": [EVENT_TITLES[language]],
        "place": ["", EVENT_PLACES[language]],
        "capacity": [0, 9999],
        "event_id": [9_999_999],
        "position": [999],
        "waiting": [False, True],
        "title": _longest([t[f"title_{language}"] for t in _config("policy_topics.toml")["topic"]]),
    }
    keys = ["sig", *sorted(NEEDS[template])]
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(values[k] for k in keys))]


def test_long_values_are_as_long_as_promised(session, seeded) -> None:
    assert all(len(name) == MAX_NAME for name in LONG_NAMES.values())
    trades = trades_in_menu_order(session)
    assert len(trades) == len(_config("trades.toml")["trade"]) == 12
    assert len(towns_in_number_order(session)) == 17
    assert MAX_TRADES == 3


def test_every_template_has_a_context() -> None:
    assert set(template_names()) == set(NEEDS)


def test_chinese_and_english_have_the_same_templates() -> None:
    zh, en = _template_files("zh"), _template_files("en")
    assert zh == en
    assert "_status.txt" in zh  # partials are in both too
    assert {name.removesuffix(".txt") for name in zh if not name.startswith("_")} == set(template_names())


def test_english_template_sources_are_pure_gsm7() -> None:
    """Even branches a test might not render: no Chinese, no curly quotes, no other UCS-2 characters."""
    for path in (TEMPLATE_DIR / "en").glob("*.txt"):
        source = path.read_text(encoding="utf-8")
        assert is_gsm7(source), (path.name, [ch for ch in source if not is_gsm7(ch)])
        assert not has_cjk(source), path.name


@pytest.mark.parametrize("template", sorted(NEEDS))
def test_chinese_fits_two_ucs2_segments(session, seeded, runtime, template: str) -> None:
    for context in _contexts(session, runtime, template, "zh"):
        body = render(template, "zh", **context)
        count = count_segments(body)
        assert count.encoding == "UCS-2", body
        assert count.units <= 134 and count.segments <= 2, (count, body)
        assert body.startswith(f"【{runtime.settings.SMS_SIGNATURE_ZH}】"), body
        assert not re.search(r"[{}%]", body), body  # nothing left of the template syntax


@pytest.mark.parametrize("template", sorted(NEEDS))
def test_english_fits_one_gsm7_segment(session, seeded, runtime, template: str) -> None:
    for context in _contexts(session, runtime, template, "en"):
        body = render(template, "en", **context)
        assert is_gsm7(body), (body, [ch for ch in body if not is_gsm7(ch)])
        assert not has_cjk(body) and "‘" not in body and "’" not in body and "“" not in body
        count = count_segments(body)
        assert count.encoding == "GSM-7", body
        assert count.units <= 160 and count.segments == 1, (count, body)
        assert body.startswith(f"{runtime.settings.SMS_SIGNATURE_EN}: "), body
        assert not re.search(r"[{}%]", body), body


def test_trade_list_prompt_lists_every_configured_trade(session, seeded, runtime) -> None:
    trades = _config("trades.toml")["trade"]
    zh = render(
        "reg_ask_trade",
        "zh",
        sig=runtime.settings.SMS_SIGNATURE_ZH,
        retry=False,
        trades=[(t.ivr_digit, trade_short_name(t, "zh")) for t in trades_in_menu_order(session)],
    )
    listed = " ".join(f"{t['ivr_digit']}{t['name_zh']}" for t in trades)
    assert zh == f"【潞州零工】请回复工种编号：{listed}"
    assert "4水电工" in zh and "12学生兼职" in zh

    en = render(
        "reg_ask_trade",
        "en",
        sig=runtime.settings.SMS_SIGNATURE_EN,
        retry=False,
        trades=[(t.ivr_digit, trade_short_name(t, "en")) for t in trades_in_menu_order(session)],
    )
    # English lists each trade by its first English keyword, a word the worker can also type back.
    labels = [next(k for k in t["keywords"] if k.isascii()) for t in trades]
    listed = " ".join(f"{t['ivr_digit']}={label}" for t, label in zip(trades, labels, strict=True))
    assert en == f"Luzhou Jobs: Your trade? {listed}"
    assert "4=plumber" in en and "12=part-time" in en


def test_area_list_prompt_lists_every_configured_town(session, seeded, runtime) -> None:
    towns = [site for site in _config("sites.toml")["site"] if site["level"] == "town"]
    zh = render(
        "reg_ask_area",
        "zh",
        sig=runtime.settings.SMS_SIGNATURE_ZH,
        retry=True,
        towns=[(town.number, town_short_name(town, "zh")) for town in towns_in_number_order(session)],
    )
    listed = " ".join(f"{town['number']}{town['aliases'][0]}" for town in towns)
    assert zh == f"【潞州零工】没找到这个地方。您住哪个乡镇/街道？回复编号或名称：{listed}"
    assert "8太行西街" in zh and "17西白兔" in zh

    en = render(
        "reg_ask_area",
        "en",
        sig=runtime.settings.SMS_SIGNATURE_EN,
        retry=False,
        towns=[(town.number, town_short_name(town, "en")) for town in towns_in_number_order(session)],
    )
    assert (
        en == "Luzhou Jobs: Which town or street do you live in? "
        "Reply its number 1-17 or its name, e.g. Dongjie."
    )


@pytest.mark.parametrize(
    "settings_overrides", [{"SMS_SIGNATURE_ZH": "长治市潞州区零工", "SMS_SIGNATURE_EN": "Luzhou Gig Market"}]
)
def test_the_service_signs_with_the_configured_signature(runtime, session, seeded, client) -> None:
    text_in(client, "帮助")
    text_in(client, "HELP", sender="+8613900139000")
    [zh] = outbound_to(session, "+8613800138000")
    [en] = outbound_to(session, "+8613900139000")
    assert zh.body == render("help", "zh", sig="长治市潞州区零工")
    assert zh.body.startswith("【长治市潞州区零工】回复：")
    assert en.body == render("help", "en", sig="Luzhou Gig Market")
    assert en.body.startswith("Luzhou Gig Market: Reply REG")
    # A longer signature still fits: the budget is checked with the one in the settings.
    assert count_segments(zh.body).segments <= 2 and count_segments(en.body).segments == 1
