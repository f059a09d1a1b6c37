"""Every follow-up text, built by the code that sends it from the longest real values (10-character
names, an 8-digit job code, the longest trade name, a two-digit month and day, 99 workers, the
longest lists), fits its budget: Chinese 2 UCS-2 segments (134), English 1 pure GSM-7 segment (160).
tests/sms/test_templates.py measures the same templates over every value combination."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from dispatch.catalogue import trade_short_name, trades_in_menu_order
from dispatch.followup import texts
from dispatch.i18n import SMS_MAX_SEGMENTS as MAX_SEGMENTS
from dispatch.i18n import sms_template_names as template_names
from dispatch.models import (
    Contact,
    Direction,
    FollowUp,
    FollowUpChannel,
    FollowUpParty,
    Job,
    Message,
    MessageStatus,
    Offer,
    OfferStatus,
    PaidAnswer,
)
from dispatch.sms.normalize import has_cjk
from dispatch.sms.segments import count_segments, is_gsm7
from tests.factories import Market
from tests.sms.test_templates import LONG_NAMES

FOLLOW_UP_TEMPLATES = {name for name in template_names() if name.startswith("followup_")}


def assert_fits(body: str, language: str, settings) -> None:  # type: ignore[no-untyped-def]
    count = count_segments(body)
    assert not any(ch in body for ch in "{}%"), body
    if language == "zh":
        assert count.encoding == "UCS-2" and count.units <= 134, (count, body)
        assert body.startswith(f"【{settings.SMS_SIGNATURE_ZH}】"), body
    else:
        assert is_gsm7(body) and not has_cjk(body), body
        assert count.encoding == "GSM-7" and count.units <= 160, (count, body)
        assert body.startswith(f"{settings.SMS_SIGNATURE_EN}: "), body
    assert count.segments <= MAX_SEGMENTS[language]


def _longest_trade(session, language: str):  # type: ignore[no-untyped-def]
    return max(trades_in_menu_order(session), key=lambda trade: len(trade_short_name(trade, language)))


def _placements(session, market: Market, language: str, jobs: int, workers: int) -> list[FollowUp]:  # type: ignore[no-untyped-def]
    """Follow-ups of both sides for `workers` placements on each of `jobs` jobs, at their longest."""
    name = LONG_NAMES[language]
    employer = market.employer(name=name, phone="+8613900000001")
    session.add(Contact(phone=employer.phone, language=language))
    trade = _longest_trade(session, language)
    rows = []
    for j in range(jobs):
        job = market.job(employer, trade=trade.code, headcount=99, work_date=date(2026, 12, 31))
        job.code = f"{99999999 - j}"
        for w in range(workers):
            worker = market.worker(name=name, trades=(trade.code,), language=language)
            offer = Offer(job_id=job.id, worker_id=worker.id, status=OfferStatus.ACCEPTED)
            session.add(offer)
            session.flush()
            for party in FollowUpParty:
                rows.append(
                    FollowUp(
                        offer_id=offer.id,
                        job_id=job.id,
                        worker_id=worker.id,
                        employer_id=employer.id,
                        party=party,
                        channel=FollowUpChannel.SMS,
                        seq=99 - w,
                    )
                )
    session.add_all(rows)
    session.flush()
    return rows


def _inbound(session, phone: str) -> Message:  # type: ignore[no-untyped-def]
    message = Message(direction=Direction.INBOUND, phone=phone, body="x", status=MessageStatus.RECEIVED)
    session.add(message)
    session.flush()
    return message


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_follow_up_text_fits(session, runtime, market: Market, language: str) -> None:
    settings = runtime.settings
    rows = _placements(session, market, language, jobs=texts.MAX_CODES_LISTED + 1, workers=2)
    worker_side = next(fu for fu in rows if fu.party == FollowUpParty.WORKER)
    employer_side = next(fu for fu in rows if fu.party == FollowUpParty.EMPLOYER)
    worker_in = _inbound(session, worker_side.worker.phone)
    employer_in = _inbound(session, employer_side.employer.phone)

    texts.ask(session, settings, worker_side)
    texts.ask(session, settings, employer_side)
    texts.remind(session, settings, employer_side)
    for paid, stars in [(None, None), (PaidAnswer.FULL, None), (None, 5)]:
        worker_side.paid, worker_side.stars = paid, stars
        texts.remind(session, settings, worker_side)
        texts.retry(session, settings, worker_in, worker_side)
    for paid in (PaidAnswer.FULL, PaidAnswer.NONE):
        worker_side.paid, worker_side.stars = paid, None
        texts.answered(session, settings, worker_in, worker_side, left=0)  # the stars still to come
        worker_side.stars = 5
        texts.answered(session, settings, worker_in, worker_side, left=0)  # thanks
    worker_side.paid, worker_side.stars = None, 5
    texts.answered(session, settings, worker_in, worker_side, left=0)  # paid still to come
    texts.answered(session, settings, employer_in, employer_side, left=99)
    texts.already(session, settings, worker_in, worker_side)
    texts.retry(session, settings, employer_in, employer_side)
    texts.which_job(session, settings, worker_in, [fu for fu in rows if fu.party == FollowUpParty.WORKER])
    texts.which_wage_answer(session, settings, worker_in, worker_side)
    texts.which_worker(
        session, settings, employer_in, [fu for fu in rows if fu.party == FollowUpParty.EMPLOYER]
    )
    texts.which_side(
        session,
        settings,
        employer_in,
        [fu for fu in rows if fu.party == FollowUpParty.WORKER],
        [fu for fu in rows if fu.party == FollowUpParty.EMPLOYER],
    )

    session.expire_all()
    sent = session.scalars(
        select(Message).where(Message.direction == Direction.OUTBOUND).order_by(Message.id)
    ).all()
    assert len(sent) == 21
    for message in sent:
        assert message.language == language
        assert_fits(message.body, language, settings)
    # The longest values really went in.
    assert any(LONG_NAMES[language] in m.body for m in sent if m.kind == "followup.employer")
    assert any("99999999" in m.body and "99999995" in m.body for m in sent)  # five codes listed
    assert session.scalar(select(Job.code).where(Job.code == "99999999")) == "99999999"


def test_the_follow_up_templates_are_all_measured() -> None:
    """Each follow-up template is in the project-wide length test too (with its values)."""
    from tests.sms.test_templates import NEEDS

    assert {name for name in NEEDS if name.startswith("followup_")} == FOLLOW_UP_TEMPLATES
    assert len(FOLLOW_UP_TEMPLATES) == 15  # with the block ask's answer and its which, and a lone 2's which
