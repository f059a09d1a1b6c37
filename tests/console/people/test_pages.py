"""A worker's and an employer's page: details, offers, placements, jobs, and one timeline of SMS and calls."""

from __future__ import annotations

import re
from datetime import timedelta

from dispatch.clock import utcnow
from dispatch.models import (
    Call,
    CallOutcome,
    Contact,
    Direction,
    Message,
    MessageStatus,
    Offer,
    OfferStatus,
    WorkerStatus,
)
from tests.console.helpers import console_post, make_agent, sign_in

PHONE = "+8613800138000"
ENTRY = re.compile(r'data-kind="(sms|call)"(?: data-direction="(\w+)")? data-id="(\d+)"')


def add_message(session, phone, direction, body, at, **values) -> Message:
    status = MessageStatus.HANDLED if direction == Direction.INBOUND else MessageStatus.DELIVERED
    message = Message(
        direction=direction,
        phone=phone,
        body=body,
        status=values.pop("status", status),
        created_at=at,
        **values,
    )
    session.add(message)
    session.commit()
    return message


def add_call(session, phone, at, **values) -> Call:
    call = Call(call_sid=f"CA{phone[-8:]}{at.timestamp():.0f}", phone=phone, created_at=at, **values)
    session.add(call)
    session.commit()
    return call


def timeline_of(html: str) -> list[tuple[str, int]]:
    return [(kind, int(row_id)) for kind, _, row_id in ENTRY.findall(html)]


def test_worker_page_shows_the_details_an_agent_needs(agent_client, people, session):
    worker = people.worker(
        PHONE,
        name="李明",
        trades={"plumber_electrician": 8, "bricklayer": 2},
        min_daily_pay=280,
        rating_sum=9,
        rating_count=2,
        placements_worked=7,
        no_shows=1,
        cancellations=3,
        notes="只做白天的活",
    )
    session.add(Contact(phone=PHONE, language="en"))
    session.commit()
    html = agent_client.get(f"/console/people/workers/{worker.id}").get_data(as_text=True)
    for shown in (
        "李明",
        "138 0013 8000",
        "太行西街",  # home site LZ-TX
        "水电工（8年）",
        "（2年）",
        "280元",
        "英文",  # the language its SMS go out in
        "窗口",  # registered at the counter
        "4.5分（2次评价）",
        "上工7次，爽约1次，接单后取消3次",
        "只做白天的活",
        "接活中",
        "可以接收短信",
    ):
        assert shown in html, shown


def test_timeline_holds_every_sms_and_call_in_time_order(agent_client, people, session):
    worker = people.worker(PHONE)
    start = utcnow() - timedelta(hours=3)
    inbound = add_message(session, PHONE, Direction.INBOUND, "注册", start, worker_id=worker.id)
    call = add_call(
        session,
        PHONE,
        start + timedelta(minutes=5),
        flow="register",
        outcome=CallOutcome.REGISTRATION,
        status="completed",
        ended_at=start + timedelta(minutes=7),
    )
    # An outbound text written before the worker row existed carries only the phone.
    outbound = add_message(
        session, PHONE, Direction.OUTBOUND, "【潞州零工】登记成功！", start + timedelta(minutes=9)
    )
    reply = add_message(
        session, PHONE, Direction.INBOUND, "1 123", start + timedelta(minutes=30), worker_id=worker.id
    )
    # Written later, but it happened first: the timeline goes by time, not by id.
    early = add_message(session, PHONE, Direction.OUTBOUND, "早先的短信", start - timedelta(days=1))
    add_message(session, "+8613900139000", Direction.INBOUND, "别人的短信", start + timedelta(minutes=1))
    add_call(session, "+8613900139000", start + timedelta(minutes=2))

    html = agent_client.get(f"/console/people/workers/{worker.id}").get_data(as_text=True)
    assert timeline_of(html) == [
        ("sms", early.id),
        ("sms", inbound.id),
        ("call", call.id),
        ("sms", outbound.id),
        ("sms", reply.id),
    ]
    assert "别人的短信" not in html
    assert "登记求职" in html and "120秒" in html  # the call's outcome and length
    assert 'data-direction="inbound"' in html and 'data-direction="outbound"' in html
    assert "已送达" in html  # the outbound status
    # The fragment htmx refreshes is the same timeline.
    fragment = agent_client.get(f"/console/people/workers/{worker.id}/timeline").get_data(as_text=True)
    assert timeline_of(fragment) == timeline_of(html)
    assert "<html" not in fragment


def test_failed_and_held_messages_say_so(agent_client, people, session):
    worker = people.worker(PHONE)
    add_message(
        session, PHONE, Direction.OUTBOUND, "失败的", utcnow(), status=MessageStatus.FAILED, error_code=30006
    )
    add_message(
        session,
        PHONE,
        Direction.OUTBOUND,
        "等待的",
        utcnow(),
        status=MessageStatus.PENDING,
        send_after=utcnow() + timedelta(hours=8),
    )
    html = agent_client.get(f"/console/people/workers/{worker.id}").get_data(as_text=True)
    assert "发送失败" in html and "错误码 30006" in html
    assert "待发" in html and "将于" in html  # held: when it goes out


