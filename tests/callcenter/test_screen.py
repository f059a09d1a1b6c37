"""The screen pop: the caller, what the voice menu collected, their open jobs, offers and tickets."""

from __future__ import annotations

from datetime import timedelta

from dispatch.callcenter import calls, routing
from dispatch.callcenter.screen import screen_pop
from dispatch.models import Offer, OfferStatus, TicketKind
from dispatch.tickets.services import open_ticket
from tests.callcenter.helpers import a_call, agent_at
from tests.factories import NOW


def test_screen_pop_of_an_employer_caller(session, market, runtime):
    employer = market.employer(site="LZ-TX")
    job = market.job(employer, site="LZ-TX")
    elsewhere = market.job(employer, site="LZ-DJ")  # another town's job: the agent could not open it
    call = a_call(session, phone=employer.phone, employer_id=employer.id)
    call.answers = {"trade": str(market.trade("porter").id), "headcount": "3", "_turn": "x"}
    ticket = open_ticket(session, TicketKind.AGENT_CALL, call=call)
    old = open_ticket(session, TicketKind.UNPARSED_SMS, employer=employer, text="明天要人")
    routing.queue_caller(session, call, ticket, NOW)
    agent = agent_at(session, market, "LZ-TX", available_at=NOW)
    agent_call = calls.answer_next(session, agent, runtime.settings, NOW + timedelta(seconds=3))
    assert agent_call is not None

    pop = screen_pop(session, agent_call)

    assert pop.call is call and pop.employer is employer and pop.worker is None
    assert pop.ivr_answers == {"trade": str(market.trade("porter").id), "headcount": "3"}
    assert pop.ivr_readable["trade"] == market.trade("porter").name_zh
    assert [j.id for j in pop.jobs] == [job.id]
    assert elsewhere.id not in [j.id for j in pop.jobs]
    assert {t.id for t in pop.tickets} == {ticket.id, old.id}
    assert pop.ticket is ticket and pop.offers == []


def test_screen_pop_of_a_worker_called_back(session, market):
    worker = market.worker(site="LZ-TX")
    job = market.job(site="LZ-TX")
    offer = Offer(job_id=job.id, worker_id=worker.id, status=OfferStatus.SENT)
    declined_job = market.job(site="LZ-TX")
    session.add_all([offer, Offer(job_id=declined_job.id, worker_id=worker.id, status=OfferStatus.DECLINED)])
    session.flush()
    agent = agent_at(session, market, "LZ", available_at=NOW)
    agent_call = calls.start_outbound(session, agent, phone=worker.phone, now=NOW)  # by number only

    pop = screen_pop(session, agent_call)

    assert pop.worker is worker and pop.call is None and pop.ivr_answers == {}
    assert pop.offers == [offer]
    assert [j.id for j in pop.jobs] == [job.id]
