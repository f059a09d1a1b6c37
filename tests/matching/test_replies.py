"""Workers' answers to offers, every form in both languages, through the signed /sms/inbound webhook;
and the texts both sides get when a place is taken, refused, full or given back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.i18n import render_sms as render
from dispatch.matching import services
from dispatch.models import (
    EmployerBlock,
    InsuranceEnrolment,
    Job,
    JobStatus,
    Message,
    Offer,
    OfferStatus,
    Ticket,
    TicketKind,
    TicketStatus,
    Worker,
    WorkerStatus,
)
from tests.factories import NOW, Market, commit, offered
from tests.helpers import confirmation_to, outbound_to, run_jobs, text_in


@pytest.fixture(autouse=True)
def on_the_clock(clock) -> None:
    """Every test here runs on the market's frozen clock."""


def status_of(session, job: Job, worker: Worker) -> OfferStatus:
    session.expire_all()
    return session.scalar(select(Offer.status).where(Offer.job_id == job.id, Offer.worker_id == worker.id))


def last_body(session, worker: Worker) -> str:
    return outbound_to(session, worker.phone)[-1].body


YES_FORMS = [
    "1 {code}",
    "Y {code}",
    "y{code}",
    "YES {code}",
    "ok {code}",
    "是 {code}",
    "接 {code}",
    "接{code}",
    "好 {code}",
    "可以 {code}",
    "１ {wide}",
    "１，{wide}。",
    "  1   {code}  ",
    "1,{code}!",
    "【中国移动】1 {code}",
    "一 {chinese}",
    "{code} 1",
    "1",
    "Y",
    "yes",
    "是",
    "接",
    "好",
    "好的",
    "可以",
    "１",
    "一",
    "好！",
]
NO_FORMS = [
    "2 {code}",
    "N {code}",
    "no {code}",
    "不 {code}",
    "没空 {code}",
    "２　{wide}",
    "{code} 2",
    "2",
    "N",
    "不",
    "没空",
    "不接",
    "没空。",
]


def _fill(form: str, job: Job) -> str:
    wide = "".join(chr(ord(ch) + 0xFEE0) for ch in job.code)
    chinese = "".join("〇一二三四五六七八九"[int(ch)] for ch in job.code)
    return form.format(code=job.code, wide=wide, chinese=chinese)


def _answer_each(runtime, session, market: Market, client, forms: list[str], language: str, **job_options):  # type: ignore[no-untyped-def]
    """Each form from its own worker to its own job offer; yields (form, worker, job, reply)."""
    for form in forms:
        worker = market.worker(language=language)
        job = offered(runtime, session, market, worker, **job_options)
        text = _fill(form, job)
        text_in(client, text, sender=worker.phone)
        yield text, worker, job, outbound_to(session, worker.phone)[-1]
        # Neither this worker nor this job's next wave may meet the next form's.
        session.get(Worker, worker.id).status = WorkerStatus.PAUSED
        session.get(Job, job.id).status = JobStatus.CANCELLED
        session.commit()


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_yes(runtime, session, market: Market, client, language: str) -> None:
    forms = YES_FORMS if language == "zh" else [form for form in YES_FORMS if form.isascii()]
    for text, worker, job, reply in _answer_each(
        runtime, session, market, client, forms, language, address="太行西街88号"
    ):
        assert status_of(session, job, worker) == OfferStatus.ACCEPTED, text
        assert session.get(Job, job.id).filled == 1, text
        # 水电工 is high-risk: the place comes with its day insurance reference (tests/insurance), in a
        # text of its own after the confirmation.
        [enrolment] = session.scalars(select(InsuranceEnrolment).where(InsuranceEnrolment.job_id == job.id))
        assert reply.kind == "placement.insurance" and reply.is_reply, text
        assert enrolment.reference in reply.body, text
        confirmation = confirmation_to(session, worker.phone)
        assert confirmation.is_reply, text
        phone = "137 " + job.employer.phone[6:10] + " " + job.employer.phone[10:]
        if language == "zh":
            assert confirmation.body == (
                f"【潞州零工】岗位{job.code}已确认：水电工 明天8点到太行西街88号，日薪300元，"
                f"雇主王老板 {phone}。不去回复 取消 {job.code}"
            ), text
        else:  # a Chinese street address would turn the text into UCS-2: the site's English name instead
            assert confirmation.body == (
                f"Luzhou Jobs: Booked {job.code}: tomorrow 8:00, Taihang West Street, ¥300/day, {phone}. "
                f"Can't go? CANCEL {job.code}"
            ), text
            assert confirmation.segments == 1


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_no(runtime, session, market: Market, client, language: str) -> None:
    forms = NO_FORMS if language == "zh" else [form for form in NO_FORMS if form.isascii()]
    for text, worker, job, reply in _answer_each(runtime, session, market, client, forms, language):
        assert status_of(session, job, worker) == OfferStatus.DECLINED, text
        expected = {
            "zh": f"【潞州零工】收到，岗位{job.code}您不接。有合适的活再通知您。",
            "en": f"Luzhou Jobs: OK, you pass on job {job.code}. We will text you other jobs.",
        }
        assert reply.body == expected[language], text


