"""A wage claim on the worker line: key 7, the job's code and #, as the SMS `欠薪 101`: the case opens
(once per placement), or the worker hears their recent jobs' codes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.models import CaseOpenedVia, Offer, OfferStatus, PaidAnswer, WageCase
from tests.factories import Market, today
from tests.ivr.conftest import Caller

PHONE = "+8613912340007"


def spelled(code: str) -> str:
    return " ".join(code)


def test_key_7_and_the_code_opens_the_case_once(client, session, seeded, market_open):
    market = Market(session)
    worker = market.worker(PHONE, name="李四")
    job = market.job(work_date=today() - timedelta(days=2), pay=280)
    session.add(Offer(job_id=job.id, worker_id=worker.id, status=OfferStatus.ACCEPTED, responded_at=utcnow()))
    other = market.job(work_date=today() - timedelta(days=1))
    session.commit()
    code = job.code or ""

    caller = Caller(client, phone=PHONE)
    assert "干了活没拿到工钱请按8" in caller.dial()
    assert "请输入没拿到工钱的岗位号" in caller.press("8")
    heard = caller.press(other.code or "")
    assert f"没有找到您在岗位{spelled(other.code or '')}干活的记录" in heard
    assert f"您最近的岗位是{spelled(code)}" in heard
    assert session.scalars(select(WageCase)).all() == []

    caller.press("8")
    heard = caller.press(code)
    assert f"已收到您岗位{spelled(code)}的欠薪申诉，约280元" in heard
    assert "听给您的活请按1" in heard  # then the menu again
    session.expire_all()
    case = session.scalars(select(WageCase)).one()
    assert (case.worker_id, case.job_id, case.opened_via, case.paid) == (
        worker.id,
        job.id,
        CaseOpenedVia.VOICE,
        PaidAnswer.NONE,
    )
    assert case.follow_up_id is None and case.evidence["follow_up"] is None

    caller.press("8")
    assert "已在处理中" in caller.press(code)
    session.expire_all()
    assert len(session.scalars(select(WageCase)).all()) == 1


def test_0_goes_back_to_the_menu(client, session, seeded, market_open):
    Market(session).worker(PHONE)
    session.commit()
    caller = Caller(client, phone=PHONE)
    caller.dial()
    caller.press("8")
    assert "听给您的活请按1" in caller.press("0")
