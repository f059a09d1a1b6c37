"""Agents booking by phone at the same moment, in really committed transactions: the last place goes
to one worker only."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from dispatch.console.agents import create_agent
from dispatch.models import AuditEvent, Job, Message, Offer, OfferStatus
from tests.console.helpers import PASSWORD, csrf_token, sign_in
from tests.factories import TOMORROW, Market

AGENTS = 4


def test_agents_booking_the_last_place_at_once_book_one_worker(committed) -> None:
    runtime, app = committed
    with runtime.db.transaction() as session:
        market = Market(session)
        worker_ids = [market.worker(name=f"工{i}").id for i in range(AGENTS)]
        job_id = market.job(work_date=TOMORROW, headcount=1).id
        for i in range(AGENTS):
            create_agent(session, f"a{i}", PASSWORD, "agent", "LZ")
    clients = []
    for i in range(AGENTS):
        client = app.test_client()
        sign_in(client, f"a{i}")
        clients.append((client, csrf_token(client)))
    barrier = threading.Barrier(AGENTS)
    results: list[object] = [None] * AGENTS

    def confirm(index: int) -> None:
        client, token = clients[index]
        try:
            barrier.wait(timeout=30)
            data = {"worker_id": worker_ids[index], "csrf_token": token}
            results[index] = client.post(f"/console/jobs/{job_id}/confirm", data=data).status_code
        except BaseException as exc:  # reported by the assertion below
            results[index] = exc

    threads = [threading.Thread(target=confirm, args=(i,)) for i in range(AGENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert results == [302] * AGENTS

    with runtime.db.transaction() as session:
        assert session.get(Job, job_id).filled == 1
        accepted = session.scalar(
            select(func.count()).where(Offer.job_id == job_id, Offer.status == OfferStatus.ACCEPTED)
        )
        assert accepted == 1
        booked = session.scalar(select(func.count()).where(AuditEvent.action == "job.confirm_by_phone"))
        assert booked == 1
        # the others were refused before anything happened: nobody was texted 名额已满
        full = session.scalar(select(func.count()).where(Message.kind == "match.full"))
        assert full == 0
