"""A case's texts are this placement's only: the worker's texts about this job and the follow-up answer,
and the employer's notice with no other worker in it. Nothing about other workers or other jobs."""

from __future__ import annotations

from datetime import datetime

import time_machine
from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.models import Direction, Message, MessageStatus, Worker
from dispatch.phones import display
from dispatch.wages.services import open_case
from tests.factories import SHANGHAI
from tests.wages.conftest import NOW, TOMORROW, placement


def text(
    session, worker, at: datetime, body: str, *, outbound: bool = False, kind: str = "text", reply_to=None
):
    with time_machine.travel(at, tick=False):
        message = Message(
            direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
            phone=worker.phone,
            body=body,
            status=MessageStatus.DELIVERED if outbound else MessageStatus.HANDLED,
            kind=kind,
            worker_id=worker.id,
            in_reply_to_id=reply_to.id if reply_to else None,
            created_at=utcnow(),
        )
        session.add(message)
        session.flush()
    return message


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


def test_the_evidence_holds_this_placements_texts_and_no_other_workers(session, runtime, market):
    p = placement(session, runtime, market, mates=("赵五",))  # one notice names 李四 and 赵五
    other_placement = placement(session, runtime, market, employer=p.employer, worker_name="钱七")
    elsewhere = market.job(market.employer(name="孙老板"), work_date=TOMORROW)
    code = p.job.code
    # Li's texts about another employer's job: not this case's business.
    offered = text(
        session, p.worker, at(6, 10), f"木工 {elsewhere.code} 回复 1 {elsewhere.code} 接单", outbound=True
    )
    declined = text(session, p.worker, at(6, 10, 5), f"2 {elsewhere.code}")
    text(
        session, p.worker, at(6, 10, 6), f"收到，岗位{elsewhere.code}您不接", outbound=True, reply_to=declined
    )
    unrelated = text(session, p.worker, at(8, 20), "我的")
    # A code-less text answered about this job (and the other): kept with its answer.
    asked = text(session, p.worker, at(6, 12), "好")
    which = text(
        session,
        p.worker,
        at(6, 12, 1),
        f"您有2个岗位：{code}、{elsewhere.code}",
        outbound=True,
        reply_to=asked,
    )
    # The follow-up: the question names the job, the answer `3 1` does not.
    question = text(
        session,
        p.worker,
        at(9, 9),
        f"回访：12月7日岗位{code}工钱结清了吗？",
        outbound=True,
        kind="followup.worker",
    )
    answer = text(session, p.worker, at(9, 9, 29), "3 1")

    case = open_case(session, runtime.settings, p.follow_up, NOW)

    messages = case.evidence["messages"]
    ids = [m["id"] for m in messages]
    for kept in (asked, which, question, answer):
        assert kept.id in ids, kept.body
    for dropped in (offered, declined, unrelated):
        assert dropped.id not in ids, dropped.body
    assert case.evidence["messages_total"] == len(messages)
    assert [m["at"] for m in messages] == sorted(m["at"] for m in messages)
    bodies = " ".join(m["body"] for m in messages)
    assert elsewhere.code not in bodies.replace(f"{code}、{elsewhere.code}", "")  # only inside the reply kept
    # Other workers are in no text: not the mate on this job, not the worker of the employer's other job.
    [mate] = session.scalars(select(Worker).where(Worker.name == "赵五"))
    assert display(mate.phone) not in bodies and "赵五" not in bodies
    assert display(other_placement.worker.phone) not in bodies and "钱七" not in bodies
    # The employer's notice is there, with this worker's name and number and the mate's blanked.
    [notice] = [m for m in messages if m["party"] == "employer"]
    assert notice["kind"] == "placement.employer" and notice["direction"] == "outbound"
    assert f"李四 {display(p.worker.phone)}" in notice["body"] and "***" in notice["body"]
    assert notice["id"] == case.evidence["confirmed"]["employer_notice_message_id"]
