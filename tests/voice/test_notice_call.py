"""An employer who cannot take SMS (a landline: Twilio 21614) hears who is coming by phone, names and
numbers read slowly; two unanswered calls leave an agent a ticket. Real RQ worker, real twilio client
against the fake Twilio API, signed webhooks; the TwiML against golden files (tests/voice/golden/)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.models import Contact, Job, Message, Ticket, TicketKind
from tests.factories import SHANGHAI, Market, commit
from tests.helpers import inbound_params, run_jobs
from tests.ivr.conftest import PUBLIC_BASE, post_signed
from tests.voice.conftest import callee_for
from tests.voice.test_offer_call import QUIET_HOURS, calls_to, golden

NOON = datetime(2026, 3, 10, 12, 0, tzinfo=SHANGHAI)
EVENING = datetime(2026, 3, 10, 22, 30, tzinfo=SHANGHAI)
LANDLINE = "+861062345678"  # a Beijing landline: no SMS
WORKER = "+8613912340001"


def placed_with_employer(runtime, client, session, *, landline_known: bool = True) -> Job:
    """王老板's job tomorrow at 8; 李四 takes it by SMS; the employer's notice is due a minute later."""
    market = Market(session)
    employer = market.employer(phone=LANDLINE)
    if landline_known:
        session.add(Contact(phone=LANDLINE, undeliverable_at=utcnow(), undeliverable_error=21614))
    market.worker(WORKER, name="李四")
    job = market.job(employer, start=datetime(2026, 1, 1, 8).time())
    commit(runtime, session)
    run_jobs(runtime, with_scheduler=True)
    session.expire_all()
    response = post_signed(client, f"{PUBLIC_BASE}/sms/inbound", inbound_params(f"1 {job.code}", WORKER))
    assert response.status_code == 200
    run_jobs(runtime, with_scheduler=True)
    return job


def notice_due(runtime, traveller, minutes: float = 1.1) -> None:
    traveller.shift(timedelta(minutes=minutes))
    run_jobs(runtime, with_scheduler=True)


def employer_texts(session) -> list[tuple[str, str]]:
    session.expire_all()
    query = select(Message.kind, Message.status).where(Message.phone == LANDLINE).order_by(Message.id)
    return [(kind, status.value) for kind, status in session.execute(query)]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_landline_employer_is_called_and_hears_who_is_coming(
    runtime, client, session, seeded, fake_twilio, language
):
    with time_machine.travel(NOON, tick=True) as traveller:
        session.add(Contact(phone=LANDLINE, language=language, undeliverable_at=utcnow()))
        job = placed_with_employer(runtime, client, session, landline_known=False)
        assert calls_to(fake_twilio) == []
        notice_due(runtime, traveller)

        assert employer_texts(session)[-1] == ("placement.employer", "suppressed")
        assert calls_to(fake_twilio) == [LANDLINE]
        phone = callee_for(client, fake_twilio)
        golden("notice_call", language, phone.pick_up(), job.code or "")
        assert phone.press("9").count("李四" if language == "zh" else "1 3 9") >= 1  # heard again
        golden("notice_call_bye", language, phone.silence(), job.code or "")


def test_nobody_picking_up_twice_leaves_a_ticket_for_an_agent(runtime, client, session, seeded, fake_twilio):
    with time_machine.travel(NOON, tick=True) as traveller:
        job = placed_with_employer(runtime, client, session)
        notice_due(runtime, traveller)
        callee_for(client, fake_twilio).hang_up("no-answer")
        notice_due(runtime, traveller, 4.1)
        assert calls_to(fake_twilio) == [LANDLINE, LANDLINE]
        callee_for(client, fake_twilio).hang_up("busy")
        assert session.scalars(select(Ticket).where(Ticket.phone == LANDLINE)).all() == []
        notice_due(runtime, traveller, 4.1)
        notice_due(runtime, traveller, 10)

    assert calls_to(fake_twilio) == [LANDLINE, LANDLINE]
    [ticket] = session.scalars(select(Ticket).where(Ticket.phone == LANDLINE)).all()
    assert (ticket.kind, ticket.summary_key, ticket.job_id) == (
        TicketKind.CALL_BACK,
        "employer_not_told",
        job.id,
    )
    assert ticket.summary_fields == {"code": job.code, "employer": "王老板"}
    assert [worker["phone"] for worker in ticket.details["workers"]] == [WORKER]


def test_an_answered_call_leaves_no_ticket_and_is_not_repeated(runtime, client, session, seeded, fake_twilio):
    with time_machine.travel(NOON, tick=True) as traveller:
        placed_with_employer(runtime, client, session)
        notice_due(runtime, traveller)
        phone = callee_for(client, fake_twilio)
        phone.pick_up()
        phone.hang_up()
        notice_due(runtime, traveller, 4.1)
        notice_due(runtime, traveller, 4.1)
    assert calls_to(fake_twilio) == [LANDLINE]
    assert session.scalars(select(Ticket).where(Ticket.phone == LANDLINE)).all() == []


def test_a_notice_reported_undeliverable_21614_turns_into_a_call(
    runtime, client, session, seeded, fake_twilio
):
    """The number took texts as far as we knew: the carrier's report on the notice itself says no."""
    with time_machine.travel(NOON, tick=True) as traveller:
        placed_with_employer(runtime, client, session, landline_known=False)
        notice_due(runtime, traveller)
        assert calls_to(fake_twilio) == []
        notice = session.scalars(
            select(Message).where(Message.phone == LANDLINE, Message.kind == "placement.employer")
        ).one()
        params = {
            "MessageSid": notice.provider_sid or "",
            "AccountSid": "AC" + "0" * 32,
            "From": "+8610690000",
            "To": LANDLINE,
            "MessageStatus": "undelivered",
            "ErrorCode": "21614",
        }
        assert post_signed(client, f"{PUBLIC_BASE}/sms/status?m={notice.id}", params).status_code == 200
        run_jobs(runtime, with_scheduler=True)
    assert calls_to(fake_twilio) == [LANDLINE]


@pytest.mark.parametrize("extra_settings", [QUIET_HOURS])
def test_the_employer_is_not_called_at_night(runtime, client, session, seeded, fake_twilio):
    with time_machine.travel(EVENING, tick=True) as traveller:
        placed_with_employer(runtime, client, session)
        notice_due(runtime, traveller)
        assert calls_to(fake_twilio) == []
        traveller.move_to(datetime(2026, 3, 11, 7, 59, tzinfo=SHANGHAI))
        run_jobs(runtime, with_scheduler=True)
        assert calls_to(fake_twilio) == []
        traveller.move_to(datetime(2026, 3, 11, 8, 0, 30, tzinfo=SHANGHAI))
        run_jobs(runtime, with_scheduler=True)
    assert calls_to(fake_twilio) == [LANDLINE]
