"""What happened to an offer besides its status lives on the offer (given back, given back late,
uninsured, the employer told): one query finds it, and the database refuses what cannot be true."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dispatch.clock import utcnow
from dispatch.matching import employer, rescue, services
from dispatch.models import Job, Offer, OfferStatus, Trade
from tests.factories import SHANGHAI, Market, commit
from tests.helpers import last_reply, outbound_to, run_jobs, text_in, waiting_on_a_lock

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)
# What job.matching held as offer id lists before migration 0009; it keeps only what is about the job.
OFFER_LISTS = {"given_back", "late_cancelled", "uninsured", "employer_told"}


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def offered(runtime, session, market: Market, *workers, **job_options) -> Job:
    """A job whose wave 1 went to exactly these workers."""
    job = market.job(**job_options)
    commit(runtime, session)
    run_jobs(runtime)
    assert {o.worker_id for o in offers(session, job)} == {w.id for w in workers}
    return job


def offers(session, job: Job) -> list[Offer]:
    session.expire_all()
    return list(session.scalars(select(Offer).where(Offer.job_id == job.id).order_by(Offer.id)))


def test_the_offer_keeps_when_the_employer_was_told_and_when_the_place_was_given_back(
    runtime, session, market: Market, client, clock
) -> None:
    a, b = market.worker(name="张三"), market.worker(name="李四")
    job = offered(runtime, session, market, a, b, headcount=2)
    text_in(client, f"1 {job.code}", sender=a.phone)
    clock.shift(timedelta(seconds=61))
    told_at = utcnow()
    run_jobs(runtime, with_scheduler=True)  # the employer hears of 张三
    text_in(client, f"1 {job.code}", sender=b.phone)  # 李四's notice is due in a minute
    clock.shift(timedelta(seconds=5))
    given_back_at = utcnow()
    text_in(client, f"取消 {job.code}", sender=a.phone)

    facts = {
        o.worker_id: (o.status, o.given_back_at, o.cancelled_late, o.employer_told_at)
        for o in offers(session, job)
    }
    assert facts == {
        a.id: (OfferStatus.CANCELLED, given_back_at, False, told_at),
        b.id: (OfferStatus.ACCEPTED, None, False, None),
    }
    given_back = select(Offer.worker_id).where(Offer.job_id == job.id, Offer.given_back_at.is_not(None))
    assert session.scalars(given_back).all() == [a.id]
    assert not OFFER_LISTS & set(session.get(Job, job.id).matching)

    clock.shift(timedelta(seconds=61))
    run_jobs(runtime, with_scheduler=True)  # 李四's notice: 张三 gave the place back, not told again
    employer_texts = outbound_to(session, job.employer.phone)  # (and the refill's "nobody found")
    assert [t.kind for t in employer_texts].count("match.cancel_employer") == 1
    placements = [t.body for t in employer_texts if t.kind == "placement.employer"]
    assert len(placements) == 2 and "张三" in placements[0]
    assert "李四" in placements[1] and "张三" not in placements[1]
    assert {o.worker_id: o.employer_told_at for o in offers(session, job)} == {a.id: told_at, b.id: utcnow()}


def test_an_offer_the_insurer_would_not_cover_is_marked_until_the_worker_says_no(
    runtime, session, market: Market, client, clock
) -> None:
    nameless = market.worker(name="", trades=("porter",))
    job = offered(runtime, session, market, nameless, trade="porter")
    session.scalar(select(Trade).where(Trade.code == "porter")).high_risk = True
    session.commit()

    text_in(client, f"1 {job.code}", sender=nameless.phone)
    assert last_reply(session, nameless.phone).kind == "insurance.refused"
    [offer] = offers(session, job)
    assert (offer.status, offer.uninsured) == (OfferStatus.CANCELLED, True)
    assert not OFFER_LISTS & set(session.get(Job, job.id).matching)

    text_in(client, f"2 {job.code}", sender=nameless.phone)
    [offer] = offers(session, job)
    assert (offer.status, offer.uninsured) == (OfferStatus.DECLINED, False)


def test_the_database_refuses_a_late_cancellation_of_a_place_never_given_back(
    session, market: Market
) -> None:
    worker, job = market.worker(), market.job()
    session.add(Offer(job_id=job.id, worker_id=worker.id, status=OfferStatus.CANCELLED, cancelled_late=True))
    with pytest.raises(IntegrityError, match="ck_offer_cancelled_late_given_back"):
        session.flush()
    session.rollback()

    worker, job = market.worker(), market.job()
    offer = Offer(
        job_id=job.id,
        worker_id=worker.id,
        status=OfferStatus.CANCELLED,
        given_back_at=utcnow(),
        cancelled_late=True,
    )
    session.add(offer)
    session.flush()  # given back, and late: allowed
    assert (offer.uninsured, offer.employer_told_at) == (False, None)


@pytest.mark.committed
def test_a_place_given_back_while_the_employer_hears_of_the_worker_is_told_to_the_employer(committed) -> None:
    """The employer's notice (holding the job's row) marks the offer told while the worker's `取消` waits
    for that row: the give-back reads the mark once it has the row, so the employer hears of both."""
    runtime, _ = committed
    settings = runtime.settings
    with runtime.db.transaction() as session:
        market = Market(session)
        worker = market.worker(name="张三", trades=("porter",))
        job = market.job(trade="porter")
        outcome, offer = rescue.confirm_by_phone(session, settings, job.id, worker.id, utcnow())
        assert outcome == services.Outcome.PLACED
        offer_id, job_id, phone = offer.id, job.id, job.employer.phone

    telling = runtime.db.sessionmaker()
    results: list[object] = []

    def give_back() -> None:
        try:
            with runtime.db.transaction() as session:
                offer = session.get(Offer, offer_id)
                results.append(services.give_back(session, settings, offer, None, utcnow()))
        except BaseException as exc:  # reported by the assertion below
            results.append(exc)

    try:
        assert employer.notify(telling, settings, job_id, utcnow()) == {"told": 1, "messages": 1}
        thread = threading.Thread(target=give_back)
        thread.start()
        assert waiting_on_a_lock(runtime)  # on the job's row, which the notice holds
        telling.commit()
    finally:
        telling.close()
    thread.join(timeout=60)
    assert not thread.is_alive()

    assert results == [services.Outcome.GIVEN_BACK]
    with runtime.db.transaction() as session:
        assert [m.kind for m in outbound_to(session, phone)] == [
            "placement.employer",
            "match.cancel_employer",
        ]
