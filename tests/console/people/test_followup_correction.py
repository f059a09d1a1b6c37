"""What a follow-up call reveals is written on the worker's record from the follow-up panel: a new pay
floor or a trade, through the same path and audit (before and after) as the worker page's edit."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from dispatch.models import AuditEvent, FollowUpParty, Trade, Worker
from tests.console.conftest import signed_in
from tests.console.helpers import console_post, make_agent
from tests.factories import Market
from tests.followup.conftest import EVE
from tests.followup.test_console import unanswered


@pytest.fixture
def clock_start() -> datetime:
    return EVE  # the follow-up helpers' story starts on the eve of the job's day


def test_a_follow_up_records_a_new_pay_floor_and_a_trade_on_the_worker(
    runtime, session, client, clock, market: Market, app
) -> None:
    _, worker, _, rows = unanswered(runtime, session, client, clock, market)
    agent = make_agent(session, "district1", "agent", "LZ")
    console = signed_in(app, agent)
    worker_side, employer_side = rows[FollowUpParty.WORKER], rows[FollowUpParty.EMPLOYER]
    page = console.get(f"/console/tickets/{worker_side.ticket_id}").get_data(as_text=True)
    assert f"/console/followups/{worker_side.id}/correct" in page and "更正零工资料" in page
    employer_page = console.get(f"/console/tickets/{employer_side.ticket_id}").get_data(as_text=True)
    assert "/correct" not in employer_page  # the employer's side has no worker record to correct

    path = f"/console/followups/{worker_side.id}/correct"
    for form, said in (({}, "请先填写新的日薪或选择工种。"), ({"min_pay": "9"}, "日薪须在30至5000元之间。")):
        response = console_post(console, path, form)
        assert said in console.get(response.location).get_data(as_text=True)

    carpenter = session.scalar(select(Trade.id).where(Trade.code == "carpenter"))
    response = console_post(console, path, {"min_pay": "280", "trade": str(carpenter), "years": "4"})
    assert response.location.endswith(f"/console/tickets/{worker_side.ticket_id}")
    assert "已记到零工资料上" in console.get(response.location).get_data(as_text=True)
    session.expire_all()
    row = session.get_one(Worker, worker.id)
    assert row.min_daily_pay == 280
    assert {wt.trade.code: wt.years_experience for wt in row.trades} == {
        "plumber_electrician": 3,
        "carpenter": 4,
    }
    [event] = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "worker.edit", AuditEvent.target_id == worker.id)
    ).all()
    assert event.agent_id == agent.id
    assert (event.details["via"], event.details["follow_up_id"]) == ("follow_up", worker_side.id)
    assert event.details["before"] == {"min_daily_pay": 200, "trades": {"plumber_electrician": 3}}
    assert event.details["after"] == {
        "min_daily_pay": 280,
        "trades": {"carpenter": 4, "plumber_electrician": 3},
    }