def test_the_employer_hears_of_each_worker(runtime, session, market: Market, client, clock) -> None:
    a = market.worker(name="张三")
    b = market.worker(name="李四")
    job = offered(runtime, session, market, a, b, headcount=2)
    text_in(client, f"1 {job.code}", sender=a.phone)
    clock.shift(timedelta(seconds=61))
    run_jobs(runtime, with_scheduler=True)
    text_in(client, f"1 {job.code}", sender=b.phone)
    clock.shift(timedelta(seconds=61))
    run_jobs(runtime, with_scheduler=True)
    first, second = outbound_to(session, job.employer.phone)
    phone_a = "137 " + a.phone[6:10] + " " + a.phone[10:]
    phone_b = "137 " + b.phone[6:10] + " " + b.phone[10:]
    assert first.body == f"【潞州零工】岗位{job.code}（水电工）已确认1/2人：张三 {phone_a}"
    assert second.body == f"【潞州零工】岗位{job.code}（水电工）已确认2/2人：李四 {phone_b}。已招满"
    assert first.kind == "placement.employer"


def test_confirmations_arriving_together_make_one_summary(
    runtime, session, market: Market, client, clock
) -> None:
    workers = [market.worker(name=name) for name in ("张三", "李四", "王五", "赵六")]
    job = offered(runtime, session, market, *workers, headcount=4, pay=300)
    for worker in workers:
        text_in(client, f"1 {job.code}", sender=worker.phone)
        clock.shift(timedelta(seconds=10))
    clock.shift(timedelta(seconds=60))
    run_jobs(runtime, with_scheduler=True)
    run_jobs(runtime, with_scheduler=True)  # later notices find nothing new
    texts = outbound_to(session, job.employer.phone)
    assert [t.body.count("137 ") for t in texts] == [3, 1]  # three workers a text, in the order they said yes
    assert texts[0].body.startswith(f"【潞州零工】岗位{job.code}（水电工）已确认3/4人：张三 ")
    assert "李四" in texts[0].body and "王五" in texts[0].body and "已招满" not in texts[0].body
    assert texts[1].body.startswith(f"【潞州零工】岗位{job.code}（水电工）已确认4/4人：赵六 ")
    assert texts[1].body.endswith("。已招满")


@pytest.mark.parametrize("settings_overrides", [{"STANDBY_ENABLED": True}, {"STANDBY_ENABLED": False}])
def test_a_yes_after_the_job_is_full(runtime, session, market: Market, client, settings_overrides) -> None:
    first, late = market.worker(), market.worker()
    job = offered(runtime, session, market, first, late)
    text_in(client, "1", sender=first.phone)
    assert status_of(session, job, late) == OfferStatus.CANCELLED  # the filled job closed it
    text_in(client, f"1 {job.code}", sender=late.phone)
    standby = settings_overrides["STANDBY_ENABLED"]
    assert status_of(session, job, late) == (OfferStatus.STANDBY if standby else OfferStatus.LATE)
    expected = f"【潞州零工】岗位{job.code}名额已满，谢谢您！" + (
        "您已排上候补，有人取消会先通知您。" if standby else ""
    )
    assert last_body(session, late) == expected
    session.expire_all()
    assert session.get(Job, job.id).filled == 1


