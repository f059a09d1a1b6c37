"""The screen says "call and press the code": in the worker line, 7 then a job's code and # reads that
job, and 1 takes it, under the rule of `1 <code>` by SMS (the offer the worker holds, else a job they
may take off the screen: pull.may_take). Signed webhooks, driven by the TwiML answered."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dispatch.models import Job, Offer, OfferStatus
from tests.factories import Market, today
from tests.helpers import inbound_params, last_reply
from tests.ivr.conftest import PUBLIC_BASE, Caller, post_signed
from tests.ivr.test_worker_line import PHONE_A, PHONE_B, fresh_offer, kinds_to, offer


def text_in(client, body: str, phone: str) -> None:
    response = post_signed(client, f"{PUBLIC_BASE}/sms/inbound", inbound_params(body, phone))
    assert response.status_code == 200


def test_a_job_off_the_screen_is_read_by_its_code_and_taken_with_1(client, session, seeded, market_open):
    market = Market(session)
    worker = market.worker(PHONE_A, pay=200)
    job = market.job(work_date=today() + timedelta(days=1), pay=300)
    session.commit()
    caller = Caller(client, phone=PHONE_A)
    caller.dial()
    assert "请输入岗位号" in caller.press("7")
    assert "/ivr/step/job_code" in caller.twiml and 'finishOnKey="#"' in caller.twiml
    read = caller.press(job.code or "")
    assert "一天300元" in read and f"岗位号{' '.join(job.code or '')}" in read
    [made] = session.scalars(select(Offer).where(Offer.worker_id == worker.id)).all()
    assert (made.job_id, made.explanation["by"]) == (job.id, "pull")  # as `1 <code>` by SMS makes it
    assert "这个活是您的了" in caller.press("1")
    assert fresh_offer(session, made).status == OfferStatus.ACCEPTED
    assert session.get(Job, job.id).filled == 1
    assert "placement.worker" in kinds_to(session, PHONE_A)


def test_the_offer_the_worker_holds_is_the_one_read(client, session, seeded, market_open):
    market = Market(session)
    worker = market.worker(PHONE_A)
    job = market.job(work_date=today() + timedelta(days=1))
    held = offer(session, job, worker)
    session.commit()
    caller = Caller(client, phone=PHONE_A)
    caller.dial()
    caller.press("7")
    caller.press(job.code or "")
    assert "这个活是您的了" in caller.press("1")
    assert fresh_offer(session, held).status == OfferStatus.ACCEPTED
    assert len(session.scalars(select(Offer).where(Offer.worker_id == worker.id)).all()) == 1


def test_a_job_that_does_not_fit_or_no_job_is_refused_as_by_sms(client, session, seeded, market_open):
    """A porter's job for a plumber: matching would not offer it, so neither the keypad nor `1 <code>`
    takes it; an unknown code neither. Nothing is made, and the caller is back at their menu."""
    market = Market(session)
    market.worker(PHONE_A)  # a plumber
    porters = market.job(trade="porter", work_date=today() + timedelta(days=1))
    session.commit()
    caller = Caller(client, phone=PHONE_A)
    caller.dial()
    caller.press("7")
    refused = caller.press(porters.code or "")
    assert "这个岗位号现在不能接" in refused and "/ivr/step/worker_menu" in caller.twiml
    caller.press("7")
    assert "这个岗位号现在不能接" in caller.press("99999999")
    assert session.scalars(select(Offer)).all() == []
    text_in(client, f"1 {porters.code}", PHONE_A)  # the SMS agrees
    assert last_reply(session, PHONE_A).kind == "match.unknown_code"
    assert session.get(Job, porters.id).filled == 0


def test_a_full_job_read_by_code_then_taken_by_sms_first_leaves_the_caller_none(
    client, session, seeded, market_open
):
    market = Market(session)
    market.worker(PHONE_A)
    texter = market.worker(PHONE_B)
    job = market.job(work_date=today() + timedelta(days=1))
    session.commit()
    caller = Caller(client, phone=PHONE_A)
    caller.dial()
    caller.press("7")
    caller.press(job.code or "")
    text_in(client, f"1 {job.code}", texter.phone)  # off the screen too, by SMS, first
    assert "名额已经满了" in caller.press("1")
    session.expire_all()
    assert session.get(Job, job.id).filled == 1
    assert "placement.worker" in kinds_to(session, texter.phone)


def test_star_goes_back_and_letters_or_long_codes_are_a_wrong_key(client, session, seeded, market_open):
    Market(session).worker(PHONE_A)
    session.commit()
    caller = Caller(client, phone=PHONE_A)
    caller.dial()
    caller.press("7")
    assert "听给您的活请按1" in caller.press("*")
    caller.press("7")
    caller.press("123456789")  # longer than any code
    assert "/ivr/step/job_code" in caller.twiml  # asked again
