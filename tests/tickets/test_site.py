"""A ticket lands on the queue of the site of whoever it is about: the job's site, else the place a
caller keyed, else the worker's home, else the employer's site; with none of these, the district's."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from dispatch.models import Call, Direction, Message, MessageStatus, Ticket, TicketKind
from dispatch.tickets.services import open_ticket
from dispatch.tickets.summaries import Summary
from tests.console.helpers import make_agent, sign_in
from tests.helpers import text_in

EMPLOYER_PHONE = "+8613700137000"
WORKER_PHONE = "+8613900139001"
_sids = itertools.count(1)


def inbound(session, phone: str, body: str, worker=None, employer=None) -> Message:
    message = Message(
        direction=Direction.INBOUND,
        status=MessageStatus.UNPARSED,
        phone=phone,
        body=body,
        worker_id=worker.id if worker else None,
        employer_id=employer.id if employer else None,
    )
    session.add(message)
    session.flush()
    return message


def a_call(session, phone: str, answers=None, employer=None, worker=None) -> Call:
    call = Call(
        call_sid=f"CA{next(_sids):032x}",
        phone=phone,
        flow="job",
        step="pay",
        language="zh",
        answers=answers or {},
        employer_id=employer.id if employer else None,
        worker_id=worker.id if worker else None,
    )
    session.add(call)
    session.flush()
    return call


def test_a_ticket_about_a_job_is_on_the_jobs_site_whoever_else_it_names(session, places):
    employer = places.employer(EMPLOYER_PHONE, "LZ-DJ")
    worker = places.worker(WORKER_PHONE, "LZ-XJ")
    job = places.job(employer, "LZ-TX")
    ticket = open_ticket(session, TicketKind.UNFILLED_JOB, job=job, worker=worker, text="101 short")
    assert ticket.site_id == places.site("LZ-TX")
    assert (ticket.job_id, ticket.worker_id, ticket.employer_id) == (job.id, worker.id, employer.id)
    assert ticket.phone == WORKER_PHONE  # the worker is whom the agent calls
    alone = open_ticket(session, TicketKind.UNFILLED_JOB, job=job, text="101 short")
    assert alone.phone == EMPLOYER_PHONE  # no worker: the employer


def test_a_workers_text_is_on_their_home_site(session, places):
    worker = places.worker(WORKER_PHONE, "LZ-XJ")
    message = inbound(session, WORKER_PHONE, "不懂", worker=worker)
    ticket = open_ticket(session, TicketKind.UNPARSED_SMS, message=message)
    assert ticket.site_id == places.site("LZ-XJ")
    assert (ticket.phone, ticket.summary, ticket.message_id) == (WORKER_PHONE, "不懂", message.id)
    assert ticket.summary_key is None  # the sender's own words, shown as they are


def test_an_employers_text_is_on_the_employers_site(session, places):
    employer = places.employer(EMPLOYER_PHONE, "LZ-TX")
    message = inbound(session, EMPLOYER_PHONE, "明天来人吗", employer=employer)
    ticket = open_ticket(session, TicketKind.UNPARSED_SMS, message=message)
    assert (ticket.site_id, ticket.employer_id) == (places.site("LZ-TX"), employer.id)


def test_a_caller_who_keyed_a_place_is_on_that_site_rather_than_where_they_are_registered(session, places):
    employer = places.employer(EMPLOYER_PHONE, "LZ-DJ")
    call = a_call(session, EMPLOYER_PHONE, {"site": places.site("LZ-TX")}, employer=employer)
    ticket = open_ticket(session, TicketKind.CALL_BACK, call=call, text="hung up")
    assert ticket.site_id == places.site("LZ-TX")


def test_a_known_employer_calling_without_a_place_is_on_the_employers_site(session, places):
    employer = places.employer(EMPLOYER_PHONE, "LZ-TX")
    call = a_call(session, EMPLOYER_PHONE, employer=employer)
    ticket = open_ticket(session, TicketKind.CALL_BACK, call=call, summary=Summary.of("call_back_at_menu"))
    assert (ticket.site_id, ticket.employer_id, ticket.phone) == (
        places.site("LZ-TX"),
        employer.id,
        EMPLOYER_PHONE,
    )


def test_a_known_worker_calling_without_a_place_is_on_their_home_site(session, places):
    worker = places.worker(WORKER_PHONE, "LZ-XJ")
    call = a_call(session, WORKER_PHONE, worker=worker)
    ticket = open_ticket(session, TicketKind.RECORDED_NAME, call=call, summary=Summary.of("recorded_name"))
    assert (ticket.site_id, ticket.worker_id) == (places.site("LZ-XJ"), worker.id)


def test_nobody_known_is_the_districts(session, places):
    stranger = inbound(session, "+8613600000001", "hello?")
    assert open_ticket(session, TicketKind.UNPARSED_SMS, message=stranger).site_id is None
    call = a_call(session, "+8613600000001")
    assert open_ticket(session, TicketKind.VOICEMAIL, call=call, text="vm").site_id is None
    nowhere = places.employer("+8613600000002", None)
    assert open_ticket(session, TicketKind.UNPARSED_SMS, employer=nowhere, text="?").site_id is None


def test_a_call_has_one_ticket_of_a_kind_that_repeated_webhooks_add_to(session, places):
    call = a_call(session, EMPLOYER_PHONE, {"trade": places.trade("porter").id})
    first = open_ticket(
        session, TicketKind.AGENT_CALL, call=call, summary=Summary.of("agent_asked"), text="asked"
    )
    again = open_ticket(session, TicketKind.AGENT_CALL, call=call, details={"queue_result": "bridged"})
    assert again.id == first.id
    assert (again.summary, again.summary_key) == ("asked", "agent_asked")  # what it was opened for
    assert again.details["queue_result"] == "bridged" and again.details["readable"] == {"trade": "搬运"}
    other = open_ticket(session, TicketKind.VOICEMAIL, call=call, summary=Summary.of("agent_asked"))
    assert other.id != first.id


def test_a_towns_employers_unclear_text_lands_on_the_towns_queue(app, client, session, places):
    """The issue's case: before, it went to the district, where the town's agents never saw it."""
    employer = places.employer(EMPLOYER_PHONE, "LZ-TX", name="太西建材")
    session.commit()
    text_in(client, "那个事情怎么样了", sender=EMPLOYER_PHONE)
    ticket = session.scalar(select(Ticket).where(Ticket.phone == EMPLOYER_PHONE))
    assert (ticket.kind, ticket.site_id, ticket.employer_id) == (
        TicketKind.UNPARSED_SMS,
        places.site("LZ-TX"),
        employer.id,
    )

    make_agent(session, "taixi", "agent", "LZ-TX")
    make_agent(session, "dongjie", "agent", "LZ-DJ")
    town, elsewhere = app.test_client(), app.test_client()
    sign_in(town, "taixi")
    sign_in(elsewhere, "dongjie")
    page = town.get("/console/tickets/").get_data(as_text=True)
    assert f'id="ticket-{ticket.id}"' in page and "那个事情怎么样了" in page and "太西建材" in page
    assert f'id="ticket-{ticket.id}"' not in elsewhere.get("/console/tickets/").get_data(as_text=True)


def test_a_towns_employers_job_request_by_text_that_cannot_be_read_is_the_towns(client, session, places):
    employer = places.employer(EMPLOYER_PHONE, "LZ-TX")
    session.commit()
    text_in(client, "招 人 快点", sender=EMPLOYER_PHONE)
    ticket = session.scalar(select(Ticket).where(Ticket.phone == EMPLOYER_PHONE))
    assert (ticket.site_id, ticket.employer_id) == (places.site("LZ-TX"), employer.id)
    assert ticket.summary_key == "job_request_missing"
    assert ticket.summary_fields == {"missing": ["trade", "date", "pay"], "body": "招 人 快点"}
