"""Policy help by phone: key 6 in the everyday menu and in the worker line reads the topics, a digit
reads one aloud (the supervisors' text), 0 goes back where the caller came from; what was heard is
counted, and a caller who heard a topic and hung up leaves no call-back ticket."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from dispatch.models import Call, CallOutcome, PolicyAsk, Ticket
from tests.factories import Market
from tests.ivr.conftest import OPEN_HOURS_NOW, PUBLIC_BASE, Caller

STRANGER, WORKER = "+8613912345601", "+8613912345602"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"PUBLIC_BASE_URL": PUBLIC_BASE, "OPENING_HOURS": "08:00-18:00"}


@pytest.fixture(autouse=True)
def market_open(clock) -> None:
    clock.move_to(OPEN_HOURS_NOW)


def asks(session) -> list[tuple[int | None, str]]:
    session.expire_all()
    rows = session.execute(select(PolicyAsk.topic_id, PolicyAsk.channel).order_by(PolicyAsk.id))
    return [(topic_id, channel) for topic_id, channel in rows]


def test_a_caller_hears_the_topics_then_one_read_aloud_then_goes_back(client, session, seeded) -> None:
    caller = Caller(client, phone=STRANGER)
    caller.dial()
    assert "政策咨询请按6" in caller.said()
    caller.press("6")
    assert "劳动维权请按1；社保补贴请按2；培训补贴请按3" in caller.said()
    assert "重听请按9，返回请按0" in caller.said()
    caller.press("1")
    said = caller.said()
    assert said.startswith("劳动维权。被拖欠工钱或有劳动争议") and "12333" in said
    assert "听其他政策请按对应的数字" in said  # the short prompt after a text, not the whole menu
    say = caller.root.find("Say")
    assert say is not None and say.get("language") == "cmn-CN"  # Mandarin, as every prompt
    caller.press("9")
    assert "劳动维权请按1" in caller.said()
    caller.press("0")
    assert "招工请按1" in caller.said()
    assert [channel for _, channel in asks(session)] == ["voice", "voice"]  # the menu, then topic 1
    assert asks(session)[0][0] is None


def test_a_worker_reaches_it_from_the_worker_line_and_returns_there(client, session, seeded) -> None:
    Market(session).worker(WORKER, name="李四")
    session.commit()
    caller = Caller(client, phone=WORKER)
    caller.dial()
    assert "政策咨询请按6" in caller.said()
    caller.press("6")
    caller.press("*")
    assert "For Your rights, press 1." in caller.said()
    caller.press("3")
    assert caller.said().startswith("Training. Finish a skills course")
    caller.press("0")
    assert "To hear the jobs offered to you, press 1." in caller.said()


def test_a_number_with_no_topic_is_a_wrong_key_and_hearing_one_leaves_no_call_back(
    client, session, seeded
) -> None:
    caller = Caller(client, phone=STRANGER)
    caller.dial()
    caller.press("6")
    caller.press("8")  # no live topic has 8
    assert "劳动维权请按1" in caller.said()
    caller.press("2")
    caller.hang_up()
    session.expire_all()
    call = session.scalars(select(Call).where(Call.call_sid == caller.sid)).one()
    assert call.outcome == CallOutcome.POLICY
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0
