"""Races with real commits: two runs of the follow-up task at once ask each placement once; the same
answer delivered twice at once (two MessageSids) is counted once."""

from __future__ import annotations

import threading
from datetime import time, timedelta

from sqlalchemy import func, select

from dispatch.followup import asking
from dispatch.models import Employer, FollowUp, FollowUpStatus
from tests.factories import Market
from tests.followup.conftest import DAY, at, place
from tests.helpers import deliver_concurrently, inbound_params


def test_concurrent_runs_and_answers_count_once(committed, clock) -> None:
    runtime, app = committed
    client = app.test_client()
    session = runtime.db.sessionmaker()
    market = Market(session)
    worker = market.worker(name="张三")
    place(runtime, session, client, clock, market, worker, work_date=DAY)
    now = at(DAY + timedelta(days=1), time(9, 0))
    clock.move_to(now)

    # Run A has picked (and locked) the placement but not committed; run B, meanwhile, skips it.
    first = runtime.db.sessionmaker()
    assert asking.ask_ended(first, runtime.settings, now) == 1
    results: list[int] = []

    def second_run() -> None:
        with runtime.db.transaction() as other:
            results.append(asking.ask_ended(other, runtime.settings, now))

    thread = threading.Thread(target=second_run)
    thread.start()
    thread.join(timeout=30)
    assert results == [0]
    first.commit()
    first.close()
    with runtime.db.transaction() as other:  # and after A committed, there is nothing left to ask
        assert asking.ask_ended(other, runtime.settings, now) == 0
    assert session.scalar(select(func.count()).select_from(FollowUp)) == 2

    # The worker's `1 5` arrives twice at the same moment (a carrier's retry under a new Sid).
    statuses = deliver_concurrently(app, [inbound_params("1 5", worker.phone) for _ in range(2)])
    assert statuses == [200, 200]
    session.expire_all()
    employer = session.scalars(select(Employer)).one()
    assert (employer.rating_sum, employer.rating_count) == (5, 1)
    statuses = session.scalars(select(FollowUp.status).where(FollowUp.party == "worker")).all()
    assert statuses == [FollowUpStatus.ANSWERED]
    session.close()
