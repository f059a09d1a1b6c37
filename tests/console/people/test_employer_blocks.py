"""An agent adds or removes a per-employer block on the worker's page and on the employer's page; each
change audited with the agent; matching leaves a blocked worker out of that employer's jobs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.models import AuditEvent, EmployerBlock, Offer, OfferStatus
from tests.factories import commit
from tests.helpers import run_jobs


def worked_for(session, people, employer, worker):  # type: ignore[no-untyped-def]
    """A past placement: what makes the employer (or the worker) one to choose on the other's page."""
    job = people.market.job(employer, work_date=(utcnow() - timedelta(days=3)).date())
    session.add(Offer(job_id=job.id, worker_id=worker.id, status=OfferStatus.ACCEPTED, responded_at=utcnow()))
    session.flush()
    return job


def block_rows(session) -> list[tuple[int, int, str]]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return [(b.employer_id, b.worker_id, b.reason) for b in session.scalars(select(EmployerBlock))]


def audit(session) -> list[tuple[str, int | None, dict]]:  # type: ignore[no-untyped-def]
    session.expire_all()
    query = select(AuditEvent).where(AuditEvent.action.like("employer_block.%")).order_by(AuditEvent.id)
    return [(e.action, e.agent_id, e.details) for e in session.scalars(query)]


def post(client, path: str, **form):  # type: ignore[no-untyped-def]
    from tests.console.helpers import console_post

    return console_post(client, path, form, follow_redirects=True).get_data(as_text=True)


def test_add_on_the_worker_page_and_remove_on_the_employers(agent_client, agent, people, session, runtime):
    worker = people.worker(name="张三")
    employer = people.market.employer(name="王老板")
    worked_for(session, people, employer, worker)
    commit(runtime, session)

    html = agent_client.get(f"/console/people/workers/{worker.id}").get_data(as_text=True)
    assert 'id="employer-blocks"' in html and "王老板" in html

    refused = post(agent_client, f"/console/people/workers/{worker.id}/employer-blocks", other_id=employer.id)
    assert "请选择对象并写明原因" in refused and block_rows(session) == []

    done = post(
        agent_client,
        f"/console/people/workers/{worker.id}/employer-blocks",
        other_id=employer.id,
        reason="雇主来电说干活马虎",
    )
    assert "以后不再派这位零工给该用工主体" in done
    assert block_rows(session) == [(employer.id, worker.id, "雇主来电说干活马虎")]
    details = {"employer_id": employer.id, "worker_id": worker.id, "via": "agent"}
    assert audit(session) == [("employer_block.add", agent.id, details)]

    # The employer's page lists the worker, with a way to lift it.
    html = agent_client.get(f"/console/people/employers/{employer.id}").get_data(as_text=True)
    assert f'data-block="{employer.id}-{worker.id}"' in html and "张三" in html
    path = f"/console/people/employers/{employer.id}/employer-blocks/{employer.id}/{worker.id}/remove"
    assert "已解除" in post(agent_client, path)
    assert block_rows(session) == []
    removed = audit(session)[-1]
    assert removed == ("employer_block.remove", agent.id, {**details, "reason": "雇主来电说干活马虎"})
    assert "这一条已经不在了" in post(agent_client, path)
    assert len(audit(session)) == 2


def test_add_on_the_employer_page_keeps_the_worker_from_the_next_job(
    agent_client, agent, people, session, runtime
):
    worker = people.worker(name="李四")
    other = people.worker(name="赵六")
    employer = people.market.employer(name="王老板")
    worked_for(session, people, employer, worker)
    commit(runtime, session)

    html = agent_client.get(f"/console/people/employers/{employer.id}").get_data(as_text=True)
    assert f'<option value="{worker.id}"' in html
    post(
        agent_client,
        f"/console/people/employers/{employer.id}/employer-blocks",
        other_id=worker.id,
        reason="两次没来",
    )
    assert block_rows(session) == [(employer.id, worker.id, "两次没来")]
    assert "这一条已经存在" in post(
        agent_client,
        f"/console/people/employers/{employer.id}/employer-blocks",
        other_id=worker.id,
        reason="x",
    )

    job = people.market.job(employer, headcount=2)
    commit(runtime, session)
    run_jobs(runtime)
    session.expire_all()
    offered = set(session.scalars(select(Offer.worker_id).where(Offer.job_id == job.id)))
    assert other.id in offered and worker.id not in offered


def test_a_block_of_another_pages_pair_is_refused(agent_client, people, session, runtime):
    worker = people.worker()
    employer, stranger = people.market.employer(), people.market.employer()
    worked_for(session, people, employer, worker)
    session.add(EmployerBlock(employer_id=employer.id, worker_id=worker.id, reason="r"))
    commit(runtime, session)
    path = f"/console/people/employers/{stranger.id}/employer-blocks/{employer.id}/{worker.id}/remove"
    assert "请选择对象并写明原因" in post(agent_client, path)
    assert block_rows(session) == [(employer.id, worker.id, "r")]
