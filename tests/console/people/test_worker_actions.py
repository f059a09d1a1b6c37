"""An agent pauses or resumes a worker's offers, blocks or unblocks them, edits their notes: each audited."""

from __future__ import annotations

from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.models import AuditEvent, Contact, Worker, WorkerStatus
from tests.console.helpers import console_post, make_agent, sign_in

PHONE = "+8613800138000"


def act(client, worker: Worker, action: str, **form):
    return console_post(client, f"/console/people/workers/{worker.id}/{action}", form, follow_redirects=True)


def fresh(session, worker: Worker) -> Worker:
    session.expire_all()
    return session.get(Worker, worker.id)


def audit(session, worker: Worker) -> list[AuditEvent]:
    session.expire_all()
    query = select(AuditEvent).where(AuditEvent.target_type == "worker", AuditEvent.target_id == worker.id)
    return list(session.scalars(query.order_by(AuditEvent.id)))


def test_pause_and_resume(agent_client, agent, people, session):
    worker = people.worker(PHONE)
    assert "已暂停派活。" in act(agent_client, worker, "pause").get_data(as_text=True)
    assert fresh(session, worker).status == WorkerStatus.PAUSED
    assert "已恢复派活。" in act(agent_client, worker, "resume").get_data(as_text=True)
    assert fresh(session, worker).status == WorkerStatus.ACTIVE
    events = audit(session, worker)
    assert [(e.action, e.details["before"], e.details["after"]) for e in events] == [
        ("worker.pause", "active", "paused"),
        ("worker.resume", "paused", "active"),
    ]
    assert all(e.agent_id == agent.id for e in events)


def test_pause_is_refused_unless_active_and_changes_nothing(agent_client, people, session):
    worker = people.worker(PHONE, status=WorkerStatus.PENDING)
    html = act(agent_client, worker, "pause").get_data(as_text=True)
    assert "只有“接活中”的零工可以暂停。" in html
    assert fresh(session, worker).status == WorkerStatus.PENDING
    assert "这位零工没有暂停派活。" in act(agent_client, worker, "resume").get_data(as_text=True)
    assert audit(session, worker) == []


def test_block_needs_a_reason_and_writes_it_into_the_notes(agent_client, people, session):
    worker = people.worker(PHONE, notes="老实可靠")
    assert "请填写停派原因。" in act(agent_client, worker, "block", reason="  ").get_data(as_text=True)
    assert fresh(session, worker).status == WorkerStatus.ACTIVE

    html = act(agent_client, worker, "block", reason="连续两次爽约").get_data(as_text=True)
    assert "已停止向这位零工派活" in html
    worker = fresh(session, worker)
    assert worker.status == WorkerStatus.BLOCKED
    assert worker.notes.startswith("老实可靠\n[") and worker.notes.endswith(" district1] 连续两次爽约")
    [event] = audit(session, worker)
    assert event.action == "worker.block" and event.note == "连续两次爽约"
    assert "这位零工已经停派。" in act(agent_client, worker, "block", reason="again").get_data(as_text=True)


def test_unblock_goes_back_to_active_or_to_what_the_worker_chose(agent_client, people, session):
    worker = people.worker(PHONE, status=WorkerStatus.BLOCKED)
    assert "已解除停派。" in act(agent_client, worker, "unblock").get_data(as_text=True)
    assert fresh(session, worker).status == WorkerStatus.ACTIVE
    assert "这位零工没有停派。" in act(agent_client, worker, "unblock").get_data(as_text=True)

    opted_out = people.worker("+8613900139000", status=WorkerStatus.BLOCKED)
    session.add(Contact(phone=opted_out.phone, opted_out_at=utcnow()))
    session.commit()
    act(agent_client, opted_out, "unblock")
    assert fresh(session, opted_out).status == WorkerStatus.OPTED_OUT  # an unblock never opts anyone in

    pending = people.worker("+8613700137000", status=WorkerStatus.PENDING)
    pending.status = WorkerStatus.BLOCKED
    session.commit()
    act(agent_client, pending, "unblock")
    assert fresh(session, pending).status == WorkerStatus.PENDING  # still has not said yes


def test_notes_are_saved_and_audited(agent_client, people, session):
    worker = people.worker(PHONE, notes="旧备注")
    html = act(agent_client, worker, "notes", notes="只做周末\r\n有电工证").get_data(as_text=True)
    assert "备注已保存。" in html
    assert fresh(session, worker).notes == "只做周末\n有电工证"
    [event] = audit(session, worker)
    assert event.action == "worker.notes"
    assert event.details == {"before": "旧备注", "after": "只做周末\n有电工证"}


def test_actions_need_the_csrf_token(agent_client, people, session):
    worker = people.worker(PHONE)
    response = agent_client.post(f"/console/people/workers/{worker.id}/pause")
    assert response.status_code == 400
    assert fresh(session, worker).status == WorkerStatus.ACTIVE


def test_a_town_agent_cannot_act_on_another_towns_worker(app, people, session):
    other = people.worker(PHONE, site="LZ-DJ")
    make_agent(session, "t1", "agent", "LZ-TX")
    client = app.test_client()
    sign_in(client, "t1")
    for action in ("pause", "block", "notes"):
        response = console_post(client, f"/console/people/workers/{other.id}/{action}", {"reason": "x"})
        assert response.status_code == 404
    assert fresh(session, other).status == WorkerStatus.ACTIVE


def test_the_page_offers_the_actions_the_status_allows(agent_client, people):
    active = people.worker(PHONE)
    html = agent_client.get(f"/console/people/workers/{active.id}").get_data(as_text=True)
    assert f"/workers/{active.id}/pause" in html and f"/workers/{active.id}/block" in html
    assert f"/workers/{active.id}/resume" not in html and f"/workers/{active.id}/unblock" not in html
    blocked = people.worker("+8613900139000", status=WorkerStatus.BLOCKED)
    html = agent_client.get(f"/console/people/workers/{blocked.id}").get_data(as_text=True)
    assert f"/workers/{blocked.id}/unblock" in html and f"/workers/{blocked.id}/pause" not in html
