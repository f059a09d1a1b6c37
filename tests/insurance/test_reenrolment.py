"""Re-enrolling the days the insurer refused, once an agent typed the worker's name, never brings back
the insurance of a place given back or a job called off - not even at the same moment."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.insurance import services as insurance
from dispatch.matching import rescue, services
from dispatch.models import EnrolmentStatus, InsuranceEnrolment, Offer, Worker
from tests.factories import TOMORROW, Market, offered
from tests.helpers import offers_of, text_in, waiting_on_a_lock
from tests.insurance.conftest import enrolments_of

FAILED, CANCELLED = EnrolmentStatus.FAILED, EnrolmentStatus.CANCELLED


def test_a_given_back_place_is_not_enrolled_again(runtime, session, market: Market, client):
    worker = market.worker(name="", trades=("porter",))
    job = offered(runtime, session, market, worker, trade="porter", days=2)
    text_in(client, f"1 {job.code}", sender=worker.phone)
    text_in(client, f"取消 {job.code}", sender=worker.phone)
    assert [e.status for e in enrolments_of(session, job)] == [CANCELLED, CANCELLED]

    worker = session.get(Worker, worker.id)
    worker.name = "赵六"
    [offer] = offers_of(session, job)
    # Only a place just confirmed (matching's accept) enrols a cancelled day again.
    insurance.enrol_placement(session, runtime.settings, offer, utcnow())
    assert insurance.reenrol_worker(session, runtime.settings, worker, utcnow()) == 0
    assert [e.status for e in enrolments_of(session, job)] == [CANCELLED, CANCELLED]


@pytest.mark.committed
def test_a_place_given_back_while_its_days_are_enrolled_again_stays_cancelled(committed) -> None:
    """The agent saves the name (re-enrolment) while the worker's `取消` is being handled: whichever
    commits second sees the other's work; the days end cancelled."""
    runtime, _ = committed
    settings = runtime.settings
    with runtime.db.transaction() as session:
        market = Market(session)
        worker = market.worker(name="", trades=("porter",))
        job = market.job(trade="porter", work_date=TOMORROW, days=2)
        outcome, offer = rescue.confirm_by_phone(session, settings, job.id, worker.id, utcnow())
        assert outcome == services.Outcome.PLACED
        worker.name = "赵六"  # typed earlier; the re-enrolment runs now
        worker_id, offer_id, job_id = worker.id, offer.id, job.id

    giving_back = runtime.db.sessionmaker()
    try:
        offer = giving_back.get(Offer, offer_id)
        assert services.give_back(giving_back, settings, offer, None, utcnow()) == services.Outcome.GIVEN_BACK
        # not committed yet: the worker's row and the days' rows are locked by the give-back
        results: list[object] = []

        def reenrol() -> None:
            try:
                with runtime.db.transaction() as session:
                    worker = session.get(Worker, worker_id)
                    results.append(insurance.reenrol_worker(session, settings, worker, utcnow()))
            except BaseException as exc:  # reported by the assertion below
                results.append(exc)

        thread = threading.Thread(target=reenrol)
        thread.start()
        assert waiting_on_a_lock(runtime)
        giving_back.commit()
    finally:
        giving_back.close()
    thread.join(timeout=60)
    assert not thread.is_alive()

    assert results == [0]
    with runtime.db.transaction() as session:
        query = select(InsuranceEnrolment.status).where(InsuranceEnrolment.job_id == job_id)
        assert list(session.scalars(query.order_by(InsuranceEnrolment.work_date))) == [CANCELLED, CANCELLED]
