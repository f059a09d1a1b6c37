"""Outreach in the console: an agent fills the event and its audience, sees the count and the SMS cost,
schedules it (audited), and the event's page shows the send and the sign-ups; refused forms say why."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dispatch.models import AuditEvent, Event, Message, Outreach, OutreachStatus
from tests.console.conftest import signed_in
from tests.console.helpers import console_post, make_agent
from tests.factories import Market, commit
from tests.helpers import last_reply, run_jobs, text_in

FORM = {
    "kind": "policy_talk",
    "title_zh": "劳动维权政策宣讲",
    "title_en": "Talk: your rights at work",
    "site": "LZ-TX",
    "starts_at": "2026-12-05T15:00",
    "place_zh": "太西街道零工驿站",
    "place_en": "Taixi station",
    "capacity": "2",
    "audience_site": "LZ-TX",
    "idle_days": "",
    "registered_since": "",
    "language": "",
    "send_at": "",
}


@pytest.fixture
def town_agent(app, seeded, session, clock):
    return signed_in(app, make_agent(session, "taixi1", "agent", "LZ-TX"))


def test_count_and_cost_then_schedule_then_sign_ups(runtime, session, town_agent, client, clock) -> None:
    market = Market(session)
    workers = [market.worker(name="甲"), market.worker(name="乙", language="en"), market.worker(site="LZ-DJ")]
    commit(runtime, session)
    page = console_post(town_agent, "/console/outreach/new", {**FORM, "action": "preview"})
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "将发给2人（中文1人，英文1人）。" in body and "共3条短信计费（每人中文2条、英文1条）。" in body
    assert session.scalar(select(Event.id)) is None  # counting keeps nothing
    response = console_post(town_agent, "/console/outreach/new", {**FORM, "action": "schedule"})
    assert response.status_code == 302
    run_jobs(runtime)
    session.expire_all()
    outreach = session.scalars(select(Outreach)).one()
    assert (outreach.status, outreach.planned, outreach.sent) == (OutreachStatus.SENT, 2, 2)
    # Priced before the event had its number (as a 5-digit one), the cost shown is never below the cost.
    texts = session.scalars(select(Message).where(Message.kind == "outreach.event")).all()
    assert outreach.planned_segments == sum(text.segments for text in texts) <= 3
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "outreach.schedule"))
    assert event.details["planned"] == 2 and event.details["audience"]["site"] == "LZ-TX"
    assert (
        "政策宣讲：劳动维权政策宣讲，12月5日15点，太西街道零工驿站"
        in last_reply(session, workers[0].phone).body
    )
    text_in(client, f"报名 {outreach.event_id}", workers[0].phone)
    text_in(client, f"SIGNUP {outreach.event_id}", workers[1].phone)
    text_in(client, f"报名 {outreach.event_id}", workers[2].phone)  # not texted, may still sign up: full
    page = town_agent.get(response.headers["Location"]).get_data(as_text=True)
    assert "甲" in page and "乙" in page and "已报名" in page and "候补" in page
    listing = town_agent.get("/console/outreach/").get_data(as_text=True)
    assert "劳动维权政策宣讲" in listing and "<td>2/2</td>" in listing


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"site": "LZ-DJ"}, "没有这个站点，或它不在您的管辖范围内。"),
        ({"title_en": ""}, "中文和英文标题都要填写。"),
        ({"place_zh": ""}, "活动要填写开始时间和中文地点"),
        ({"place_en": "太西"}, "英文标题或地点含有中文或特殊符号"),
        ({"capacity": "0"}, "名额要在1到9999之间。"),
        ({"starts_at": "tomorrow"}, "开始时间的格式不对。"),
    ],
)
def test_a_form_that_cannot_go_is_refused_with_why(session, town_agent, change, message) -> None:
    response = console_post(town_agent, "/console/outreach/new", {**FORM, **change, "action": "schedule"})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(Event.id)) is None


def test_an_announcement_needs_no_time_place_or_places(runtime, session, town_agent) -> None:
    Market(session).worker(name="甲")
    commit(runtime, session)
    form = {
        **FORM,
        "kind": "announcement",
        "title_zh": "周六大厅停电，暂停服务",
        "title_en": "Hall closed Sat",
    }
    form.update(starts_at="", place_zh="", place_en="", capacity="", action="schedule")
    assert console_post(town_agent, "/console/outreach/new", form).status_code == 302
    run_jobs(runtime)
    event = session.scalars(select(Event)).one()
    assert event.capacity is None and event.starts_at is None