def test_a_repeated_yes_keeps_one_place(runtime, session, market: Market, client) -> None:
    worker = market.worker()
    job = offered(runtime, session, market, worker, headcount=3)
    text_in(client, f"1 {job.code}", sender=worker.phone)
    text_in(client, "好", sender=worker.phone)  # no open offer left: not an answer to anything
    text_in(client, f"1 {job.code}", sender=worker.phone)
    session.expire_all()
    assert session.get(Job, job.id).filled == 1
    kinds = [m.kind for m in outbound_to(session, worker.phone)]
    placed = ["placement.worker", "placement.insurance"]
    assert kinds == ["offer", *placed, "not_understood", *placed]


def test_several_open_offers_ask_which(runtime, session, market: Market, client) -> None:
    worker = market.worker(trades=("plumber_electrician", "porter"))
    first = offered(runtime, session, market, worker)
    second = offered(
        runtime, session, market, worker, trade="porter", work_date=first.work_date + timedelta(days=1)
    )
    text_in(client, "1", sender=worker.phone)
    assert last_body(session, worker) == (
        f"【潞州零工】您有2个岗位：{first.code}、{second.code}。请回复 1 加岗位号接单，如 1 {first.code}；"
        "2 加岗位号不接"
    )
    assert status_of(session, first, worker) == status_of(session, second, worker) == OfferStatus.SENT
    text_in(client, f"1 {second.code}", sender=worker.phone)
    assert status_of(session, second, worker) == OfferStatus.ACCEPTED
    text_in(client, "2", sender=worker.phone)  # only one open now
    assert status_of(session, first, worker) == OfferStatus.DECLINED


def test_a_code_never_offered_gets_a_clear_answer(runtime, session, market: Market, client) -> None:
    worker = market.worker()
    job = offered(runtime, session, market, worker)
    text_in(client, "1 999", sender=worker.phone)
    assert (
        last_body(session, worker) == f"【潞州零工】没有发给您的岗位999，请核对岗位号。您的岗位：{job.code}"
    )
    other = market.job(trade="porter")  # a real job, offered to others
    commit(runtime, session)
    text_in(client, f"1 {other.code}", sender=worker.phone)
    assert last_body(session, worker).startswith(f"【潞州零工】没有发给您的岗位{other.code}，")
    assert status_of(session, job, worker) == OfferStatus.SENT


def test_a_clash_with_a_place_already_held(runtime, session, market: Market, client) -> None:
    worker = market.worker()
    first = offered(runtime, session, market, worker, days=3)
    second = offered(runtime, session, market, worker, work_date=first.work_date + timedelta(days=2))
    text_in(client, f"1 {first.code}", sender=worker.phone)
    text_in(client, f"1 {second.code}", sender=worker.phone)
    assert status_of(session, second, worker) == OfferStatus.DECLINED
    assert last_body(session, worker) == (
        f"【潞州零工】岗位{second.code}和您已接的岗位{first.code}时间冲突，不能再接。"
    )


def test_giving_a_place_back(runtime, session, market: Market, client, clock) -> None:
    worker = market.worker(name="张三")
    job = offered(runtime, session, market, worker)
    text_in(client, f"1 {job.code}", sender=worker.phone)
    clock.shift(timedelta(seconds=61))
    run_jobs(runtime, with_scheduler=True)  # the employer heard of 张三
    text_in(client, "取消", sender=worker.phone)  # no code: asked which, nothing given back yet
    assert last_body(session, worker) == (
        f"【潞州零工】您有1个岗位：{job.code}。要取消哪个？请回复 取消 加岗位号，如 取消 {job.code}"
    )
    text_in(client, f"2 {job.code}", sender=worker.phone)  # a no is not a cancellation
    assert status_of(session, job, worker) == OfferStatus.ACCEPTED
    assert last_body(session, worker) == (
        f"【潞州零工】您已接下岗位{job.code}。如确实不去了，请回复 取消 {job.code} 确认；照常去就不用回复。"
    )
    text_in(client, f"取消{job.code}", sender=worker.phone)
    assert status_of(session, job, worker) == OfferStatus.CANCELLED
    assert (
        last_body(session, worker)
        == f"【潞州零工】已为您取消岗位{job.code}。临时取消会影响以后派活，请尽量提前告知。"
    )
    employer_text = outbound_to(session, job.employer.phone)[-1]
    assert employer_text.kind == "match.cancel_employer"
    assert employer_text.body.endswith(f"取消了岗位{job.code}（水电工），现0/1人，正在为您补招。")
    session.expire_all()
    assert session.get(Worker, worker.id).cancellations == 1
    assert session.get(Job, job.id).status == JobStatus.OPEN


