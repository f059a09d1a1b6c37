"""The hall's counter (issue 18, part 3): a sign-up cancelled (`取消报名 7`, or by an agent) gives its
place to the first of the waiting list, who is texted; attendance is taken in the console (search by
name or phone tail, came, completed, walk-ins, audited); finishing a training that names a trade gives
the worker the trade, and matching offers them that trade's jobs at once."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from dispatch.models import (
    AuditEvent,
    Event,
    EventKind,
    EventSignup,
    Job,
    SignupStatus,
    WorkerTrade,
)
from dispatch.outreach import services
from tests.console.conftest import signed_in
from tests.console.helpers import console_post, make_agent
from tests.factories import NOW, SHANGHAI, Market, commit
from tests.helpers import last_reply, offers_of, outbound_to, run_jobs, text_in


def at(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


def event(session, runtime, capacity: int = 1, trade: str | None = None) -> Event:
    market = Market(session)
    made = Event(
        kind=EventKind.TRAINING,
        title_zh="电焊技能培训班",
        title_en="Welding skills camp",
        site_id=market.site("LZ-TX").id,
        starts_at=at(9, day=5),
        place_zh="零工市场服务大厅二楼",
        place_en="Market hall, 2nd floor",
        capacity=capacity,
        trade_id=market.trade(trade).id if trade else None,
    )
    return services.create_event(session, runtime.settings, made, None)


@pytest.fixture
def people(session, seeded, clock):
    market = Market(session)
    found = {
        "first": market.worker("+8613900001111", name="甲"),
        "second": market.worker("+8613900002222", name="乙", language="en"),
        "third": market.worker("+8613900003333", name="丙"),
        "stranger": market.worker("+8613900008765", name="丁", trades=("porter",)),
    }
    session.flush()
    return found


@pytest.fixture
def town_agent(app, seeded, session, clock):
    return signed_in(app, make_agent(session, "taixi1", "agent", "LZ-TX"))


def statuses(session, made: Event) -> dict[int, SignupStatus]:
    session.expire_all()
    rows = session.execute(
        select(EventSignup.worker_id, EventSignup.status).where(EventSignup.event_id == made.id)
    )
    return {worker_id: status for worker_id, status in rows}


def test_a_place_cancelled_by_sms_goes_to_the_first_waiting(runtime, session, client, people, clock) -> None:
    made = event(session, runtime, capacity=1)
    session.commit()
    for name in ("first", "second", "third"):
        text_in(client, f"报名 {made.id}", people[name].phone)
    text_in(client, f"取消报名 {made.id}", people["first"].phone)
    assert last_reply(session, people["first"].phone).body == "【潞州零工】已取消报名：电焊技能培训班。"
    moved = last_reply(session, people["second"].phone)  # the first waiting, in English
    assert moved.kind == "outreach.moved_up"
    assert moved.body == (
        "Luzhou Jobs: A place freed up, you are signed up: Welding skills camp, Dec 5 9:00, "
        f"Market hall, 2nd floor. Can't come? Reply CANCEL SIGNUP {made.id}"
    )
    assert moved.not_after == at(9, day=5)
    assert statuses(session, made) == {
        people["first"].id: SignupStatus.CANCELLED,
        people["second"].id: SignupStatus.BOOKED,
        people["third"].id: SignupStatus.WAITING,
    }
    # The one moved up is reminded the evening before, as any place is; the one who cancelled is not.
    clock.move_to(at(19, day=4))
    run_jobs(runtime, with_scheduler=True)
    assert last_reply(session, people["second"].phone).kind == "outreach.reminder"
    assert "outreach.reminder" not in [m.kind for m in outbound_to(session, people["first"].phone)]


def test_cancelling_a_waiting_place_or_nothing_moves_nobody(runtime, session, client, people, clock) -> None:
    made = event(session, runtime, capacity=1)
    session.commit()
    for name in ("first", "second", "third"):
        text_in(client, f"报名 {made.id}", people[name].phone)
    text_in(client, f"cancel signup {made.id}", people["second"].phone)  # waiting: nobody moves
    assert last_reply(session, people["second"].phone).kind == "outreach.cancelled"
    assert [m.kind for m in outbound_to(session, people["third"].phone)] == ["outreach.waiting"]
    text_in(client, f"取消报名 {made.id}", people["second"].phone)  # again: nothing to cancel
    assert last_reply(session, people["second"].phone).body == (
        f"Luzhou Jobs: You have no sign-up for event number {made.id} to cancel. Please check the number."
    )
    text_in(client, f"报名 {made.id}", people["second"].phone)  # signs up again: the back of the queue
    assert "number 2 on the waiting list" in last_reply(session, people["second"].phone).body


def test_an_agent_cancels_a_place_audited_and_the_waiting_list_moves_up(
    runtime, session, client, people, town_agent, clock
) -> None:
    made = event(session, runtime, capacity=1)
    session.commit()
    text_in(client, f"报名 {made.id}", people["first"].phone)
    text_in(client, f"报名 {made.id}", people["third"].phone)
    signup = session.scalars(select(EventSignup).where(EventSignup.worker_id == people["first"].id)).one()
    response = console_post(town_agent, f"/console/outreach/signups/{signup.id}/cancel", {})
    assert response.status_code == 302
    assert last_reply(session, people["first"].phone).kind == "outreach.cancelled"
    assert last_reply(session, people["third"].phone).body.startswith(
        "【潞州零工】有空位了，您已从候补转为报名成功：电焊技能培训班，12月5日9点"
    )
    [audit] = session.scalars(select(AuditEvent).where(AuditEvent.action == "outreach.signup_cancel"))
    assert audit.details["moved_up_worker_id"] == people["third"].id
    page = town_agent.get(f"/console/outreach/{made.id}").get_data(as_text=True)
    assert "已从候补转为报名" in page and "已取消" in page


def test_attendance_at_the_counter_search_came_and_walk_in(
    runtime, session, client, people, town_agent, clock
) -> None:
    made = event(session, runtime, capacity=5)
    session.commit()
    text_in(client, f"报名 {made.id}", people["first"].phone)
    text_in(client, f"报名 {made.id}", people["second"].phone)
    counter = f"/console/outreach/{made.id}/counter"
    page = town_agent.get(counter).get_data(as_text=True)
    assert "甲" in page and "乙" in page and "尾号1111" in page and "+8613900001111" not in page
    by_tail = town_agent.get(f"{counter}?q=2222").get_data(as_text=True)
    assert "乙" in by_tail and "甲" not in by_tail and "autofocus>到场<" in by_tail.replace('"', "")
    by_name = town_agent.get(f"{counter}?q=甲").get_data(as_text=True)
    assert "尾号1111" in by_name and "尾号2222" not in by_name
    first = session.scalars(select(EventSignup).where(EventSignup.worker_id == people["first"].id)).one()
    assert console_post(town_agent, f"{counter}/{first.id}", {"mark": "came"}).status_code == 302
    # A walk-in: found by the tail of their number, added and marked as come.
    found = town_agent.get(f"{counter}?q=8765").get_data(as_text=True)
    assert "丁" in found and "加入并签到" in found
    console_post(town_agent, f"{counter}/walk-in", {"worker_id": str(people["stranger"].id)})
    session.expire_all()
    rows = {row.worker_id: row for row in session.scalars(select(EventSignup))}
    assert rows[people["first"].id].attended_at == NOW
    assert rows[people["second"].id].attended_at is None
    walk_in = rows[people["stranger"].id]
    assert walk_in.walk_in and walk_in.attended_at is not None and walk_in.status == SignupStatus.BOOKED
    actions = [a.action for a in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions[-2:] == ["outreach.attendance", "outreach.walk_in"]
    page = town_agent.get(counter).get_data(as_text=True)
    assert "报名3人，候补0人；到场2人，结业0人，现场加入1人。" in page
    # Undone (a wrong row clicked): the mark goes, the undo is audited too.
    console_post(town_agent, f"{counter}/{first.id}", {"mark": "absent"})
    session.expire_all()
    assert session.get(EventSignup, first.id).attended_at is None


def test_an_event_of_another_site_is_not_the_agents(runtime, session, people, app, clock) -> None:
    made = event(session, runtime)
    other = signed_in(app, make_agent(session, "dongjie1", "agent", "LZ-DJ"))
    session.commit()
    assert other.get(f"/console/outreach/{made.id}/counter").status_code == 404


def test_finishing_a_training_adds_its_trade_and_matching_offers_it_at_once(
    runtime, session, client, people, town_agent, clock
) -> None:
    stranger = people[
        "stranger"
    ]  # a porter, trained as a cleaner (家政培训; welding is high-risk: insurance first)
    made = event(session, runtime, capacity=5, trade="cleaner")
    session.commit()
    text_in(client, f"报名 {made.id}", stranger.phone)
    market = Market(session)
    before = market.job(trade="cleaner", site="LZ-TX")
    commit(runtime, session)
    run_jobs(runtime)
    assert stranger.id not in {offer.worker_id for offer in offers_of(session, before)}
    signup = session.scalars(select(EventSignup).where(EventSignup.worker_id == stranger.id)).one()
    response = console_post(
        town_agent, f"/console/outreach/{made.id}/counter/{signup.id}", {"mark": "completed"}
    )
    assert response.status_code == 302
    session.expire_all()
    held = session.get(WorkerTrade, (stranger.id, market.trade("cleaner").id))
    assert held is not None and held.years_experience == 0
    [audit] = session.scalars(select(AuditEvent).where(AuditEvent.action == "outreach.attendance"))
    assert audit.details["mark"] == "completed" and audit.details["trade_added"] == "cleaner"
    page = town_agent.get(f"/console/outreach/{made.id}/counter").get_data(as_text=True)
    assert "已给丁加上工种" in page
    after = market.job(trade="cleaner", site="LZ-TX")
    commit(runtime, session)
    run_jobs(runtime)
    assert stranger.id in {offer.worker_id for offer in offers_of(session, session.get(Job, after.id))}
    # Completing again adds nothing more (audited, no second trade row).
    console_post(town_agent, f"/console/outreach/{made.id}/counter/{signup.id}", {"mark": "completed"})
    assert len(session.scalars(select(WorkerTrade).where(WorkerTrade.worker_id == stranger.id)).all()) == 2


def test_the_create_form_takes_a_trainings_trade(runtime, session, town_agent, clock) -> None:
    form = {
        "kind": "training",
        "title_zh": "电焊技能培训班",
        "title_en": "Welding skills camp",
        "site": "LZ-TX",
        "starts_at": "2026-12-05T09:00",
        "place_zh": "零工市场服务大厅二楼",
        "place_en": "Market hall",
        "capacity": "20",
        "training_trade": "welder",
        "audience_site": "LZ-TX",
        "action": "schedule",
    }
    assert console_post(town_agent, "/console/outreach/new", form).status_code == 302
    made = session.scalars(select(Event)).one()
    assert made.trade is not None and made.trade.code == "welder"
    refused = console_post(town_agent, "/console/outreach/new", {**form, "training_trade": "astronaut"})
    assert refused.status_code == 400 and "没有这个工种。" in refused.get_data(as_text=True)
