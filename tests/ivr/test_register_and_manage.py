"""Registering a worker by phone (confirmed by SMS), and an employer hearing and cancelling their jobs."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.i18n import render_sms as render
from dispatch.ivr.services import job_summary
from dispatch.ivr.workers import set_recorded_name
from dispatch.jobs.services import JobRequest, create_job
from dispatch.models import (
    CallOutcome,
    Conversation,
    Employer,
    Job,
    JobSource,
    JobStatus,
    Offer,
    OfferStatus,
    RegisteredVia,
    Site,
    Ticket,
    TicketKind,
    Trade,
    Worker,
    WorkerStatus,
)
from tests.helpers import inbound_params, outbound_to
from tests.ivr.conftest import EMPLOYER_PHONE, PUBLIC_BASE, Caller, post_signed
from tests.ivr.test_calls import RECORDING, the_call

WORKER_PHONE = "+8613900139000"


def text_in(client, body: str, sender: str) -> None:
    response = post_signed(client, f"{PUBLIC_BASE}/sms/inbound", inbound_params(body, sender))
    assert response.status_code == 200, response.get_data(as_text=True)


def register_by_phone(client, language: str = "zh") -> Caller:
    """A plumber (4) living in 威远门北路 (town 8, station 1) who wants at least 200 a day."""
    caller = Caller(client, phone=WORKER_PHONE)
    caller.dial()
    if language == "en":
        caller.press("*")
    for keys in ["2", "4", "8", "1", "200"]:
        caller.press(keys)
    caller.skip_recording()  # said nothing: asked again
    assert "没有听到您按键" in caller.said() or "We did not hear" in caller.said()
    caller.speak(RECORDING)
    caller.press("1")
    return caller


def test_a_worker_registers_by_phone_and_confirms_by_sms(
    client, session, seeded, runtime, market_open
) -> None:
    caller = register_by_phone(client)
    assert "请回复1确认" in caller.said() and caller.root.find("Hangup") is not None

    worker = session.scalars(select(Worker).where(Worker.phone == WORKER_PHONE)).one()
    station = session.scalars(select(Site).where(Site.code == "LZ-TX-WYM")).one()
    plumber = session.scalars(select(Trade).where(Trade.code == "plumber_electrician")).one()
    assert (worker.status, worker.registered_via, worker.consent_at, worker.name) == (
        WorkerStatus.PENDING,
        RegisteredVia.IVR,
        None,
        "",
    )
    assert (worker.home_site_id, worker.min_daily_pay, [wt.trade_id for wt in worker.trades]) == (
        station.id,
        200,
        [plumber.id],
    )
    call = the_call(session, caller)
    assert (call.outcome, call.worker_id) == (CallOutcome.REGISTRATION, worker.id)
    [ticket] = session.scalars(select(Ticket).where(Ticket.call_sid == caller.sid))
    assert (ticket.kind, ticket.worker_id, ticket.phone) == (
        TicketKind.RECORDED_NAME,
        worker.id,
        WORKER_PHONE,
    )
    assert ticket.details["name_recording_url"] == RECORDING
    [sms] = outbound_to(session, WORKER_PHONE)
    assert sms.body == render(
        "ivr_reg_confirm",
        "zh",
        sig=runtime.settings.SMS_SIGNATURE_ZH,
        trade="水电工",
        area=station.name_zh,
        pay=200,
    )

    # The agent types the name before the worker answers; the worker's `1` keeps it.
    set_recorded_name(session, ticket, "张三")
    session.commit()
    text_in(client, "1", WORKER_PHONE)
    session.expire_all()
    assert (worker.status, worker.name) == (WorkerStatus.ACTIVE, "张三") and worker.consent_at is not None
    assert worker.registered_via == RegisteredVia.IVR
    assert outbound_to(session, WORKER_PHONE)[-1].kind == "registration.done"
    assert session.scalar(select(Conversation).where(Conversation.phone == WORKER_PHONE)) is None


def test_an_english_registration_confirms_in_english(client, session, seeded, market_open) -> None:
    register_by_phone(client, language="en")
    [sms] = outbound_to(session, WORKER_PHONE)
    assert sms.language == "en" and sms.body.startswith("Luzhou Jobs: Phone sign-up: plumber, Weiyuanmen")
    text_in(client, "1", WORKER_PHONE)
    assert outbound_to(session, WORKER_PHONE)[-1].body.startswith("Luzhou Jobs: You are registered!")


def _employer_with_jobs(session: Session) -> tuple[list[Job], list[Worker]]:
    employer = Employer(phone=EMPLOYER_PHONE, name="王师傅")
    session.add(employer)
    session.flush()
    trades = {trade.code: trade for trade in session.scalars(select(Trade))}
    taixi = session.scalars(select(Site).where(Site.code == "LZ-TX")).one()
    jobs = [
        create_job(
            session,
            employer,
            JobRequest(trades[code].id, count, day, time(7), 1, 300, taixi.id),
            JobSource.IVR,
        )
        for code, count, day in [("cleaner", 3, date(2026, 12, 6)), ("porter", 2, date(2026, 12, 5))]
    ]
    workers = []
    for i, status in enumerate([OfferStatus.SENT, OfferStatus.ACCEPTED, OfferStatus.DECLINED]):
        worker = Worker(phone=f"+861390013900{i}", name=f"工人{i}", registered_via=RegisteredVia.SMS)
        session.add(worker)
        session.flush()
        session.add(Offer(job_id=jobs[0].id, worker_id=worker.id, status=status))
        workers.append(worker)
    jobs[0].filled = 1
    session.commit()
    return jobs, workers


def test_an_employer_hears_their_open_jobs_and_cancels_one(
    client, session, seeded, runtime, market_open
) -> None:
    (cleaners, porters), workers = _employer_with_jobs(session)
    caller = Caller(client)
    caller.dial()
    caller.press("3")
    said = caller.said()
    porter_code, cleaner_code = " ".join(porters.code or ""), " ".join(cleaners.code or "")
    assert "您有2个正在招人的岗位。" in said
    assert f"第1个，岗位号{porter_code}，搬运，12月5日，要2人，已有0人确认。" in said
    assert f"第2个，岗位号{cleaner_code}，保洁，12月6日，要3人，已有1人确认。" in said
    caller.press("2")
    assert f"确定要取消岗位{cleaner_code}吗？" in caller.said()
    caller.press("1")
    assert f"岗位{cleaner_code}已取消。我们会发短信通知2位工人。" in caller.said()
    assert "您有1个正在招人的岗位。" in caller.said()  # the list again, without it

    session.expire_all()
    assert cleaners.status == JobStatus.CANCELLED and porters.status == JobStatus.OPEN
    offers = {offer.worker_id: offer.status for offer in session.scalars(select(Offer))}
    assert offers == {workers[0].id: OfferStatus.CANCELLED, workers[1].id: OfferStatus.CANCELLED} | {
        workers[2].id: OfferStatus.DECLINED
    }
    for worker in workers[:2]:
        [sms] = outbound_to(session, worker.phone)
        expected = render(
            "job_cancelled", "zh", sig=runtime.settings.SMS_SIGNATURE_ZH, **job_summary(cleaners, "zh")
        )
        assert (sms.body, sms.kind, sms.worker_id) == (expected, "job.cancelled", worker.id)
    assert outbound_to(session, workers[2].phone) == []
    caller.hang_up()
    assert the_call(session, caller).outcome == CallOutcome.CANCELLED
    assert session.scalars(select(Ticket).where(Ticket.call_sid == caller.sid)).all() == []


def test_keeping_a_job_and_going_back_to_the_menu(client, session, seeded, market_open) -> None:
    (_, porters), _ = _employer_with_jobs(session)
    caller = Caller(client)
    caller.dial()
    caller.press("3")
    caller.press("1")
    caller.press("2")  # keep it
    assert "您有2个正在招人的岗位。" in caller.said()
    caller.press("*")
    assert "招工请按1" in caller.said()
    caller.hang_up()
    session.expire_all()
    assert porters.status == JobStatus.OPEN
    # Hearing the jobs left nothing unfinished: no call-back ticket.
    assert the_call(session, caller).outcome == CallOutcome.JOBS_HEARD
    assert session.scalars(select(Ticket).where(Ticket.call_sid == caller.sid)).all() == []


def test_a_caller_without_jobs_goes_back_to_the_menu(client, seeded, market_open) -> None:
    caller = Caller(client)
    caller.dial()
    caller.press("3")
    assert caller.said().startswith("您目前没有正在招人的岗位。")
    assert caller.action().startswith(f"{PUBLIC_BASE}/ivr/step/menu?")