def test_cancel_alone_is_still_an_opt_out(runtime, session, market: Market, client) -> None:
    worker = market.worker(language="en")
    job = offered(runtime, session, market, worker)
    text_in(client, f"1 {job.code}", sender=worker.phone)
    text_in(client, "CANCEL", sender=worker.phone)
    assert outbound_to(session, worker.phone)[-1].kind == "opt_out.confirm"
    assert status_of(session, job, worker) == OfferStatus.ACCEPTED  # the place stands: agents follow up
    [ticket] = session.scalars(select(Ticket).where(Ticket.job_id == job.id)).all()
    assert (ticket.kind, ticket.worker_id, ticket.job_id) == (TicketKind.UNFILLED_JOB, worker.id, job.id)
    assert "opted out" in ticket.summary
    text_in(client, "STOP", sender=worker.phone)  # again: still one ticket
    assert len(session.scalars(select(Ticket).where(Ticket.job_id == job.id)).all()) == 1


def test_an_opt_out_after_the_job_is_over_opens_no_ticket(
    runtime, session, market: Market, client, clock
) -> None:
    worker = market.worker()
    job = offered(runtime, session, market, worker)
    text_in(client, f"1 {job.code}", sender=worker.phone)
    clock.shift(timedelta(days=2))
    text_in(client, "退订", sender=worker.phone)
    assert outbound_to(session, worker.phone)[-1].kind == "opt_out.confirm"
    assert session.scalars(select(Ticket).where(Ticket.job_id == job.id)).all() == []


def test_answers_from_strangers_are_left_to_the_other_handlers(
    runtime, session, market: Market, client
) -> None:
    worker = market.worker()
    job = offered(runtime, session, market, worker)
    text_in(client, f"1 {job.code}", sender="+8613911112222")
    # A code read off the hall's screen by somebody not registered: how to register, no place taken.
    [reply] = outbound_to(session, "+8613911112222")
    assert reply.kind == "how_to_register"
    assert session.get(Job, job.id).filled == 0
    assert status_of(session, job, worker) == OfferStatus.SENT


def test_a_cancelled_job_tells_its_workers(runtime, session, market: Market, client) -> None:
    placed, waiting = market.worker(), market.worker()
    job = offered(runtime, session, market, placed, waiting, headcount=2)
    text_in(client, f"1 {job.code}", sender=placed.phone)
    with runtime.db.transaction() as work:
        told = services.cancel_job(work, runtime.settings, work.get(Job, job.id), utcnow())
        assert {offer.worker_id for offer in told} == {placed.id, waiting.id}
    for worker in (placed, waiting):
        text = outbound_to(session, worker.phone)[-1]
        assert text.kind == "match.job_cancelled"
        assert text.body == render(
            "job_cancelled",
            "zh",
            sig="潞州零工",
            code=job.code,
            trade="水电工",
            date=job.work_date,
            area="太行西街街道",
        )
    text_in(client, f"1 {job.code}", sender=waiting.phone)
    assert last_body(session, waiting) == f"【潞州零工】岗位{job.code}已取消，不再招人。"
    assert (
        session.scalar(
            select(Message.id).where(Message.phone == waiting.phone, Message.kind == "placement.worker")
        )
        is None
    )


def test_a_bare_yes_never_takes_a_lapsed_offer(runtime, session, market: Market, client, clock) -> None:
    worker = market.worker()
    job = offered(runtime, session, market, worker)
    clock.shift(timedelta(hours=2))
    with runtime.db.transaction() as work:  # the offer lapsed; the job still wants a worker
        work.execute(
            Offer.__table__.update().where(Offer.job_id == job.id).values(status=OfferStatus.EXPIRED)
        )
    for thanks in ("好", "ok", "行"):
        text_in(client, thanks, sender=worker.phone)
        assert status_of(session, job, worker) == OfferStatus.EXPIRED
        assert last_body(session, worker) == (
            f"【潞州零工】您有1个岗位：{job.code}。请回复 1 加岗位号接单，如 1 {job.code}；2 加岗位号不接"
        )
    text_in(client, f"1 {job.code}", sender=worker.phone)  # with its code, a late yes still gets the place
    assert status_of(session, job, worker) == OfferStatus.ACCEPTED


