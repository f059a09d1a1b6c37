"""What agents see of the follow-ups elsewhere: the job page (each placement's follow-up and ratings,
the employer's rating), the worker page's "follow-ups by phone call" switch, the counter form's box."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from dispatch.followup import asking
from dispatch.models import AuditEvent, FollowUpChannel, Worker
from tests.console.conftest import signed_in
from tests.console.helpers import console_post, make_agent
from tests.factories import Market
from tests.followup.conftest import DAY, at, follow_ups, place, run_follow_ups
from tests.helpers import text_in


def test_the_job_page_shows_each_placements_follow_up(runtime, session, client, clock, app, market: Market):
    employer = market.employer(name="王老板")
    zhang, li = market.worker(name="张三"), market.worker(name="李四")
    job = place(runtime, session, client, clock, market, zhang, li, employer=employer, work_date=DAY)
    clock.move_to(at(DAY + timedelta(days=1), time(9, 0)))
    console = signed_in(app, make_agent(session, "district1", "agent", "LZ"))
    page = console.get(f"/console/jobs/{job.id}").get_data(as_text=True)
    assert page.count("未回访") == 4 and "暂无评分" in page

    run_follow_ups(runtime)
    text_in(client, "2 4", sender=zhang.phone)
    text_in(client, f"{job.code} 2 0", sender=employer.phone)
    text_in(client, f"{job.code} 5", sender=employer.phone)
    page = console.get(f"/console/jobs/{job.id}").get_data(as_text=True)
    assert '<dd id="employer-rating">4.0分（1次）</dd>' in page
    assert "只给了一部分" in page and "4分" in page and "没来" in page
    assert "评分 5.0分（1次）" in page  # 张三, rated 5 by the employer
    assert page.count("已答复") == 3 and page.count("已发回访") == 1  # 李四 has not answered


def test_an_agent_switches_a_worker_to_follow_up_calls(runtime, session, client, clock, app, market: Market):
    worker = market.worker(name="赵六")
    session.commit()
    console = signed_in(app, make_agent(session, "district1", "agent", "LZ"))
    page = console.get(f"/console/people/workers/{worker.id}").get_data(as_text=True)
    assert '<dd id="prefers-voice">短信</dd>' in page and "改为打电话回访" in page
    no_token = console.post(f"/console/followups/workers/{worker.id}/voice", data={"prefers_voice": "yes"})
    assert no_token.status_code == 400 and session.get(Worker, worker.id).prefers_voice is False  # CSRF
    response = console_post(
        console, f"/console/followups/workers/{worker.id}/voice", {"prefers_voice": "yes"}
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Worker, worker.id).prefers_voice is True
    audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "worker.prefers_voice"))
    assert audit.target_id == worker.id and audit.details == {"prefers_voice": True}
    page = console.get(f"/console/people/workers/{worker.id}").get_data(as_text=True)
    assert "打电话（按键回答）" in page and "改为短信回访" in page

    # Its next follow-up is a call.
    job = place(runtime, session, client, clock, market, worker, work_date=DAY)
    with runtime.db.transaction() as work:
        asking.run(work, runtime.settings, at(DAY + timedelta(days=1), time(9, 0)))
    assert {
        fu.channel
        for fu in follow_ups(session, job)
        if fu.worker_id == worker.id and fu.party.value == "worker"
    } == {FollowUpChannel.VOICE}

    # Another town's agent cannot see (nor switch) this worker.
    stranger = signed_in(app, make_agent(session, "town1", "agent", "LZ-DJ"))
    response = console_post(
        stranger, f"/console/followups/workers/{worker.id}/voice", {"prefers_voice": "no"}
    )
    assert response.status_code == 404
    session.expire_all()
    assert session.get(Worker, worker.id).prefers_voice is True


def test_the_counter_form_takes_the_phone_call_preference(session, seeded, app) -> None:
    from tests.console.intake.conftest import Catalogue
    from tests.console.intake.test_worker_form import worker_form

    console = signed_in(app, make_agent(session, "town2", "agent", "LZ-TX"))
    catalogue = Catalogue(session)
    assert "回访打电话（不会用短信的工人）" in console.get("/console/intake/worker").get_data(as_text=True)
    response = console_post(console, "/console/intake/worker", worker_form(catalogue, prefers_voice="yes"))
    assert response.status_code in (200, 302)
    session.expire_all()
    worker = session.scalar(select(Worker).where(Worker.phone == "+8613900139001"))
    assert worker is not None and worker.prefers_voice is True
    audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "worker.register"))
    assert audit.details["prefers_voice"] is True