def test_worker_page_lists_offers_and_placements(agent_client, people, session):
    worker = people.worker(PHONE)
    employer = people.employer()
    taken, refused = people.job(employer), people.job(employer)
    session.add_all(
        [
            Offer(job_id=taken.id, worker_id=worker.id, wave=2, status=OfferStatus.ACCEPTED),
            Offer(job_id=refused.id, worker_id=worker.id, wave=1, status=OfferStatus.DECLINED),
        ]
    )
    session.commit()
    html = agent_client.get(f"/console/people/workers/{worker.id}").get_data(as_text=True)
    placements = html.split("已接的活")[1].split("派活记录")[0]
    offers = html.split("派活记录")[1]
    assert f'href="/console/jobs/{taken.id}">{taken.code}</a>' in placements
    assert refused.code not in placements
    assert f">{taken.code}</a>" in offers and f">{refused.code}</a>" in offers
    assert "已接单" in offers and "不接" in offers and "<td>2</td>" in offers


def test_employer_page_lists_jobs_and_the_timeline(agent_client, people, session):
    employer = people.employer(PHONE, name="鑫源装饰")
    job = people.job(employer)
    message = add_message(
        session, PHONE, Direction.INBOUND, "招 水电工 2人", utcnow(), employer_id=employer.id
    )
    call = add_call(session, PHONE, utcnow() - timedelta(minutes=1), flow="job", outcome=CallOutcome.JOB)
    html = agent_client.get(f"/console/people/employers/{employer.id}").get_data(as_text=True)
    assert "鑫源装饰" in html and "太行西街8号" in html
    assert f'<a href="/console/jobs/{job.id}">{job.code}</a>' in html
    assert "0/2" in html and "招工中" in html
    assert timeline_of(html) == [("call", call.id), ("sms", message.id)]


def test_opted_out_worker_page_says_so(agent_client, people, session):
    worker = people.worker(PHONE, status=WorkerStatus.OPTED_OUT)
    session.add(Contact(phone=PHONE, opted_out_at=utcnow()))
    session.commit()
    html = agent_client.get(f"/console/people/workers/{worker.id}").get_data(as_text=True)
    assert "已退订" in html and "此号码已退订短信" in html


def test_another_towns_people_are_not_found_by_url(app, session, people):
    village = people.worker(site="LZ-TX")
    other = people.worker(site="LZ-DJ")
    other_employer = people.employer(site="LZ-DJ")
    own_employer = people.employer(site="LZ-TX")
    make_agent(session, "t1", "agent", "LZ-TX")
    client = app.test_client()
    sign_in(client, "t1")
    assert client.get(f"/console/people/workers/{village.id}").status_code == 200
    assert client.get(f"/console/people/employers/{own_employer.id}").status_code == 200
    assert client.get(f"/console/people/workers/{other.id}").status_code == 404
    assert client.get(f"/console/people/workers/{other.id}/timeline").status_code == 404
    assert client.get(f"/console/people/employers/{other_employer.id}").status_code == 404
    assert client.get("/console/people/workers/999999").status_code == 404


def test_an_employers_jobs_at_other_sites_stay_hidden_from_a_town_agent(app, session, people):
    employer = people.employer(site="LZ-TX")
    own = people.job(employer)
    elsewhere = people.job(employer, site="LZ-DJ")
    make_agent(session, "t1", "agent", "LZ-TX")
    client = app.test_client()
    sign_in(client, "t1")
    html = client.get(f"/console/people/employers/{employer.id}").get_data(as_text=True)
    assert f"/console/jobs/{own.id}" in html and f"/console/jobs/{elsewhere.id}" not in html


def test_pages_need_a_session(client, people):
    worker = people.worker()
    response = client.get(f"/console/people/workers/{worker.id}")
    assert response.status_code == 302 and "/console/sign-in" in response.headers["Location"]


def test_worker_page_in_english(agent_client, people, session):
    worker = people.worker(PHONE, name="李明", min_daily_pay=280)
    add_message(session, PHONE, Direction.INBOUND, "FREE", utcnow(), worker_id=worker.id)
    console_post(agent_client, "/console/language", {"lang": "en"})
    html = agent_client.get(f"/console/people/workers/{worker.id}").get_data(as_text=True)
    for shown in (
        "Worker",
        "Home site",
        "Taihang West Street",
        "¥280",
        "Placements",
        "SMS in",
        "Send an SMS",
        "Active",
    ):
        assert shown in html, shown
    main = html.split("<main>")[1]
    assert not re.search(r"people\.\w", main)  # no text key left untranslated
    assert "接活中" not in main and "短信" not in main