GONE = "【潞州零工】岗位{code}的邀请对您已失效，不能再接。有合适的活再通知您。"


@pytest.mark.parametrize("change", ["paused", "blocked"])
def test_a_yes_from_a_worker_no_longer_eligible_takes_nothing(
    runtime, session, market: Market, client, change
) -> None:
    worker, other = market.worker(), market.worker()
    job = offered(runtime, session, market, worker, other)
    with runtime.db.transaction() as work:
        if change == "paused":
            work.get(Worker, worker.id).status = WorkerStatus.PAUSED
        else:
            work.add(EmployerBlock(employer_id=job.employer_id, worker_id=worker.id, reason="no-show"))
    text_in(client, f"1 {job.code}", sender=worker.phone)
    assert status_of(session, job, worker) == OfferStatus.CANCELLED
    assert last_body(session, worker) == GONE.format(code=job.code)
    session.expire_all()
    assert session.get(Job, job.id).filled == 0
    text_in(client, f"1 {job.code}", sender=other.phone)  # the place is still there for others
    assert status_of(session, job, other) == OfferStatus.ACCEPTED


def test_a_declined_offer_cannot_be_taken_back(runtime, session, market: Market, client) -> None:
    worker, other = market.worker(), market.worker()
    job = offered(runtime, session, market, worker, other)
    text_in(client, f"2 {job.code}", sender=worker.phone)
    text_in(client, f"1 {job.code}", sender=worker.phone)
    assert status_of(session, job, worker) == OfferStatus.DECLINED
    assert last_body(session, worker) == GONE.format(code=job.code)
    session.expire_all()
    assert session.get(Job, job.id).filled == 0


@pytest.mark.parametrize("settings_overrides", [{"STANDBY_ENABLED": False}])
def test_a_given_back_or_late_offer_cannot_take_a_reopened_place(
    runtime, session, market: Market, client, settings_overrides
) -> None:
    placed, late, third = market.worker(), market.worker(), market.worker()
    job = offered(runtime, session, market, placed, late, third)
    text_in(client, f"1 {job.code}", sender=placed.phone)
    text_in(client, f"1 {job.code}", sender=late.phone)  # 名额已满
    assert status_of(session, job, late) == OfferStatus.LATE
    text_in(client, f"取消 {job.code}", sender=placed.phone)  # the place reopens
    for worker in (placed, late, third):  # third's offer was closed when the job filled
        text_in(client, f"1 {job.code}", sender=worker.phone)
        assert last_body(session, worker) == GONE.format(code=job.code)
    assert status_of(session, job, placed) == OfferStatus.CANCELLED
    session.expire_all()
    assert session.get(Job, job.id).filled == 0


def test_a_lapsed_offer_is_taken_only_while_the_job_lasts(runtime, session, market: Market, client, clock):
    worker = market.worker()
    job = offered(runtime, session, market, worker)
    with runtime.db.transaction() as work:
        work.execute(
            Offer.__table__.update().where(Offer.job_id == job.id).values(status=OfferStatus.EXPIRED)
        )
    clock.shift(timedelta(days=2))  # the job's day went by without a wave noticing
    text_in(client, f"1 {job.code}", sender=worker.phone)
    assert status_of(session, job, worker) == OfferStatus.EXPIRED
    assert last_body(session, worker) == f"【潞州零工】岗位{job.code}已结束，不再招人。"


def test_a_cancel_after_the_start_goes_to_an_agent(runtime, session, market: Market, client) -> None:
    placed, other = market.worker(), market.worker()
    job = offered(runtime, session, market, placed, other, work_date=NOW.date(), days=2)  # began at 8:00
    text_in(client, f"1 {job.code}", sender=placed.phone)
    text_in(client, f"取消 {job.code}", sender=placed.phone)
    run_jobs(runtime)
    assert status_of(session, job, placed) == OfferStatus.CANCELLED
    assert status_of(session, job, other) == OfferStatus.CANCELLED  # closed when it filled; no refill
    session.expire_all()
    job = session.get(Job, job.id)
    assert (job.status, job.filled) == (JobStatus.ESCALATED, 0)
    [ticket] = session.scalars(select(Ticket).where(Ticket.job_id == job.id)).all()
    assert (ticket.kind, ticket.worker_id, ticket.priority) == (TicketKind.UNFILLED_JOB, placed.id, 1)
    assert "cancelled after the start" in ticket.summary


