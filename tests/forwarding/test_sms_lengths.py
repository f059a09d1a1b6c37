"""The forwarding texts (forward_*) at their longest real values fit their budgets: Chinese within 2
UCS-2 segments (134 code units), English one GSM-7 segment (160) with nothing forcing UCS-2."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from dispatch.catalogue import trade_short_name
from dispatch.i18n import SMS_TEMPLATE_DIR as TEMPLATE_DIR
from dispatch.i18n import render_sms as render
from dispatch.matching.forwarding_target import FRIEND, MAX_TYPED, REASONS
from dispatch.models import Site, Trade
from dispatch.sms.normalize import has_cjk
from dispatch.sms.registration import MAX_NAME
from dispatch.sms.segments import count_segments, is_gsm7

TEMPLATES = ["forward_done", "forward_invite", "forward_offer", "forward_refused"]
LONG_NAMES = {"zh": "欧阳慕容司马诸葛上官", "en": "Ouyang Xia"}
# The longest a number shows: a landline as phones.display() writes it (a mobile is shorter), or the
# digits of a mistyped number as the refusal repeats them.
PHONES = ["0351 8888 88888", "9" * MAX_TYPED]


def _longest(values: list[str]) -> str:
    return max(values, key=len)


def _contexts(session, runtime, language: str) -> Iterator[tuple[str, dict[str, Any]]]:
    settings = runtime.settings
    sig = settings.SMS_SIGNATURE_EN if language == "en" else settings.SMS_SIGNATURE_ZH
    trade = _longest([trade_short_name(t, language) for t in session.scalars(select(Trade))])
    area = _longest([site.name(language) for site in session.scalars(select(Site))])  # villages too
    job = {"trade": trade, "area": area, "date": date(2026, 12, 31), "hour": 23, "days": 60, "pay": 99999}
    for day_word, minute, name in itertools.product(
        ("", "today", "tomorrow", "day_after"), (0, 30), (True, False)
    ):
        passed_by = {"from_name": LONG_NAMES[language] if name else "", "from_phone": PHONES[0]}
        when = {"day_word": day_word, "minute": minute}
        yield "forward_offer", {"sig": sig, **job, **when, **passed_by, "code": "99999999"}
        yield "forward_invite", {"sig": sig, **job, **when, **passed_by}
    for phone, invited in itertools.product(PHONES, (False, True)):
        yield "forward_done", {"sig": sig, "code": "99999999", "to_phone": phone, "invited": invited}
    for why, phone, kept in itertools.product(REASONS, PHONES, (False, True)):
        context = {
            "why": why,
            "code": "99999999",
            "to_phone": phone,
            "kept": kept,
            "limit": 99,
            "trade": trade,
        }
        yield "forward_refused", {"sig": sig, **context}


def test_the_forward_templates_are_these() -> None:
    for language in ("zh", "en"):
        assert sorted(p.stem for p in (TEMPLATE_DIR / language).glob("forward_*.txt")) == TEMPLATES
    assert len(LONG_NAMES["zh"]) == len(LONG_NAMES["en"]) == MAX_NAME


def test_chinese_fits_two_ucs2_segments(session, seeded, runtime) -> None:
    measured = set()
    for template, context in _contexts(session, runtime, "zh"):
        body = render(template, "zh", **context)
        count = count_segments(body)
        assert count.encoding == "UCS-2" and count.units <= 134 and count.segments <= 2, (count, body)
        assert body.startswith("【潞州零工】") and "{" not in body and "\n" not in body, body
        measured.add(template)
    assert sorted(measured) == TEMPLATES


def test_english_fits_one_gsm7_segment(session, seeded, runtime) -> None:
    measured = set()
    for template, context in _contexts(session, runtime, "en"):
        body = render(template, "en", **context)
        assert is_gsm7(body) and not has_cjk(body), body
        count = count_segments(body)
        assert count.encoding == "GSM-7" and count.units <= 160 and count.segments == 1, (count, body)
        assert body.startswith("Luzhou Jobs: ") and "{" not in body and "\n" not in body, body
        measured.add(template)
    assert sorted(measured) == TEMPLATES


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_refusal_has_words_of_its_own(runtime, language: str) -> None:
    """A reason the template does not know (every reason about the friend) reads as the one answer about
    the friend, which names no reason."""
    sig = runtime.settings.SMS_SIGNATURE_EN if language == "en" else runtime.settings.SMS_SIGNATURE_ZH
    context = {
        "sig": sig,
        "code": "123",
        "to_phone": "139 1234 5678",
        "kept": False,
        "limit": 3,
        "trade": "x",
    }
    bodies = {why: render("forward_refused", language, why=why, **context) for why in REASONS}
    assert len(set(bodies.values())) == len(REASONS), bodies
    for about_the_friend in ("trade", "pay", "blocked", "opted_out", "limit_number", "invited_before"):
        assert render("forward_refused", language, why=about_the_friend, **context) == bodies[FRIEND]
