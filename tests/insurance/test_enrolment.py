"""Every confirmed working day gets its day insurance (零工日险), whichever way the place was taken; a
place given back or a job called off cancels the days not yet begun."""

from __future__ import annotations

from datetime import date, datetime

from dispatch.clock import utcnow
from dispatch.insurance import services as insurance
from dispatch.matching import rescue, services
from dispatch.models import EnrolmentStatus, JobStatus, OfferStatus, TicketStatus, Worker
from dispatch.phones import display
from tests.factories import SHANGHAI, Market, offered
from tests.helpers import confirmation_to, fresh, last_reply, offers_of, text_in
from tests.insurance.conftest import enrolments_of, insurance_tickets

ENROLLED, CANCELLED, FAILED = EnrolmentStatus.ENROLLED, EnrolmentStatus.CANCELLED, EnrolmentStatus.FAILED
DAYS = [date(2026, 12, 2), date(2026, 12, 3), date(2026, 12, 4)]


def test_a_three_day_place_taken_by_sms_is_insured_for_each_day(runtime, session, market: Market, client):
    worker = market.worker(name="张三")
    job = offered(runtime, session, market, worker, days=3, address="太行西街88号")

    text_in(client, f"1 {job.code}", sender=worker.phone)

    job = fresh(session, job)
    [offer] = offers_of(session, job)
    assert (job.filled, offer.status) == (1, OfferStatus.ACCEPTED)
    enrolments = enrolments_of(session, job)
    assert [
        (e.work_date, e.status, e.offer_id, e.worker_id, e.trade_id, e.site_id, e.error) for e in enrolments
    ] == [(day, ENROLLED, offer.id, worker.id, job.trade_id, job.site_id, "") for day in DAYS]
    # PREFIX-YYMMDD-NNNNNN: the working day and the enrolment's id
    assert [e.reference for e in enrolments] == [
        f"LZ-{day:%y%m%d}-{e.id:06d}" for day, e in zip(DAYS, enrolments, strict=True)
    ]
    assert all(e.enrolled_at == utcnow() for e in enrolments)
    first = enrolments[0].reference
    reply = confirmation_to(session, worker.phone)
    assert reply.body == (
        f"【潞州零工】岗位{job.code}已确认：水电工 明天8点到太行西街88号，日薪300元，"
        f"雇主王老板 {display(job.employer.phone)}。不去回复 取消 {job.code}"
    )
    # The day insurance's reference follows in a text of its own (both would not fit two segments).
    cover = last_reply(session, worker.phone)
    assert cover.kind == "placement.insurance"
    assert cover.body == (
        f"【潞州零工】岗位{job.code}已为您投保零工日险（共3天），保单号{first}。出险请拨打本号码。"
    )

    # A repeated yes enrols nothing twice and says the same.
    text_in(client, f"1 {job.code}", sender=worker.phone)
    assert [(e.id, e.reference, e.status) for e in enrolments_of(session, job)] == [
        (e.id, e.reference, ENROLLED) for e in enrolments
    ]
    assert confirmation_to(session, worker.phone).body == reply.body
    assert last_reply(session, worker.phone).body == cover.body


def test_the_english_confirmation_and_the_reference_take_one_segment_each(
    runtime, session, market: Market, client
):
    worker = market.worker(name="Li Wei", language="en")
    job = offered(runtime, session, market, worker)
    text_in(client, f"Y {job.code}", sender=worker.phone)
    [enrolment] = enrolments_of(session, job)
    reply = confirmation_to(session, worker.phone)
    # The employer's Chinese name is left out: it would turn the whole text into UCS-2.
    assert reply.body == (
        f"Luzhou Jobs: Booked {job.code}: tomorrow 8:00, Taihang West Street, ¥300/day, "
        f"{display(job.employer.phone)}. Can't go? CANCEL {job.code}"
    )
    assert reply.segments == 1
    cover = last_reply(session, worker.phone)
    assert cover.body == (
        f"Luzhou Jobs: Job {job.code} is insured: policy {enrolment.reference}. Accident? Call this number."
    )
    assert cover.segments == 1


def test_giving_the_place_back_cancels_every_day_not_begun(runtime, session, market: Market, client):
    worker = market.worker(name="张三")
    job = offered(runtime, session, market, worker, days=3)
    text_in(client, f"1 {job.code}", sender=worker.phone)
    references = [e.reference for e in enrolments_of(session, job)]

    text_in(client, f"取消 {job.code}", sender=worker.phone)

    assert last_reply(session, worker.phone).kind == "match.cancel_ok"
    enrolments = enrolments_of(session, job)
    assert [(e.work_date, e.status) for e in enrolments] == [(day, CANCELLED) for day in DAYS]
    assert [e.reference for e in enrolments] == references  # what the insurer may have seen stays


