"""`政策` by SMS (issue 18, part 4): the menu of the seeded topics, a digit or `政策 2` for a topic's
text, in the contact's language, answered at once even at night; each ask counted per channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.hall import policy
from dispatch.models import PolicyAsk, PolicyTopic
from tests.factories import SHANGHAI, Market
from tests.helpers import last_reply, outbound_to, text_in

PHONE = "+8613911112222"


def asked(session) -> list[tuple[int | None, str, str]]:
    session.expire_all()
    rows = session.execute(
        select(PolicyTopic.position, PolicyAsk.channel, PolicyAsk.language)
        .outerjoin(PolicyTopic, PolicyTopic.id == PolicyAsk.topic_id)
        .order_by(PolicyAsk.id)
    )
    return [tuple(row) for row in rows]


def test_the_menu_then_a_digit_gives_the_topic(client, session, seeded, clock) -> None:
    text_in(client, "政策", PHONE)
    menu = last_reply(session, PHONE)
    assert menu.kind == "policy.menu"
    assert menu.body == (
        "【潞州零工】政策咨询，回复数字看详情："
        "1 劳动维权；2 社保补贴；3 培训补贴；4 创业补贴；5 合同签订；6 零工日险。"
    )
    text_in(client, "3", PHONE)
    topic = last_reply(session, PHONE)
    assert topic.kind == "policy.topic"
    assert topic.body.startswith("【潞州零工】培训补贴：参加技能培训并取得证书，可申请技能培训补贴。")
    assert topic.segments <= 2
    assert asked(session) == [(None, "sms", "zh"), (3, "sms", "zh")]


def test_a_topic_in_one_go_and_a_number_no_topic_has(client, session, seeded, clock) -> None:
    text_in(client, "政策二", PHONE)  # Chinese numerals read as digits
    assert last_reply(session, PHONE).body.startswith("【潞州零工】社保补贴：")
    text_in(client, "政策 8", PHONE)  # no live topic 8: the menu
    assert last_reply(session, PHONE).kind == "policy.menu"
    text_in(client, "9", PHONE)  # nor 9, asked from the menu: the menu again, not an agent's ticket
    assert last_reply(session, PHONE).kind == "policy.menu"


def test_english_for_a_contact_who_speaks_it(client, session, seeded, market: Market, clock) -> None:
    worker = market.worker(language="en")
    session.commit()
    text_in(client, "policy", worker.phone)
    assert last_reply(session, worker.phone).body == (
        "Luzhou Jobs: Policy help, reply a number: 1 Your rights, 2 Pension, 3 Training, "
        "4 Start-up, 5 Agreements, 6 Day insurance."
    )
    text_in(client, "policy 1", worker.phone)
    body = last_reply(session, worker.phone).body
    assert body.startswith("Luzhou Jobs: Your rights: Unpaid wages or a dispute")
    assert last_reply(session, worker.phone).segments == 2  # English topics may take two parts


def test_at_night_the_answer_goes_at_once(client, session, seeded, clock) -> None:
    clock.move_to(datetime(2026, 12, 1, 23, 30, tzinfo=SHANGHAI))  # inside quiet hours (21:00-08:00)
    text_in(client, "政策 1", PHONE)
    reply = last_reply(session, PHONE)
    assert reply.send_after is None and reply.is_reply


def test_a_retired_topic_leaves_the_menu_and_its_number(client, session, seeded, clock) -> None:
    topic = policy.topic_at(session, 5)
    assert topic is not None
    policy.retire(session, topic)
    session.commit()
    text_in(client, "政策", PHONE)
    assert "5 合同签订" not in last_reply(session, PHONE).body
    text_in(client, "5", PHONE)
    assert last_reply(session, PHONE).kind == "policy.menu"


def test_with_no_topics_the_menu_says_so_and_asks_nothing(client, session, seeded, clock) -> None:
    for topic in policy.live_topics(session):
        topic.retired_at = utcnow()
    session.commit()
    text_in(client, "政策", PHONE)
    assert last_reply(session, PHONE).body == "【潞州零工】政策咨询暂未开通，请到零工市场服务大厅咨询。"
    text_in(client, "1", PHONE)  # no menu was asked: a bare 1 is not a topic
    assert [m.kind for m in outbound_to(session, PHONE)][-1] == "not_understood"
