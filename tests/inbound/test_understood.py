"""Replies that used to reach an agent and cost the worker the place (issue 16, part 5): `是的`, a yes
glued to its code, a placed worker's `不去了`, a no to an offer long expired, a stranger's first text.
Each as the webhook handles it (real PostgreSQL, the real RQ jobs), with what the worker gets back."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from dispatch.models import Job, JobStatus, Offer, OfferStatus, Ticket, TicketKind, Worker
from tests.factories import Market, commit
from tests.followup.conftest import SHANGHAI
from tests.helpers import last_reply, placed_reply, run_jobs
from tests.inbound.test_routes import offered, routed


def offer_of(session, job: Job, worker: Worker) -> Offer:  # type: ignore[no-untyped-def]
    session.expire_all()
    offer = session.scalar(select(Offer).where(Offer.job_id == job.id, Offer.worker_id == worker.id))
    assert offer is not None
    return offer


def tickets(session) -> int:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalar(select(func.count(Ticket.id)).where(Ticket.kind == TicketKind.UNPARSED_SMS))


def coded(session, job: Job, code: str) -> Job:  # type: ignore[no-untyped-def]
    """The job under a code the test chooses (before its offers go out, so they say it)."""
    job.code = code
    session.flush()
    return job


def test_shi_de_takes_the_only_open_offer(runtime, session, market: Market) -> None:
    worker = market.worker()
    job = offered(runtime, session, market, worker)
    routed(runtime, "是的", worker.phone)
    assert offer_of(session, job, worker).status == OfferStatus.ACCEPTED
    assert placed_reply(session, worker.phone).kind == "placement.worker"


def test_a_voice_typed_yes_with_the_code_in_words(runtime, session, market: Market) -> None:
    worker = market.worker()
    job = coded(session, market.job(), "101")
    commit(runtime, session)
    run_jobs(runtime)
    routed(runtime, "好的好的，接一零一号", worker.phone)
    assert offer_of(session, job, worker).status == OfferStatus.ACCEPTED


def test_a_yes_glued_to_the_code_of_one_open_offer(runtime, session, market: Market) -> None:
    worker = market.worker()
    job = coded(session, market.job(), "101")
    other = coded(session, market.job(work_date=(job.work_date + timedelta(days=3))), "202")
    commit(runtime, session)
    run_jobs(runtime)
    name, _ = routed(runtime, "1101", worker.phone)
    assert name == "offer answer glued to its code (1101)"
    assert offer_of(session, job, worker).status == OfferStatus.ACCEPTED
    assert offer_of(session, other, worker).status == OfferStatus.SENT
    routed(runtime, "2202", worker.phone)
    assert offer_of(session, other, worker).status == OfferStatus.DECLINED


def test_digits_two_open_offers_could_end_with_are_not_guessed(runtime, session, market: Market) -> None:
    """Offers 101 and 1101 open: `1101` is a yes to 101 or the bare code 1101; an agent asks."""
    worker = market.worker()
    job = coded(session, market.job(), "101")
    other = coded(session, market.job(work_date=(job.work_date + timedelta(days=3))), "1101")
    commit(runtime, session)
    run_jobs(runtime)
    assert routed(runtime, "1101", worker.phone)[0] == "an agent reads it"
    assert offer_of(session, job, worker).status == OfferStatus.SENT
    assert offer_of(session, other, worker).status == OfferStatus.SENT


def test_a_placed_workers_bu_qu_le_asks_to_confirm_with_the_code(runtime, session, market: Market) -> None:
    worker = market.worker()
    job = offered(runtime, session, market, worker)
    routed(runtime, f"1 {job.code}", worker.phone)
    assert offer_of(session, job, worker).status == OfferStatus.ACCEPTED
    before = tickets(session)
    routed(runtime, "我不去了", worker.phone)
    reply = last_reply(session, worker.phone)
    assert reply.kind == "match.confirm_cancel"
    assert f"取消 {job.code}" in reply.body
    assert offer_of(session, job, worker).status == OfferStatus.ACCEPTED  # nothing given back yet
    assert tickets(session) == before
    routed(runtime, f"取消 {job.code}", worker.phone)
    assert offer_of(session, job, worker).status == OfferStatus.CANCELLED


def test_a_no_to_an_offer_that_expired_gets_yi_guo_qi_not_a_ticket(runtime, session, market: Market) -> None:
    worker = market.worker()
    job = offered(runtime, session, market, worker)
    offer = offer_of(session, job, worker)
    offer.status = OfferStatus.EXPIRED  # lapsed unanswered; then the job filled with somebody else
    session.get(Job, job.id).status = JobStatus.FILLED
    commit(runtime, session)
    before = tickets(session)
    for text in ("没空", "不去了", "好的"):
        name, _ = routed(runtime, text, worker.phone)
        assert name == "late or closed offer answer (1)"
        reply = last_reply(session, worker.phone)
        assert reply.kind == "match.expired"
        assert job.code in reply.body and "已过期" in reply.body
    assert tickets(session) == before


def test_a_thank_you_after_taking_a_place_is_not_told_expired(runtime, session, market: Market) -> None:
    """`好` after the confirmation: the last offer was taken, so nothing lapsed; someone reads it."""
    worker = market.worker()
    job = offered(runtime, session, market, worker)
    routed(runtime, f"1 {job.code}", worker.phone)
    assert routed(runtime, "好", worker.phone)[0] == "an agent reads it"


def test_late_at_night_the_answers_are_read_the_same(runtime, session, market: Market, clock) -> None:
    """At 23:40 (quiet hours for offers) a placed worker's `去不了` still asks to confirm, at once:
    a reply to the worker's own text is not an offer."""
    worker = market.worker()
    job = offered(runtime, session, market, worker)
    routed(runtime, f"1 {job.code}", worker.phone)
    clock.move_to(
        datetime.combine(job.work_date - timedelta(days=1), datetime.min.time(), SHANGHAI).replace(
            hour=23, minute=40
        )
    )
    routed(runtime, "去不了", worker.phone)
    assert last_reply(session, worker.phone).kind == "match.confirm_cancel"
