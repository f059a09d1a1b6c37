"""A worker's wage claim at any time by SMS (`欠薪 101`, `没给钱 101`, `unpaid 101`): the placement's
case with the follow-up's evidence, marked when they had answered "paid"; one case per placement; a
code of none of their places answered with their recent jobs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dispatch.models import (
    CaseOpenedVia,
    EmployerStatus,
    FollowUp,
    PaidAnswer,
    Ticket,
    TicketKind,
    WageCase,
    WageCaseStatus,
)
from dispatch.wages.claims import claimed_code
from dispatch.wages.services import claim_case, open_case
from tests.factories import Market, commit
from tests.helpers import last_reply, outbound_to, text_in
from tests.wages.conftest import NOW, audit_actions, placement


def cases(session) -> list[WageCase]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return list(session.scalars(select(WageCase).order_by(WageCase.id)))


def test_the_claim_words_and_where_the_code_sits() -> None:
    assert claimed_code("欠薪 101") == "101"
    assert claimed_code("欠薪101") == "101"
    assert claimed_code("101 欠薪") == "101"
    assert claimed_code("没给钱 101") == "101"
    assert claimed_code("UNPAID 101") == "101"
    assert claimed_code("not paid 7") == "7"
    assert claimed_code("欠薪") == ""
    assert claimed_code("欠薪 太行西街") is None
    assert claimed_code("老板欠薪不给怎么办") is None
    assert claimed_code("1 101") is None


def test_a_claim_after_answering_paid_opens_a_case_that_says_so(
    runtime, session, client, market: Market
) -> None:
    p = placement(session, runtime, market, paid=PaidAnswer.FULL)
    commit(runtime, session)
    text_in(client, f"欠薪 {p.job.code}", sender=p.worker.phone)

    case = cases(session)[0]
    assert (case.offer_id, case.worker_id, case.job_id, case.employer_id) == (
        p.offer.id,
        p.worker.id,
        p.job.id,
        p.employer.id,
    )
    assert (case.status, case.paid, case.opened_via, case.after_paid) == (
        WageCaseStatus.OPEN,
        PaidAnswer.NONE,
        CaseOpenedVia.SMS,
        True,
    )
    assert case.follow_up_id == p.follow_up.id
    assert (case.days, case.amount_owed) == (2, 600)
    # The same evidence as a follow-up's case: the job, both confirmations, the texts, the answer "paid".
    evidence = case.evidence
    assert evidence["job"]["code"] == p.job.code
    assert evidence["claim"]["after_paid"] is True
    assert evidence["claim"]["opened_via"] == "sms"
    assert evidence["follow_up"]["paid"] == "full"
    assert evidence["confirmed"]["employer_notice_at"] is not None
    bodies = [m["body"] for m in evidence["messages"]]
    assert f"1 {p.job.code}" in bodies and f"欠薪 {p.job.code}" in bodies
    # A dispute ticket, the employer held, the opening audited; the worker told.
    ticket = session.get(Ticket, case.ticket_id)
    assert ticket.kind == TicketKind.WAGE_CASE and ticket.details["after_paid"] is True
    assert session.get(type(p.employer), p.employer.id).status == EmployerStatus.HELD
    assert "wage_case.open" in audit_actions(session, "wage_case", case.id)
    told = last_reply(session, p.worker.phone)
    assert told.kind == "wage_claim.opened"
    assert p.job.code in told.body and "600" in told.body


def test_a_second_claim_opens_no_second_case(runtime, session, client, market: Market) -> None:
    p = placement(session, runtime, market, paid=PaidAnswer.FULL)
    commit(runtime, session)
    text_in(client, f"没给钱 {p.job.code}", sender=p.worker.phone)
    text_in(client, f"unpaid {p.job.code}", sender=p.worker.phone)
    assert len(cases(session)) == 1
    again = last_reply(session, p.worker.phone)
    assert again.kind == "wage_claim.already"
    assert "已在处理中" in again.body


def test_a_follow_up_answered_not_paid_finds_the_claims_case(runtime, session, market: Market) -> None:
    """Claimed before the follow-up was asked: the later `3` is the same case, now with its follow-up."""
    p = placement(session, runtime, market, paid=PaidAnswer.NONE)
    follow_up_id = p.follow_up.id
    session.delete(p.follow_up)
    session.flush()
    case, opened = claim_case(session, runtime.settings, p.offer, NOW, via=CaseOpenedVia.SMS)
    assert opened and case.follow_up_id is None and case.evidence["follow_up"] is None
    later = FollowUp(
        id=follow_up_id,
        offer_id=p.offer.id,
        job_id=p.job.id,
        worker_id=p.worker.id,
        employer_id=p.employer.id,
        party=p.follow_up.party,
        channel=p.follow_up.channel,
        paid=PaidAnswer.NONE,
        asked_at=NOW,
    )
    session.add(later)
    session.flush()
    assert open_case(session, runtime.settings, later, NOW).id == case.id
    assert case.follow_up_id == later.id
    assert len(cases(session)) == 1


def test_a_code_of_none_of_their_places_lists_their_recent_jobs(
    runtime, session, client, market: Market
) -> None:
    p = placement(session, runtime, market, paid=PaidAnswer.FULL)
    stranger_job = market.job(work_date=p.job.work_date)
    other = market.worker()
    commit(runtime, session)
    text_in(client, f"欠薪 {stranger_job.code}", sender=p.worker.phone)
    text_in(client, f"欠薪 {p.job.code}", sender=other.phone)  # another worker: not theirs to claim
    text_in(client, "欠薪", sender=p.worker.phone)
    assert cases(session) == []
    wrong = [m for m in outbound_to(session, p.worker.phone) if m.kind == "wage_claim.which"]
    assert len(wrong) == 2
    assert stranger_job.code in wrong[0].body and p.job.code in wrong[0].body
    assert p.job.code in wrong[1].body
    none = last_reply(session, other.phone)
    assert none.kind == "wage_claim.which" and "没有干过活" in none.body


def test_a_job_not_begun_cannot_be_claimed(runtime, session, client, market: Market) -> None:
    p = placement(session, runtime, market, paid=PaidAnswer.FULL)
    p.job.work_date = p.job.end_date = NOW.date() + timedelta(days=3)
    commit(runtime, session)
    text_in(client, f"欠薪 {p.job.code}", sender=p.worker.phone)
    assert cases(session) == []
    assert last_reply(session, p.worker.phone).kind == "wage_claim.which"


def test_english_unpaid(runtime, session, client, market: Market) -> None:
    p = placement(session, runtime, market, paid=PaidAnswer.FULL)
    commit(runtime, session)
    text_in(client, "EN", sender=p.worker.phone)
    text_in(client, f"unpaid {p.job.code}", sender=p.worker.phone)
    told = last_reply(session, p.worker.phone)
    assert told.kind == "wage_claim.opened"
    assert told.body.endswith("Staff will call you and the employer to mediate.")
    assert cases(session)[0].opened_via == CaseOpenedVia.SMS