def test_a_place_given_back_on_day_two_keeps_the_days_under_way(
    runtime, session, market: Market, client, clock
):
    worker = market.worker(name="张三")
    job = offered(runtime, session, market, worker, days=3)
    text_in(client, f"1 {job.code}", sender=worker.phone)

    clock.move_to(datetime(2026, 12, 3, 9, 0, tzinfo=SHANGHAI))  # day 2, an hour after the start
    text_in(client, f"取消 {job.code}", sender=worker.phone)

    statuses = [(e.work_date, e.status) for e in enrolments_of(session, job)]
    assert statuses == [(DAYS[0], ENROLLED), (DAYS[1], ENROLLED), (DAYS[2], CANCELLED)]


def test_a_yes_taken_again_after_giving_back_is_insured_again(runtime, session, market: Market, client):
    """The agent books, by phone, a worker who gave the place back: the same rows are enrolled again."""
    worker = market.worker(name="张三")
    job = offered(runtime, session, market, worker, days=2)
    text_in(client, f"1 {job.code}", sender=worker.phone)
    text_in(client, f"取消 {job.code}", sender=worker.phone)
    before = [(e.id, e.reference) for e in enrolments_of(session, job)]

    outcome, _ = rescue.confirm_by_phone(session, runtime.settings, job.id, worker.id, utcnow())

    assert outcome == services.Outcome.PLACED
    enrolments = enrolments_of(session, job)
    assert [(e.id, e.reference, e.status) for e in enrolments] == [(i, ref, ENROLLED) for i, ref in before]


def test_a_place_booked_by_phone_mid_job_is_insured_from_today(runtime, session, market: Market):
    """A job that began yesterday: the worker the agent books today was never on site yesterday."""
    worker = market.worker(name="张三")
    job = market.job(work_date=date(2026, 11, 30), days=3)
    session.flush()

    outcome, offer = rescue.confirm_by_phone(session, runtime.settings, job.id, worker.id, utcnow())

    assert outcome == services.Outcome.PLACED
    enrolments = enrolments_of(session, job)
    assert [(e.work_date, e.status, e.offer_id) for e in enrolments] == [
        (date(2026, 12, 1), ENROLLED, offer.id),
        (date(2026, 12, 2), ENROLLED, offer.id),
    ]
    assert f"（共2天），保单号{enrolments[0].reference}" in last_reply(session, worker.phone).body


def test_calling_the_job_off_cancels_its_insurance(runtime, session, market: Market, client):
    workers = [market.worker(name="张三"), market.worker(name="李四")]
    job = offered(runtime, session, market, *workers, days=2, headcount=2)
    for worker in workers:
        text_in(client, f"1 {job.code}", sender=worker.phone)
    assert [e.status for e in enrolments_of(session, job)] == [ENROLLED] * 4

    services.cancel_job(session, runtime.settings, fresh(session, job), utcnow())

    assert fresh(session, job).status == JobStatus.CANCELLED
    assert [e.status for e in enrolments_of(session, job)] == [CANCELLED] * 4


def test_an_uninsurable_worker_keeps_an_ordinary_place_and_an_agent_is_asked(
    runtime, session, market: Market, client
):
    """Porters are not high-risk: no name on record means no insurance, but the place stands."""
    worker = market.worker(name="", trades=("porter",))
    job = offered(runtime, session, market, worker, trade="porter", days=2, address="太行西街88号")

    text_in(client, f"1 {job.code}", sender=worker.phone)

    assert fresh(session, job).filled == 1
    assert [(e.status, e.reference, e.error) for e in enrolments_of(session, job)] == [
        (FAILED, None, "no_name"),
        (FAILED, None, "no_name"),
    ]
    assert last_reply(session, worker.phone).body == (  # no reference to give: no insurance text
        f"【潞州零工】岗位{job.code}已确认：搬运 明天8点到太行西街88号，日薪300元，"
        f"雇主王老板 {display(job.employer.phone)}。不去回复 取消 {job.code}"
    )
    [ticket] = insurance_tickets(session)
    assert (ticket.priority, ticket.status, ticket.worker_id, ticket.job_id, ticket.site_id) == (
        4,
        TicketStatus.OPEN,
        worker.id,
        job.id,
        job.site_id,
    )
    assert ticket.details == {
        "reason": "no_name",
        "offer_id": offers_of(session, job)[0].id,
        "high_risk": False,
        "placed": True,
        "job_code": job.code,
        "name": worker.phone,  # nameless: the number stands in
    }


def test_fixing_the_name_enrols_the_days_the_insurer_refused(runtime, session, market: Market, client):
    worker = market.worker(name="", trades=("porter",))
    job = offered(runtime, session, market, worker, trade="porter", days=2)
    text_in(client, f"1 {job.code}", sender=worker.phone)
    assert [e.status for e in enrolments_of(session, job)] == [FAILED, FAILED]

    worker = session.get(Worker, worker.id)
    worker.name = "赵六"
    assert insurance.reenrol_worker(session, runtime.settings, worker, utcnow()) == 2

    enrolments = enrolments_of(session, job)
    assert [(e.status, e.error) for e in enrolments] == [(ENROLLED, ""), (ENROLLED, "")]
    assert all(e.reference for e in enrolments)
    assert insurance.reenrol_worker(session, runtime.settings, worker, utcnow()) == 0  # nothing left to do
