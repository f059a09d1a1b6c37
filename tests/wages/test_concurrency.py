"""Agents acting on wage cases at the same moment, in really committed transactions: a case closes once,
and an employer whose last two cases close at once is freed all the same."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import time as clock_time
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from dispatch.console.agents import create_agent
from dispatch.jobs.services import JobRequest, create_job
from dispatch.models import (
    Agent,
    AuditEvent,
    Employer,
    EmployerStatus,
    FollowUp,
    Job,
    JobSource,
    JobStatus,
    Message,
    OutboxEvent,
    Ticket,
    WageCase,
    WageCaseStatus,
)
from dispatch.wages.services import close_case, open_case
from tests.console.helpers import PASSWORD, csrf_token, sign_in
from tests.factories import Market
from tests.helpers import text_in
from tests.wages.conftest import MATCH_JOB, NOW, TOMORROW, placement
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


# -- a case opening or closing while the employer posts a job (and the lock order of a closing) -----


def in_thread(work: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # reported by the assertions
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def blocked_or_done(runtime, thread: threading.Thread) -> bool:
    """Wait until `thread` waits for a row lock (True) or has finished (False)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if not thread.is_alive():
            return False
        with runtime.db.engine.connect() as connection:
            waiting = connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        if waiting:
            return True
        time.sleep(0.02)
    raise AssertionError("the other transaction neither waited nor finished")


def arrange(runtime, *, open_it: bool = True) -> dict[str, Any]:
    with runtime.db.transaction() as session:
        market = Market(session)
        p = placement(session, runtime, market)
        case_id = open_case(session, runtime.settings, p.follow_up, NOW).id if open_it else None
        agent = create_agent(session, "a1", PASSWORD, "agent", "LZ")
        request = JobRequest(
            trade_id=market.trade("plumber_electrician").id,
            headcount=1,
            work_date=TOMORROW,
            start_time=clock_time(8, 0),
            days=1,
            daily_pay=300,
            site_id=market.site("LZ-TX").id,
        )
        return {
            "case_id": case_id,
            "follow_up_id": p.follow_up.id,
            "employer_id": p.employer.id,
            "employer_phone": p.employer.phone,
            "agent_id": agent.id,
            "request": request,
        }


def post_job(runtime, ids: dict[str, Any]) -> int:
    with runtime.db.transaction() as session:
        employer = session.get_one(Employer, ids["employer_id"])
        return create_job(session, employer, ids["request"], JobSource.IVR).id


def close_it(runtime, session, ids: dict[str, Any]) -> None:
    agent = session.get_one(Agent, ids["agent_id"])
    close_case(session, runtime.settings, agent, ids["case_id"], WageCaseStatus.RECOVERED, None, NOW)


def job_state(runtime, job_id: int) -> tuple[JobStatus, int]:
    with runtime.db.transaction() as session:
        rows = session.scalars(select(OutboxEvent).where(OutboxEvent.task == MATCH_JOB))
        return session.get_one(Job, job_id).status, len([row for row in rows if row.args == [job_id]])


def test_a_job_posted_while_the_last_case_closes_goes_to_matching(committed) -> None:
    runtime, _ = committed
    ids = arrange(runtime)
    with runtime.db.transaction() as closing:
        close_it(runtime, closing, ids)  # not committed yet: the employer is still held for others
        thread, outcome = in_thread(lambda: post_job(runtime, ids))
        blocked_or_done(runtime, thread)
    thread.join(timeout=60)
    assert "error" not in outcome, outcome
    assert job_state(runtime, outcome["value"]) == (JobStatus.OPEN, 1)


def test_a_job_posted_while_a_case_opens_is_held(committed) -> None:
    runtime, _ = committed
    ids = arrange(runtime, open_it=False)
    with runtime.db.transaction() as opening:
        open_case(opening, runtime.settings, opening.get_one(FollowUp, ids["follow_up_id"]), NOW)
        thread, outcome = in_thread(lambda: post_job(runtime, ids))
        blocked_or_done(runtime, thread)
    thread.join(timeout=60)
    assert "error" not in outcome, outcome
    assert job_state(runtime, outcome["value"]) == (JobStatus.HELD, 0)


def test_an_sms_request_confirmed_while_the_last_case_closes_goes_to_matching(committed) -> None:
    runtime, app = committed
    ids = arrange(runtime)
    client = app.test_client()
    text_in(client, "招 水电工 1人 明天 300元 太西", sender=ids["employer_phone"])
    with runtime.db.transaction() as closing:
        close_it(runtime, closing, ids)
        thread, outcome = in_thread(lambda: text_in(app.test_client(), "1", sender=ids["employer_phone"]))
        blocked_or_done(runtime, thread)
    thread.join(timeout=60)
    assert "error" not in outcome, outcome
    with runtime.db.transaction() as session:
        query = select(Job.id).where(Job.employer_id == ids["employer_id"], Job.source == JobSource.SMS)
        job_id = session.scalars(query).one()
    assert job_state(runtime, job_id) == (JobStatus.OPEN, 1)


def test_closing_a_case_locks_the_employer_before_the_ticket(committed) -> None:
    """The order open_case and a job's cancellation take rows in (employer, then ticket), so a closing
    and a cancellation cannot each wait for the other (a deadlock, one agent's request failing)."""
    runtime, _ = committed
    ids = arrange(runtime)
    with runtime.db.transaction() as session:
        ticket_id = session.get_one(WageCase, ids["case_id"]).ticket_id

    def close() -> None:
        with runtime.db.transaction() as closing:
            close_it(runtime, closing, ids)

    with runtime.db.transaction() as holder:  # another request holding the case's ticket
        holder.scalars(select(Ticket).where(Ticket.id == ticket_id).with_for_update()).one()
        thread, outcome = in_thread(close)
        assert blocked_or_done(runtime, thread)  # the closing waits for the ticket ...
        with runtime.db.engine.connect() as probe:  # ... holding the employer's row already
            employer_row = select(Employer.id).where(Employer.id == ids["employer_id"])
            with pytest.raises(OperationalError, match="could not obtain lock"):
                probe.execute(employer_row.with_for_update(nowait=True))
    thread.join(timeout=60)
    assert "error" not in outcome, outcome
    with runtime.db.transaction() as session:
        assert session.get_one(WageCase, ids["case_id"]).status == WageCaseStatus.RECOVERED
        assert session.get_one(Employer, ids["employer_id"]).status == EmployerStatus.ACTIVE
