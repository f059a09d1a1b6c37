"""High-risk trades (electrical work, work at height) are dispatched only insured: a worker the insurer
will not cover takes no place, is told why, an agent is asked to fix the details, and matching goes on."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.insurance import providers
from dispatch.insurance.providers import EnrolmentRefused, RefusalReason
from dispatch.matching import rescue
from dispatch.models import (
    EnrolmentStatus,
    Job,
    JobStatus,
    Message,
    OfferStatus,
    TicketStatus,
    Trade,
    Worker,
)
from dispatch.phones import display
from tests.console.helpers import console_post, make_agent, sign_in
from tests.factories import Market, offered
from tests.helpers import confirmation_to, fresh, last_reply, offers_of, outbound_to, run_jobs, text_in
from tests.insurance.conftest import enrolments_of, insurance_tickets


def _mark_high_risk(session, code: str) -> None:
    """The market marks a trade high-risk in config/trades.toml (and seeds again) after offers went out."""
    session.scalar(select(Trade).where(Trade.code == code)).high_risk = True
    session.commit()


def test_a_worker_without_a_name_is_not_placed_on_a_high_risk_job(runtime, session, market: Market, client):
    nameless = market.worker(name="", trades=("porter",), site="LZ-TX")
    further = market.worker(name="李四", trades=("porter",), site="LZ-CQ")  # 1.7 km: wave 2
    job = offered(runtime, session, market, nameless, trade="porter")
    _mark_high_risk(session, "porter")

    text_in(client, f"1 {job.code}", sender=nameless.phone)

    job = fresh(session, job)
    assert (job.filled, job.status) == (0, JobStatus.OPEN)
    [offer] = offers_of(session, job)
    assert offer.status == OfferStatus.CANCELLED
    assert enrolments_of(session, job) == []
    reply = last_reply(session, nameless.phone)
    assert (reply.kind, reply.is_reply) == ("insurance.refused", True)
    assert reply.body == (
        f"【潞州零工】岗位{job.code}（搬运）须办理零工日险，您还没有登记姓名，这次不能为您确认。"
        "工作人员会打电话帮您补全实名信息。"
    )
    [ticket] = insurance_tickets(session)
    assert (ticket.priority, ticket.status, ticket.worker_id, ticket.job_id, ticket.site_id) == (
        2,
        TicketStatus.OPEN,
        nameless.id,
        job.id,
        job.site_id,
    )
    assert ticket.details == {
        "reason": "no_name",
        "offer_id": offer.id,
        "high_risk": True,
        "placed": False,
        "job_code": job.code,
        "name": nameless.phone,  # nameless: the number stands in
    }

    # Matching goes on at once, as after a no: the next wave reaches the next worker.
    run_jobs(runtime)
    assert [(o.worker_id, o.wave, o.status) for o in offers_of(session, fresh(session, job))] == [
        (nameless.id, 1, OfferStatus.CANCELLED),
        (further.id, 2, OfferStatus.SENT),
    ]

    # Asking again changes nothing and opens no second ticket.
    text_in(client, f"1 {job.code}", sender=nameless.phone)
    assert last_reply(session, nameless.phone).kind == "insurance.refused"
    assert len(insurance_tickets(session)) == 1
    assert fresh(session, job).filled == 0

    # An agent types the worker's name: the same yes now takes the place, insured.
    session.get(Worker, nameless.id).name = "赵六"
    session.commit()
    text_in(client, f"1 {job.code}", sender=nameless.phone)
    assert fresh(session, job).filled == 1
    assert [e.status for e in enrolments_of(session, job)] == [EnrolmentStatus.ENROLLED]
    assert [m.kind for m in outbound_to(session, nameless.phone)][-2:] == [
        "placement.worker",
        "placement.insurance",
    ]


def test_a_named_worker_is_placed_and_insured_on_a_high_risk_job(runtime, session, market: Market, client):
    worker = market.worker(name="张三", trades=("painter",))
    job = offered(runtime, session, market, worker, trade="painter", address="太行西街88号")
    assert fresh(session, job).trade.high_risk

    text_in(client, f"1 {job.code}", sender=worker.phone)

    job = fresh(session, job)
    assert (job.filled, job.status) == (1, JobStatus.FILLED)
    [enrolment] = enrolments_of(session, job)
    assert (enrolment.work_date, enrolment.status) == (date(2026, 12, 2), EnrolmentStatus.ENROLLED)
    assert confirmation_to(session, worker.phone).body == (
        f"【潞州零工】岗位{job.code}已确认：油漆工 明天8点到太行西街88号，日薪300元，"
        f"雇主王老板 {display(job.employer.phone)}。不去回复 取消 {job.code}"
    )
    assert enrolment.reference in last_reply(session, worker.phone).body
    assert insurance_tickets(session) == []


def test_high_risk_offers_skip_workers_the_insurer_cannot_cover(runtime, session, market: Market):
    """Cheaper than offering and refusing: a worker with no name, or a surname alone, is not offered a
    high-risk job; an ordinary job still goes to them."""
    named = market.worker(name="张三", trades=("plumber_electrician", "porter"))
    nameless = market.worker(name="", trades=("plumber_electrician", "porter"))
    surname = market.worker(name="王", trades=("plumber_electrician", "porter"))

    high_risk = offered(runtime, session, market, named, headcount=1)
    ordinary = offered(runtime, session, market, named, nameless, surname, trade="porter", headcount=1)

    assert fresh(session, high_risk).trade.high_risk and not fresh(session, ordinary).trade.high_risk


class InsurerRefusingAtEnrolment:
    """An insurer behind an API whose own checks go further than ours: the pre-check passes, the
    enrolment is refused (say the name does not match the identity card it holds)."""

    def __init__(self, settings) -> None:
        pass

    def check(self, worker, job, day, *, today) -> None:
        return None

    def enrol(self, worker, job, day, *, today, number) -> str:
        raise EnrolmentRefused(RefusalReason.NAME_INCOMPLETE)


def test_a_claim_the_insurer_refuses_afterwards_is_rolled_back(
    runtime, session, market: Market, client, monkeypatch
):
    worker = market.worker(name="张三")
    job = offered(runtime, session, market, worker, days=2)
    monkeypatch.setitem(providers.PROVIDERS, "register", InsurerRefusingAtEnrolment)

    text_in(client, f"1 {job.code}", sender=worker.phone)

    job = fresh(session, job)
    assert (job.filled, job.status) == (0, JobStatus.OPEN)  # the place was taken, then given back
    [offer] = offers_of(session, job)
    assert offer.status == OfferStatus.CANCELLED
    assert session.get(Worker, worker.id).last_placed_at is None
    assert enrolments_of(session, job) == []
    assert [m.kind for m in outbound_to(session, worker.phone)] == ["offer", "insurance.refused"]
    assert "您登记的姓名不全" in last_reply(session, worker.phone).body
    [ticket] = insurance_tickets(session)
    assert (ticket.priority, ticket.details["reason"]) == (2, "name_incomplete")
    # nothing went to the employer about a worker who is not coming
    assert session.scalars(select(Message).where(Message.employer_id == job.employer_id)).all() == []


@pytest.fixture
def agent_client(app, session, seeded):
    make_agent(session, "district1", "agent", "LZ")
    client = app.test_client()
    sign_in(client, "district1")
    return client


def test_the_agent_cannot_book_an_uninsurable_worker_on_a_high_risk_job(
    runtime, session, market: Market, agent_client
):
    nameless = market.worker(name="")
    job = market.job()
    session.commit()

    with pytest.raises(rescue.RescueRefused) as refused:
        rescue.confirm_by_phone(session, runtime.settings, job.id, nameless.id, utcnow())
    assert (refused.value.refusal, refused.value.details) == (rescue.Refusal.UNINSURED, {"reason": "no_name"})
    session.rollback()

    response = console_post(agent_client, f"/console/jobs/{job.id}/confirm", {"worker_id": nameless.id})
    page = agent_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "高危工种须办理零工日险，这位零工的实名信息不全，无法投保。" in page
    assert fresh(session, job).filled == 0
    assert offers_of(session, job) == []
    assert session.get(Job, job.id).status == JobStatus.OPEN


def test_a_worker_who_said_no_after_the_refusal_cannot_take_the_place_later(
    runtime, session, market: Market, client
):
    """The offer closed for want of insurance, then the worker replied 2: once the name is fixed, a 1
    to that offer takes nothing (the worker refused it)."""
    nameless = market.worker(name="", trades=("porter",), site="LZ-TX")
    job = offered(runtime, session, market, nameless, trade="porter")
    _mark_high_risk(session, "porter")
    text_in(client, f"1 {job.code}", sender=nameless.phone)
    assert last_reply(session, nameless.phone).kind == "insurance.refused"

    text_in(client, f"2 {job.code}", sender=nameless.phone)
    [offer] = offers_of(session, job)
    assert offer.status == OfferStatus.DECLINED
    assert not offer.uninsured

    session.get(Worker, nameless.id).name = "赵六"
    session.commit()
    text_in(client, f"1 {job.code}", sender=nameless.phone)
    assert fresh(session, job).filled == 0
    assert enrolments_of(session, job) == []
    assert last_reply(session, nameless.phone).kind == "match.offer_gone"


def test_an_offer_closed_for_insurance_does_not_jump_the_standby_queue(
    runtime, session, market: Market, client
):
    """A place given back goes to the workers waiting on standby first: the worker whose name was fixed
    since their refused yes hears 名额已满 and waits with them."""
    nameless = market.worker(name="", trades=("porter",), site="LZ-TX")
    taker = market.worker(name="李四", trades=("porter",), site="LZ-CQ")
    waiter = market.worker(name="王五", trades=("porter",), site="LZ-CQ")
    job = offered(runtime, session, market, nameless, trade="porter")
    _mark_high_risk(session, "porter")
    text_in(client, f"1 {job.code}", sender=nameless.phone)  # refused: no name
    run_jobs(runtime)  # the next wave
    assert {o.worker_id for o in offers_of(session, job)} == {nameless.id, taker.id, waiter.id}
    text_in(client, f"1 {job.code}", sender=taker.phone)
    text_in(client, f"1 {job.code}", sender=waiter.phone)  # full: standby
    text_in(client, f"取消 {job.code}", sender=taker.phone)  # the place reopens; the refill is queued
    assert (fresh(session, job).filled, fresh(session, job).status) == (0, JobStatus.OPEN)

    session.get(Worker, nameless.id).name = "赵六"
    session.commit()
    text_in(client, f"1 {job.code}", sender=nameless.phone)

    assert fresh(session, job).filled == 0
    statuses = {o.worker_id: o.status for o in offers_of(session, job)}
    assert statuses == {
        nameless.id: OfferStatus.STANDBY,
        taker.id: OfferStatus.CANCELLED,
        waiter.id: OfferStatus.STANDBY,
    }
    assert last_reply(session, nameless.phone).kind == "match.full"


@pytest.mark.parametrize("name", ["王\u3000", "\u3000\u3000", "王 \t", " 王\u00a0"])
def test_names_of_whitespace_and_one_character_count_as_the_insurer_counts_them(
    runtime, session, market: Market, name: str
):
    """The candidate query strips every character Python's str.split() does (the ideographic space of
    Chinese input methods too), so it offers a high-risk job to nobody the insurer would refuse."""
    named = market.worker(name="张\u3000三", trades=("plumber_electrician",))
    spaced = market.worker(name=name, trades=("plumber_electrician",))
    assert providers.name_chars(spaced.name) < providers.MIN_NAME_CHARS <= providers.name_chars(named.name)

    offered(runtime, session, market, named, headcount=1)
