"""Interleavings a forward can meet on the real PostgreSQL, each forced by a transaction of the test's own
holding a lock at the moment that matters, then letting go:

- a friend's registration confirmed while a forward to their number is under way;
- two invited numbers registering at once, each invited to the same two jobs in the other order;
- the friend opting out between the forward's checks and the friend's text.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.models import ForwardOutcome, Job, Message, Offer, OfferForward, OfferStatus, Worker
from dispatch.runtime import Runtime
from tests.forwarding.test_concurrency import make_forwarders, no_failures, offer_jobs
from tests.helpers import inbound_params, signed_post

FRIEND = "+8613912345678"
OTHER_FRIEND = "+8613912345679"


def text_from(app: Flask, sender: str, body: str) -> int:
    return signed_post(app.test_client(), "/sms/inbound", inbound_params(body, sender=sender)).status_code


def forward(app: Flask, forwarder: Worker, job: Job, phone: str) -> int:
    return text_from(app, forwarder.phone, f"转 {job.code} {phone.removeprefix('+86')}")


def register_up_to_confirm(app: Flask, phone: str) -> None:
    """The friend's one-shot registration, left at its summary (`1` confirms it)."""
    assert text_from(app, phone, "注册 水电工 太西 250 李四") == 200


class Background:
    """Runs a call in a thread; `done` says whether it returned, `result` what it returned or raised."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self.result: Any = None
        self.thread = threading.Thread(target=self._run, args=(call,))
        self.thread.start()

    def _run(self, call: Callable[[], Any]) -> None:
        try:
            self.result = call()
        except BaseException as exc:  # reported by the test's assertion
            self.result = exc

    @property
    def done(self) -> bool:
        return not self.thread.is_alive()

    def join(self) -> Any:
        self.thread.join(timeout=60)
        assert self.done, "a request hung"
        return self.result


def waiting_on_locks(runtime: Runtime) -> int:
    """Sessions of this database waiting for a lock (a row, an advisory lock, a unique key)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with runtime.db.engine.connect() as connection:
        return connection.execute(query).scalar_one()


def wait_until(condition: Callable[[], bool], seconds: float = 10) -> bool:
    for _ in range(int(seconds / 0.02)):  # the test's clock is frozen: count sleeps, not time
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@contextmanager
def held(runtime: Runtime, arrange: Callable[[Session], None]) -> Iterator[None]:
    """A transaction of the test's own, holding what `arrange` locked or wrote until the block ends, when
    it is rolled back."""
    session = runtime.db.sessionmaker()
    try:
        arrange(session)
        session.flush()
        yield
    finally:
        session.rollback()
        session.close()


def lock_rows(*statements: Any) -> Callable[[Session], None]:
    def arrange(session: Session) -> None:
        for statement in statements:
            session.execute(statement).all()

    return arrange


@pytest.mark.committed
def test_a_registration_confirmed_while_a_forward_is_under_way_gets_the_offer(
    committed: tuple[Runtime, Flask],
) -> None:
    """The forward has found no worker for the number and is about to record the invitation when the
    friend confirms their registration: the registration waits for the number, then sees the
    invitation and is offered the job."""
    runtime, app = committed
    [forwarder] = make_forwarders(runtime, 1)
    [job] = offer_jobs(runtime, 1, 1, [forwarder])
    register_up_to_confirm(app, FRIEND)
    with runtime.db.sessionmaker() as session:
        mine = session.scalars(select(Offer.id).where(Offer.worker_id == forwarder.id)).one()

    # The forward closes the forwarder's offer after it has looked for the friend: hold that row.
    with held(runtime, lock_rows(select(Offer.id).where(Offer.id == mine).with_for_update())):
        forwarding = Background(lambda: forward(app, forwarder, job, FRIEND))
        assert wait_until(lambda: waiting_on_locks(runtime) == 1)
        registering = Background(lambda: text_from(app, FRIEND, "1"))
        # Unless it waits for the forward (the fix), the registration runs to its end meanwhile.
        wait_until(lambda: registering.done or waiting_on_locks(runtime) == 2, seconds=5)
    assert (forwarding.join(), registering.join()) == (200, 200)

    with runtime.db.sessionmaker() as session:
        friend = session.scalars(select(Worker).where(Worker.phone == FRIEND)).one()
        theirs = session.scalars(select(Offer).where(Offer.worker_id == friend.id)).one()
        assert (theirs.job_id, theirs.status) == (job.id, OfferStatus.SENT)
        invitation = session.scalars(select(OfferForward)).one()
        assert (invitation.outcome, invitation.to_worker_id, invitation.new_offer_id) == (
            ForwardOutcome.INVITED,
            friend.id,
            theirs.id,
        )
    assert no_failures(runtime)


