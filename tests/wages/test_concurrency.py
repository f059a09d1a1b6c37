"""Agents acting on wage cases at the same moment, in really committed transactions: a case closes once,
and an employer whose last two cases close at once is freed all the same."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select

from dispatch.console.agents import create_agent
from dispatch.models import (
    AuditEvent,
    Employer,
    EmployerStatus,
    Job,
    JobStatus,
    Message,
    WageCase,
    WageCaseStatus,
)
from dispatch.wages.services import open_case
from tests.console.helpers import PASSWORD, csrf_token, sign_in
from tests.matching.conftest import Market
from tests.wages.conftest import NOW, placement
from tests.wages.test_case_pages import held_job


def post_at_once(app, posts: list[tuple[str, str, dict[str, str]]]) -> list[Any]:
    """Each (username, path, form) posted from its own signed-in client, released together."""
    clients = []
    for username, _, _ in posts:
        client = app.test_client()
        sign_in(client, username)
        clients.append((client, csrf_token(client)))
    barrier = threading.Barrier(len(posts))
    results: list[Any] = [None] * len(posts)

    def post(index: int) -> None:
        client, token = clients[index]
        _, path, form = posts[index]
        try:
            barrier.wait(timeout=30)
            results[index] = client.post(path, data={**form, "csrf_token": token}).status_code
        except BaseException as exc:  # reported by the assertion below
            results[index] = exc

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(posts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_two_agents_closing_one_case_at_once_close_it_once(committed) -> None:
    runtime, app = committed
    with runtime.db.transaction() as session:
        p = placement(session, runtime, Market(session))
        case_id = open_case(session, runtime.settings, p.follow_up, NOW).id
        worker_phone = p.worker.phone
        for name in ("a1", "a2"):
            create_agent(session, name, PASSWORD, "agent", "LZ")
    results = post_at_once(
        app,
        [
            ("a1", f"/console/cases/{case_id}/recovered", {"amount": "600"}),
            ("a2", f"/console/cases/{case_id}/unresolved", {"note": "联系不上"}),
        ],
    )
    assert results == [302, 302]
    with runtime.db.transaction() as session:
        case = session.get(WageCase, case_id)
        assert case.status in (WageCaseStatus.RECOVERED, WageCaseStatus.CLOSED_UNRESOLVED)
        closings = session.scalar(
            select(func.count()).where(
                AuditEvent.target_type == "wage_case", AuditEvent.action != "wage_case.open"
            )
        )
        assert closings == 1
        told = session.scalars(
            select(Message).where(Message.phone == worker_phone, Message.kind.like("wage_case%"))
        ).all()
        assert [message.kind for message in told] == [f"wage_case.{case.status.value}"]
        resolved = session.scalar(select(func.count()).where(AuditEvent.action == "ticket.resolve"))
        assert resolved == 1


def test_an_employers_last_two_cases_closing_at_once_free_the_employer(committed) -> None:
    runtime, app = committed
    with runtime.db.transaction() as session:
        market = Market(session)
        first = placement(session, runtime, market)
        second = placement(session, runtime, market, employer=first.employer, worker_name="赵五")
        case_ids = [open_case(session, runtime.settings, p.follow_up, NOW).id for p in (first, second)]
        job_id = held_job(session, market, first.employer).id
        employer_id = first.employer.id
        for name in ("a1", "a2"):
            create_agent(session, name, PASSWORD, "agent", "LZ")
    results = post_at_once(
        app,
        [
            ("a1", f"/console/cases/{case_ids[0]}/recovered", {"amount": "600"}),
            ("a2", f"/console/cases/{case_ids[1]}/recovered", {"amount": "600"}),
        ],
    )
    assert results == [302, 302]
    with runtime.db.transaction() as session:
        statuses = {session.get(WageCase, case_id).status for case_id in case_ids}
        assert statuses == {WageCaseStatus.RECOVERED}
        assert session.get(Employer, employer_id).status == EmployerStatus.ACTIVE
        assert session.get(Job, job_id).status == JobStatus.OPEN
        released = session.scalar(select(func.count()).where(AuditEvent.action == "job.release"))
        assert released == 1