def test_a_cancel_after_the_job_is_over_is_refused(runtime, session, market: Market, client, clock) -> None:
    worker = market.worker()
    job = offered(runtime, session, market, worker)  # tomorrow, one day
    text_in(client, f"1 {job.code}", sender=worker.phone)
    clock.shift(timedelta(days=2))
    text_in(client, f"取消 {job.code}", sender=worker.phone)
    assert status_of(session, job, worker) == OfferStatus.ACCEPTED
    assert (
        last_body(session, worker)
        == f"【潞州零工】岗位{job.code}的工期已结束，不能再取消。如有问题请联系客服。"
    )
    session.expire_all()
    assert session.get(Job, job.id).filled == 1
    assert session.get(Worker, worker.id).cancellations == 0
    text_in(client, "取消", sender=worker.phone)  # no place left to list
    assert outbound_to(session, worker.phone)[-1].kind != "match.which_code"


def test_filling_the_job_leaves_an_opt_out_ticket_open(runtime, session, market: Market, client) -> None:
    quitter, other = market.worker(), market.worker()
    job = offered(runtime, session, market, quitter, other, headcount=2)
    text_in(client, f"1 {job.code}", sender=quitter.phone)
    text_in(client, "退订", sender=quitter.phone)
    text_in(client, f"1 {job.code}", sender=other.phone)  # the job fills
    session.expire_all()
    assert session.get(Job, job.id).status == JobStatus.FILLED
    [ticket] = session.scalars(select(Ticket).where(Ticket.job_id == job.id)).all()
    assert (ticket.worker_id, ticket.status) == (quitter.id, TicketStatus.OPEN)


def test_a_bare_yes_after_the_job_filled_is_answered_not_ticketed(
    runtime, session, market: Market, client
) -> None:
    first, late = market.worker(), market.worker()
    job = offered(runtime, session, market, first, late)
    text_in(client, "1", sender=first.phone)
    text_in(client, "好的", sender=late.phone)  # no code: the offer it answers closed a moment ago
    assert status_of(session, job, late) == OfferStatus.STANDBY
    assert last_body(session, late).startswith(f"【潞州零工】岗位{job.code}名额已满")
    text_in(client, "没空", sender=late.phone)  # off the standby list
    assert status_of(session, job, late) == OfferStatus.DECLINED
    assert session.scalar(select(Ticket.id).where(Ticket.phone == late.phone)) is None


def test_a_bare_yes_after_the_job_was_cancelled_hears_it_is_off(
    runtime, session, market: Market, client
) -> None:
    worker = market.worker()
    job = offered(runtime, session, market, worker)
    services.cancel_job(session, runtime.settings, session.get(Job, job.id), utcnow())
    commit(runtime, session)
    text_in(client, "1", sender=worker.phone)
    assert last_body(session, worker) == f"【潞州零工】岗位{job.code}已取消，不再招人。"
    assert session.scalar(select(Ticket.id).where(Ticket.phone == worker.phone)) is None


def test_a_thank_you_after_a_placement_is_not_a_yes_to_an_offer_that_closed(
    runtime, session, market: Market, client
) -> None:
    worker = market.worker(trades=("plumber_electrician", "porter"))
    rival = market.worker(trades=("porter",))
    first = offered(runtime, session, market, worker)
    second = offered(
        runtime, session, market, worker, rival, trade="porter", work_date=first.work_date + timedelta(days=1)
    )
    text_in(client, f"1 {second.code}", sender=rival.phone)  # the rival fills the second job
    assert status_of(session, second, worker) == OfferStatus.CANCELLED
    text_in(client, f"1 {first.code}", sender=worker.phone)  # our worker takes the first
    text_in(client, "好", sender=worker.phone)  # a thank-you
    assert status_of(session, second, worker) == OfferStatus.CANCELLED  # not put on its standby list
    assert outbound_to(session, worker.phone)[-1].kind == "not_understood"
