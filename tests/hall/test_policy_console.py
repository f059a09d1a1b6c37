"""Supervisors keep the policy topics in the console: add, edit, retire, each audited; a text that
does not fit its SMS budget (zh 2 UCS-2 parts, en 2 GSM-7 parts, the menu too) is refused with why;
agents cannot; the report counts what was asked per topic and channel over the chosen weeks."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from dispatch.hall import policy
from dispatch.models import AuditEvent, PolicyAsk, PolicyTopic
from tests.console.conftest import signed_in
from tests.console.helpers import console_post, make_agent
from tests.factories import SHANGHAI
from tests.helpers import last_reply, text_in

NEW = {
    "position": "7",
    "title_zh": "求职登记",
    "title_en": "Sign up",
    "body_zh": "带身份证到零工市场服务大厅左边窗口登记，或发短信“注册”。",
    "body_en": "Bring your ID card to the desk on the left in the market hall, or text REG.",
}


@pytest.fixture
def supervisor_client(app, seeded, session):
    return signed_in(app, make_agent(session, "sup1", "supervisor", "LZ"))


def audit(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_supervisor_adds_a_topic_that_texts_then_send(supervisor_client, client, session) -> None:
    page = supervisor_client.get("/console/hall/policy/").get_data(as_text=True)
    assert "劳动维权" in page and "零工日险" in page
    response = console_post(supervisor_client, "/console/hall/policy/new", NEW)
    assert response.status_code == 302
    [event] = audit(session, "policy_topic.create")
    assert event.details["title_zh"] == "求职登记" and event.target_type == "policy_topic"
    text_in(client, "政策 7", "+8613922223333")
    assert last_reply(session, "+8613922223333").body.startswith("【潞州零工】求职登记：带身份证")


def test_an_edit_is_audited_with_before_and_after(supervisor_client, session) -> None:
    topic = policy.topic_at(session, 1)
    assert topic is not None
    before = topic.body_zh
    form = {
        "position": "1",
        "title_zh": "劳动维权",
        "title_en": "Your rights",
        "body_zh": "欠薪找零工市场维权窗口，免费调解。",
        "body_en": topic.body_en,
    }
    assert console_post(supervisor_client, f"/console/hall/policy/{topic.id}", form).status_code == 302
    [event] = audit(session, "policy_topic.update")
    assert event.details == {"body_zh": [before, "欠薪找零工市场维权窗口，免费调解。"]}
    session.expire_all()
    assert session.get(PolicyTopic, topic.id).body_zh == "欠薪找零工市场维权窗口，免费调解。"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"body_zh": "欠" * 130}, "中文内容太长：要发3条短信"),
        ({"body_en": "Unpaid wages. " * 24}, "英文内容太长：要发3条短信"),
        ({"body_en": "Call “12333” now"}, "英文内容含有中文或特殊符号"),
        ({"position": "2"}, "编号2已被“社保补贴”使用"),
        ({"title_zh": ""}, "中文标题和内容都要填写"),
        ({"title_zh": "劳动者权益保障咨询"}, "中文标题太长：最多8个字"),
        ({"position": "9"}, "编号要在1到8之间"),
    ],
)
def test_a_topic_that_does_not_fit_is_refused_with_why(supervisor_client, session, change, message) -> None:
    response = console_post(supervisor_client, "/console/hall/policy/new", {**NEW, **change})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(PolicyTopic).where(PolicyTopic.title_en == "Sign up")) is None
    assert audit(session, "policy_topic.create") == []


def test_the_menu_must_still_fit_with_a_new_title(supervisor_client, session) -> None:
    long_titles = {"title_en": "Pension and social help", "body_en": "Ask in the hall."}
    for position in (7, 8):
        session.add(PolicyTopic(position=position, title_zh="社保", body_zh="问大厅", **long_titles))
    session.commit()
    topic = policy.topic_at(session, 3)
    assert topic is not None
    form = {"position": "3", "title_zh": topic.title_zh, "body_zh": topic.body_zh, "body_en": "Ask us."}
    response = console_post(
        supervisor_client,
        f"/console/hall/policy/{topic.id}",
        {**form, "title_en": "Training and skills help"},
    )
    assert response.status_code == 400
    assert "加上这个标题后英文菜单要发2条短信（最多1条）" in response.get_data(as_text=True)


def test_retiring_takes_it_off_the_menu_and_is_audited(supervisor_client, session) -> None:
    topic = policy.topic_at(session, 6)
    assert topic is not None
    assert console_post(supervisor_client, f"/console/hall/policy/{topic.id}/retire").status_code == 302
    assert [event.target_id for event in audit(session, "policy_topic.retire")] == [topic.id]
    assert policy.topic_at(session, 6) is None
    response = console_post(supervisor_client, f"/console/hall/policy/{topic.id}", {**NEW, "position": "6"})
    assert "这个条目已下架" in response.get_data(as_text=True)


def test_agents_may_not_change_topics(app, seeded, session) -> None:
    agent_client = signed_in(app, make_agent(session, "agent9", "agent", "LZ"))
    assert agent_client.get("/console/hall/policy/").status_code == 403
    assert console_post(agent_client, "/console/hall/policy/new", NEW).status_code == 403


def test_the_report_counts_per_topic_and_channel_in_the_weeks_chosen(supervisor_client, session) -> None:
    first, third = policy.topic_at(session, 1), policy.topic_at(session, 3)
    week_49 = datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)
    week_48 = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)
    rows = [
        (None, "sms", week_49),
        (first, "sms", week_49),
        (first, "voice", week_49),
        (first, "sms", week_49),
    ]
    rows += [(third, "voice", week_49), (third, "sms", week_48)]
    for topic, channel, when in rows:
        session.add(
            PolicyAsk(topic_id=topic.id if topic else None, channel=channel, language="zh", asked_at=when)
        )
    session.commit()
    counts = {
        (row.topic.position if row.topic else 0): (row.sms, row.voice)
        for row in policy.asked_between(
            session, datetime(2026, 11, 30, tzinfo=SHANGHAI), datetime(2026, 12, 7, tzinfo=SHANGHAI)
        )
    }
    assert counts[0] == (1, 0) and counts[1] == (2, 1) and counts[3] == (0, 1) and counts[2] == (0, 0)
    page = supervisor_client.get("/console/hall/policy/report?week=2026-W49&weeks=2").get_data(as_text=True)
    assert "<td>1 劳动维权</td>\n    <td>2</td><td>1</td><td>3</td>" in page
    assert "<td>3 培训补贴</td>\n    <td>1</td><td>1</td><td>2</td>" in page  # both weeks
    assert "/console/hall/policy/report" in supervisor_client.get("/console/reports/").get_data(as_text=True)
