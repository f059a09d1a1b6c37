"""The worker line: a registered worker calling hears their own menu; 1 reads their offers (or, with
none waiting, the nearest open jobs that fit, as 找活 does) and takes one under the first-come rule of
an SMS yes; 2 their bookings; 3 busy / free. Signed webhooks, driven by the TwiML answered."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.models import Call, CallOutcome, Job, Message, Offer, OfferStatus, Worker, WorkerStatus
from tests.factories import Market, today
from tests.helpers import inbound_params
from tests.ivr.conftest import PUBLIC_BASE, Caller, post_signed

PHONE_A, PHONE_B = "+8613912340001", "+8613912340002"


def offer(session, job: Job, worker: Worker) -> Offer:
    row = Offer(
        job_id=job.id,
        worker_id=worker.id,
        status=OfferStatus.SENT,
        sent_at=utcnow(),
        expires_at=utcnow() + timedelta(hours=1),
    )
    session.add(row)
    session.flush()
    return row


def fresh_offer(session, row: Offer) -> Offer:
    session.expire_all()
    found = session.get(Offer, row.id)
    assert found is not None
    return found


def kinds_to(session, phone: str) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(Message.kind).where(Message.phone == phone).order_by(Message.id)))


def test_a_worker_hears_the_worker_line_a_stranger_the_everyday_menu(client, session, seeded, market_open):
    Market(session).worker(PHONE_A, name="李四")
    Market(session).worker(PHONE_B, status=WorkerStatus.PENDING)
    session.commit()
    worker = Caller(client, phone=PHONE_A)
    worker.dial()
    assert "李四，您好。听给您的活请按1" in worker.said()
    pending = Caller(client, phone=PHONE_B)
    pending.dial()
    assert "招工请按1；登记找活请按2" in pending.said()  # not active on the market: the everyday menu


def test_taking_an_offer_by_keypad_places_the_worker_and_texts_the_confirmation(
    client, session, seeded, market_open
):
    market = Market(session)
    worker = market.worker(PHONE_A)
    job = market.job(work_date=today() + timedelta(days=1))
    row = offer(session, job, worker)
    session.commit()

    caller = Caller(client, phone=PHONE_A)
    caller.dial()
    assert f"岗位号{' '.join(job.code or '')}" in caller.press("1")
    assert "这个活是您的了" in caller.press("1")

    assert fresh_offer(session, row).status == OfferStatus.ACCEPTED
    assert session.get(Job, job.id).filled == 1  # (read afresh by fresh_offer)
    assert "placement.worker" in kinds_to(session, PHONE_A)
    call = session.scalar(select(Call).where(Call.call_sid == caller.sid))
    assert (call.flow, call.outcome) == ("worker", CallOutcome.WORKER_LINE)


def test_an_sms_yes_first_leaves_the_caller_a_full_job(client, session, seeded, market_open):
    market = Market(session)
    texter, caller_worker = market.worker(PHONE_A), market.worker(PHONE_B)
    job = market.job(work_date=today() + timedelta(days=1), headcount=1)
    offer(session, job, texter)
    late = offer(session, job, caller_worker)
    session.commit()

    caller = Caller(client, phone=PHONE_B)
    caller.dial()
    caller.press("1")  # hears the offer while the place is free
    response = post_signed(client, f"{PUBLIC_BASE}/sms/inbound", inbound_params(f"1 {job.code}", PHONE_A))
    assert response.status_code == 200
    assert "名额已经满了" in caller.press("1")

    session.expire_all()
    assert session.get(Job, job.id).filled == 1
    assert fresh_offer(session, late).status in (OfferStatus.STANDBY, OfferStatus.LATE)


def test_with_no_offer_waiting_the_nearest_open_job_is_read_and_taken(client, session, seeded, market_open):
    market = Market(session)
    worker = market.worker(PHONE_A, pay=200)
    job = market.job(work_date=today() + timedelta(days=1), pay=300)
    session.commit()

    caller = Caller(client, phone=PHONE_A)
    caller.dial()
    assert "一天300元" in caller.press("1")
    [pulled] = session.scalars(select(Offer).where(Offer.worker_id == worker.id)).all()
    assert (pulled.job_id, pulled.explanation["by"]) == (job.id, "pull")
    assert "这个活是您的了" in caller.press("1")
    assert fresh_offer(session, pulled).status == OfferStatus.ACCEPTED


def test_no_job_at_all_says_so_and_reads_the_menu_again(client, session, seeded, market_open):
    Market(session).worker(PHONE_A)
    session.commit()
    caller = Caller(client, phone=PHONE_A)
    caller.dial()
    said = caller.press("1")
    assert "现在没有适合您的活" in said and "/ivr/step/worker_menu" in said


def test_3_pauses_and_3_again_resumes_as_the_sms_do(client, session, seeded, market_open):
    worker = Market(session).worker(PHONE_A)
    session.commit()
    caller = Caller(client, phone=PHONE_A)
    caller.dial()
    assert "先不给您派活了" in caller.press("3")
    session.expire_all()
    assert session.get(Worker, worker.id).status == WorkerStatus.PAUSED
    assert "恢复接活请按3" in caller.said()
    caller.press("3")
    session.expire_all()
    assert session.get(Worker, worker.id).status == WorkerStatus.ACTIVE


def test_bookings_read_the_place_and_the_employers_number_digit_by_digit(
    client, session, seeded, market_open
):
    market = Market(session)
    worker = market.worker(PHONE_A)
    employer = market.employer(phone="+8613700137000", name="王老板")
    job = market.job(employer, work_date=today() + timedelta(days=1))
    row = offer(session, job, worker)
    row.status = OfferStatus.ACCEPTED
    session.commit()
    caller = Caller(client, phone=PHONE_A)
    caller.dial()
    said = caller.press("2")
    assert "雇主王老板电话1 3 7，0 0 1 3，7 0 0 0" in said


def test_4_notes_the_arrival_as_the_sms_dao_does(client, session, seeded, market_open):
    """On the job's day, key 4 notes the arrival and tells the employer once; with no place today the
    caller hears so and nothing changes."""
    market = Market(session)
    worker = market.worker(PHONE_A)
    job = market.job(work_date=today())
    held = offer(session, job, worker)
    held.status = OfferStatus.ACCEPTED
    job.filled = 1
    session.commit()
    caller = Caller(client, phone=PHONE_A)
    caller.dial()
    assert "到了工地请按4" in caller.said()
    assert "已记下您到了岗位" in caller.press("4")
    assert fresh_offer(session, held).arrived_at is not None
    assert kinds_to(session, job.employer.phone).count("arrival.employer") == 1
    caller.press("4")  # again: the employer is not told twice
    assert kinds_to(session, job.employer.phone).count("arrival.employer") == 1

    other = Caller(client, phone=market.worker(PHONE_B).phone)
    session.commit()
    other.dial()
    assert "您今天没有已接的活" in other.press("4")