@pytest.mark.committed
def test_two_registrations_invited_to_two_jobs_in_opposite_orders_do_not_deadlock(
    committed: tuple[Runtime, Flask],
) -> None:
    """FRIEND was invited to job A then B, OTHER_FRIEND to B then A. Their registrations lock the jobs
    in job order, so neither holds one job while waiting for the other."""
    runtime, app = committed
    forwarders = make_forwarders(runtime, 4)
    first, second = offer_jobs(runtime, 2, 2, forwarders)  # waves of 6: every forwarder has both
    assert forward(app, forwarders[0], first, FRIEND) == 200
    assert forward(app, forwarders[1], second, OTHER_FRIEND) == 200
    for phone in (FRIEND, OTHER_FRIEND):  # they write to us: another invitation may follow
        register_up_to_confirm(app, phone)
    assert forward(app, forwarders[2], second, FRIEND) == 200
    assert forward(app, forwarders[3], first, OTHER_FRIEND) == 200
    with runtime.db.sessionmaker() as session:
        invited = select(OfferForward.to_phone, OfferForward.job_id, OfferForward.outcome)
        assert [tuple(row) for row in session.execute(invited.order_by(OfferForward.id))] == [
            (FRIEND, first.id, ForwardOutcome.INVITED),
            (OTHER_FRIEND, second.id, ForwardOutcome.INVITED),
            (FRIEND, second.id, ForwardOutcome.INVITED),
            (OTHER_FRIEND, first.id, ForwardOutcome.INVITED),
        ]

    # Both confirmations wait on the first job; the one that waited first goes first. Locking in the
    # order of the invitations, OTHER_FRIEND's would hold the second job meanwhile: a deadlock.
    with held(runtime, lock_rows(select(Job.id).where(Job.id == first.id).with_for_update())):
        one = Background(lambda: text_from(app, FRIEND, "1"))
        assert wait_until(lambda: waiting_on_locks(runtime) == 1)
        other = Background(lambda: text_from(app, OTHER_FRIEND, "1"))
        assert wait_until(lambda: waiting_on_locks(runtime) == 2)
    assert (one.join(), other.join()) == (200, 200)

    assert no_failures(runtime)  # a deadlock aborts one: its text goes to an agent as `handling failed`
    with runtime.db.sessionmaker() as session:
        for phone in (FRIEND, OTHER_FRIEND):
            friend = session.scalars(select(Worker).where(Worker.phone == phone)).one()
            jobs = session.scalars(select(Offer.job_id).where(Offer.worker_id == friend.id))
            assert sorted(jobs) == [first.id, second.id]


@pytest.mark.committed
def test_a_friend_who_opts_out_as_the_forward_offers_them_the_job_leaves_the_forwarders_offer_open(
    committed: tuple[Runtime, Flask],
) -> None:
    """The forward found the friend fitting and reachable; the friend's TD commits before their text is
    queued, so the text is suppressed and nobody holds the place: the forwarder keeps their offer."""
    runtime, app = committed
    [forwarder] = make_forwarders(runtime, 1)
    [job] = offer_jobs(runtime, 1, 1, [forwarder])
    [friend] = make_forwarders(runtime, 1, [FRIEND])  # no contact row yet: never texted

    def their_offer_in_flight(session: Session) -> None:
        # Uncommitted: the forward's own offer to the friend waits on this one's unique key.
        session.add(Offer(job_id=job.id, worker_id=friend.id, status=OfferStatus.SENT, created_at=utcnow()))

    with held(runtime, their_offer_in_flight):
        forwarding = Background(lambda: forward(app, forwarder, job, FRIEND))
        assert wait_until(lambda: waiting_on_locks(runtime) == 1)
        assert text_from(app, FRIEND, "TD") == 200
    assert forwarding.join() == 200

    with runtime.db.sessionmaker() as session:
        [passed] = session.scalars(select(OfferForward)).all()
        assert (passed.outcome, passed.reason) == (ForwardOutcome.REFUSED_OPTED_OUT, "suppressed")
        on_the_job = select(Offer.worker_id, Offer.status).where(Offer.job_id == job.id)
        statuses = dict(session.execute(on_the_job).all())
        assert statuses == {forwarder.id: OfferStatus.SENT, friend.id: OfferStatus.CANCELLED}
        answer = session.scalars(
            select(Message).where(Message.phone == forwarder.phone, Message.kind == "forward.refused")
        ).one()
        assert answer.body.endswith(f"回复 1 {job.code} 接单。")
    assert no_failures(runtime)
