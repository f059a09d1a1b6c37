"""The routing table (dispatch/inbound/routes.py): one test per row, each with a text that row must
take, in the state that makes it that row's, stored and routed as the webhook does (real PostgreSQL;
what each handler then does is the feature suites' business). And the order between rows where a text
could be read two ways."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from dispatch.inbound.context import UNANSWERED_OFFER_HOURS
from dispatch.inbound.handling import handle_inbound
from dispatch.inbound.routes import ROUTES
from dispatch.models import (
    Contact,
    FollowUp,
    FollowUpParty,
    Job,
    JobStatus,
    Message,
    Offer,
    OfferStatus,
    PaidAnswer,
    QuestionKind,
    WageCase,
    Worker,
)
from dispatch.sms.parser import parse
from dispatch.sms.services import store_inbound
from tests.factories import Market, commit
from tests.followup.conftest import DAY, at, place, run_follow_ups
from tests.helpers import inbound_params, last_reply, run_jobs

ROW_NAMES = [row.name for row in ROUTES]


def routed(runtime, body: str, sender: str) -> tuple[str, Message]:  # type: ignore[no-untyped-def]
    """Store the text and route it in one transaction, as POST /sms/inbound does."""
    with runtime.db.transaction() as db:
        command = parse(body)
        message = store_inbound(
            db, runtime.settings, inbound_params(body, sender), handled_as=command.kind.value
        )
        assert message is not None
        name = handle_inbound(db, runtime.settings, message, command)
    return name, message


def offered(runtime, session, market: Market, worker: Worker, **job) -> Job:  # type: ignore[no-untyped-def]
    """A job whose first wave texted `worker` an offer (the offer is the number's open question)."""
    job_row = market.job(**job)
    commit(runtime, session)
    run_jobs(runtime)
    offer = session.scalar(select(Offer).where(Offer.job_id == job_row.id, Offer.worker_id == worker.id))
    assert offer is not None and offer.status == OfferStatus.SENT
    return job_row


def asked_to_follow_up(runtime, session, client, clock, market: Market, worker: Worker) -> Job:  # type: ignore[no-untyped-def]
    """The worker placed on a job of DAY, and asked the follow-up (回访) questions the morning after."""
    job = place(runtime, session, client, clock, market, worker, work_date=DAY)
    clock.move_to(at(DAY + timedelta(days=1), time(9, 0)))
    run_follow_ups(runtime)
    return job


def question_of(session, phone: str):  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalar(select(Contact.question_kind).where(Contact.phone == phone))


def test_every_row_has_its_own_name_and_the_agent_comes_last() -> None:
    assert len(set(ROW_NAMES)) == len(ROW_NAMES)
    assert ROW_NAMES[-1] == "an agent reads it"


@pytest.mark.parametrize(
    ("body", "row"),
    [
        ("退订", "opt out (STOP, 退订)"),
        ("订阅", "opt in (START, 订阅)"),
        ("EN", "language (EN, 中文)"),
        ("帮助", "help (HELP, 帮助)"),
        ("注册", "register (注册 ...)"),
        ("我的", "pause, resume, profile (忙 空 我的)"),
        ("师傅明天几点到", "an agent reads it"),
    ],
)
def test_global_words_and_the_agent(runtime, session, market: Market, body: str, row: str) -> None:
    worker = market.worker()
    commit(runtime, session)
    assert routed(runtime, body, worker.phone)[0] == row


def test_a_global_word_wins_over_a_dialogue_in_progress(runtime, session, market: Market) -> None:
    phone = "+8613900001111"
    assert routed(runtime, "注册", phone)[0] == "register (注册 ...)"
    assert routed(runtime, "帮助", phone)[0] == "help (HELP, 帮助)"
    assert routed(runtime, "3", phone)[0] == "dialogue step"


def test_an_offer_answer_with_its_code_and_a_bare_one_to_the_offer_asked(
    runtime, session, market: Market, clock
) -> None:
    worker = market.worker()
    first = offered(runtime, session, market, worker)
    assert question_of(session, worker.phone) == QuestionKind.OFFER
    assert routed(runtime, f"2 {first.code}", worker.phone)[0] == "offer answer with code (1 123)"
    second = offered(runtime, session, market, worker, work_date=DAY + timedelta(days=5))
    assert second.id != first.id
    assert routed(runtime, "好", worker.phone)[0] == "the offer asked (1, 好, 没空)"


def test_a_code_never_offered_is_answered_after_the_dialogue_had_its_turn(
    runtime, session, market: Market
) -> None:
    worker = market.worker()
    commit(runtime, session)
    assert routed(runtime, "1 98765", worker.phone)[0] == "code never offered (1 999)"
    # In a dialogue, `300 1` may be an answer there (a pay, a choice): the dialogue reads it.
    assert routed(runtime, "注册", worker.phone)[0] == "register (注册 ...)"
    assert routed(runtime, "1 98765", worker.phone)[0] == "dialogue step"


def test_an_offer_code_wins_over_a_dialogue(runtime, session, market: Market) -> None:
    worker = market.worker()
    job = offered(runtime, session, market, worker)
    assert routed(runtime, "注册", worker.phone)[0] == "register (注册 ...)"
    assert routed(runtime, f"1 {job.code}", worker.phone)[0] == "offer answer with code (1 123)"


def test_forwarding_an_offer(runtime, session, market: Market) -> None:
    worker = market.worker()
    job = offered(runtime, session, market, worker)
    assert (
        routed(runtime, f"转 {job.code} 13800138999", worker.phone)[0] == "forward an offer (转 123 138...)"
    )
    # `转` before a code the sender was not offered is not a forward (转账: money talk) but an agent's.
    assert routed(runtime, "转 500", worker.phone)[0] == "an agent reads it"


def test_follow_up_answers_with_a_code_and_to_the_question_asked(
    runtime, session, client, clock, market: Market
) -> None:
    worker = market.worker()
    job = asked_to_follow_up(runtime, session, client, clock, market, worker)
    assert question_of(session, worker.phone) == QuestionKind.FOLLOW_UP
    assert routed(runtime, "1", worker.phone)[0] == "the follow-up asked (3, 1 5)"
    assert routed(runtime, f"{job.code} 5", worker.phone)[0] == "follow-up answer with code (123 1 5)"


def test_a_bare_rating_after_an_offer_was_asked_is_still_a_follow_up_answer(
    runtime, session, client, clock, market: Market
) -> None:
    """`1 5` cannot answer an offer: with an offer asked since the follow-up, it is read further down."""
    worker = market.worker()
    asked_to_follow_up(runtime, session, client, clock, market, worker)
    offered(runtime, session, market, worker, work_date=DAY + timedelta(days=5))
    assert question_of(session, worker.phone) == QuestionKind.OFFER
    assert routed(runtime, "1 5", worker.phone)[0] == "follow-up answer (1 5)"


def test_a_bare_answer_with_no_question_open_goes_to_the_offers_still_open(
    runtime, session, market: Market
) -> None:
    """A number asked before the router kept questions (or whose question lapsed): a bare yes still
    reaches the worker's one open offer, further down the table."""
    worker = market.worker()
    offered(runtime, session, market, worker)
    contact = session.scalar(select(Contact).where(Contact.phone == worker.phone))
    contact.question_kind = contact.question_expires_at = contact.question_asked_at = None
    commit(runtime, session)
    assert routed(runtime, "1", worker.phone)[0] == "late or closed offer answer (1)"


def test_an_employers_job_request(runtime, session, market: Market, clock) -> None:
    employer = market.employer()
    commit(runtime, session)
    assert routed(runtime, "招 水电工 2人 明天 300元 太西", employer.phone)[0] == "job request (招 ...)"
    # The read-back asks to confirm: the answer is the dialogue's.
    assert routed(runtime, "1", employer.phone)[0] == "dialogue step"


def test_answering_the_offer_asked_leaves_the_follow_up_asked_before_as_the_question(
    runtime, session, client, clock, market: Market
) -> None:
    worker = market.worker()
    asked_to_follow_up(runtime, session, client, clock, market, worker)
    later = offered(runtime, session, market, worker, work_date=DAY + timedelta(days=5))
    assert routed(runtime, "2", worker.phone)[0] == "the offer asked (1, 好, 没空)"
    # The offer asked is answered and no other waits: `1` is the follow-up's again.
    assert routed(runtime, "1", worker.phone)[0] == "follow-up answer (1 5)"
    assert session.scalar(select(Offer.status).where(Offer.job_id == later.id)) == OfferStatus.DECLINED


def test_a_yes_after_a_follow_up_was_answered_takes_the_offer_still_open(
    runtime, session, client, clock, market: Market
) -> None:
    """Offer texted, then a follow-up asked and answered in full: a bare `1` is not a repeat of the
    answer but a yes to the offer still waiting."""
    worker = market.worker()
    asked_to_follow_up(runtime, session, client, clock, market, worker)
    job = offered(runtime, session, market, worker, work_date=DAY + timedelta(days=5))
    clock.shift(timedelta(minutes=5))
    run_follow_ups(runtime)  # nothing new to ask; the follow-up stays the question texted before
    contact = session.scalar(select(Contact).where(Contact.phone == worker.phone))
    contact.question_kind = QuestionKind.FOLLOW_UP  # as if the follow-up's reminder went after the offer
    commit(runtime, session)
    assert routed(runtime, "1 5", worker.phone)[0] == "the follow-up asked (3, 1 5)"
    assert routed(runtime, "1", worker.phone)[0] == "late or closed offer answer (1)"
    session.expire_all()
    offer = session.scalar(select(Offer).where(Offer.job_id == job.id, Offer.worker_id == worker.id))
    assert offer.status == OfferStatus.ACCEPTED


def test_an_offer_closed_by_others_gives_the_follow_up_its_bare_answers_back(
    runtime, session, client, clock, market: Market
) -> None:
    """The offer asked after the follow-up closed without the worker (the job was called off): `3`
    (not paid) is the follow-up's, and a wage case opens."""
    worker = market.worker()
    asked_to_follow_up(runtime, session, client, clock, market, worker)
    job = offered(runtime, session, market, worker, work_date=DAY + timedelta(days=5))
    offer = session.scalar(select(Offer).where(Offer.job_id == job.id, Offer.worker_id == worker.id))
    offer.status = OfferStatus.CANCELLED
    commit(runtime, session)
    assert question_of(session, worker.phone) == QuestionKind.OFFER
    assert routed(runtime, "3", worker.phone)[0] == "follow-up answer (1 5)"
    assert session.scalar(select(WageCase.id).where(WageCase.worker_id == worker.id)) is not None


def test_a_no_to_an_offer_filled_a_minute_before_is_not_read_as_partly_paid(
    runtime, session, client, clock, market: Market
) -> None:
    """Found by a 7-day simulated run: follow-up asked, an offer texted, the job filled by others, then
    the worker's bare `2` (no, to the offer). Read as the follow-up's it was "partly paid" and opened a
    wage case against an employer who had paid, and the worker's `325 1 4` after it was kept as part."""
    worker = market.worker()
    asked_to_follow_up(runtime, session, client, clock, market, worker)
    job = offered(runtime, session, market, worker, work_date=DAY + timedelta(days=5))
    offer = session.scalar(select(Offer).where(Offer.job_id == job.id, Offer.worker_id == worker.id))
    offer.status, offer.job.status = OfferStatus.CANCELLED, JobStatus.FILLED  # filled by others
    commit(runtime, session)
    assert routed(runtime, "2", worker.phone)[0] == "late or closed offer answer (1)"
    assert routed(runtime, "1", worker.phone)[0] == "late or closed offer answer (1)"
    session.expire_all()
    follow_up = session.scalar(
        select(FollowUp).where(FollowUp.worker_id == worker.id, FollowUp.party == FollowUpParty.WORKER)
    )
    assert (follow_up.paid, follow_up.stars) == (None, None)
    assert session.scalar(select(WageCase.id).where(WageCase.worker_id == worker.id)) is None
    # Two numbers are no offer's answer: the follow-up's, as before.
    assert routed(runtime, "1 4", worker.phone)[0] == "follow-up answer (1 5)"
    session.expire_all()
    assert (follow_up.paid, follow_up.stars) == (PaidAnswer.FULL, 4)


def test_a_lone_2_after_an_offer_was_asked_and_answered_must_name_the_job(
    runtime, session, client, clock, market: Market
) -> None:
    """Found by a 7-day simulated run: follow-up asked 09:00; an offer texted 09:22 and taken ("1 268",
    full: on standby); a bare `2` 16 seconds later, the worker's late no to an offer of the morning,
    was read as "partly paid" and opened a wage case against an employer who had paid. Now a lone `2`
    after an offer asked since the follow-up opens nothing: the worker is asked to name the job."""
    worker = market.worker()
    asked = asked_to_follow_up(runtime, session, client, clock, market, worker)
    job = offered(runtime, session, market, worker, work_date=DAY + timedelta(days=5))
    assert routed(runtime, f"1 {job.code}", worker.phone)[0] == "offer answer with code (1 123)"
    assert question_of(session, worker.phone) == QuestionKind.OFFER
    assert routed(runtime, "2", worker.phone)[0] == "follow-up answer (1 5)"
    reply = last_reply(session, worker.phone)
    assert reply.kind == "followup.which" and f"{asked.code} 2" in reply.body
    session.expire_all()
    follow_up = session.scalar(
        select(FollowUp).where(FollowUp.worker_id == worker.id, FollowUp.party == FollowUpParty.WORKER)
    )
    assert (follow_up.paid, follow_up.stars) == (None, None)
    assert session.scalar(select(WageCase.id).where(WageCase.worker_id == worker.id)) is None
    # Named, it is the follow-up's answer, and the wage case opens.
    assert routed(runtime, f"{asked.code} 2 4", worker.phone)[0] == "follow-up answer with code (123 1 5)"
    session.expire_all()
    assert (follow_up.paid, follow_up.stars) == (PaidAnswer.PART, 4)
    assert session.scalar(select(WageCase.id).where(WageCase.worker_id == worker.id)) is not None


def test_a_lone_2_while_an_offer_of_the_last_hours_went_unanswered_must_name_the_job(
    runtime, session, client, clock, market: Market
) -> None:
    """Found by a 7-day simulated run: an offer texted 08:50 lapsed unanswered at 09:00, the follow-up
    was asked at 09:05, and the worker's `2` at 09:48 was their late no to the offer, read as "partly
    paid". While an offer of the last UNANSWERED_OFFER_HOURS went unanswered, a lone `2` must name the
    job; past them it is the follow-up's question's again."""
    worker = market.worker()
    asked = asked_to_follow_up(runtime, session, client, clock, market, worker)
    job = offered(runtime, session, market, worker, work_date=DAY + timedelta(days=5))
    offer = session.scalar(select(Offer).where(Offer.job_id == job.id, Offer.worker_id == worker.id))
    offer.status = OfferStatus.EXPIRED  # lapsed unanswered
    contact = session.scalar(select(Contact).where(Contact.phone == worker.phone))
    contact.question_kind = QuestionKind.FOLLOW_UP  # as when the follow-up was asked after the offer
    commit(runtime, session)
    assert routed(runtime, "2", worker.phone)[0] == "the follow-up asked (3, 1 5)"
    assert last_reply(session, worker.phone).kind == "followup.which"
    assert session.scalar(select(WageCase.id).where(WageCase.worker_id == worker.id)) is None

    clock.shift(timedelta(hours=UNANSWERED_OFFER_HOURS, minutes=1))
    assert routed(runtime, "2", worker.phone)[0] == "the follow-up asked (3, 1 5)"
    session.expire_all()
    follow_up = session.scalar(
        select(FollowUp).where(FollowUp.worker_id == worker.id, FollowUp.party == FollowUpParty.WORKER)
    )
    assert follow_up.job_id == asked.id and follow_up.paid == PaidAnswer.PART
    assert session.scalar(select(WageCase.id).where(WageCase.worker_id == worker.id)) is not None


def test_a_late_yes_to_a_lapsed_offer_is_the_offers_not_a_follow_up_repeat(
    runtime, session, client, clock, market: Market
) -> None:
    worker = market.worker()
    asked_to_follow_up(runtime, session, client, clock, market, worker)
    assert routed(runtime, "1 5", worker.phone)[0] == "the follow-up asked (3, 1 5)"
    job = offered(runtime, session, market, worker, work_date=DAY + timedelta(days=5))
    offer = session.scalar(select(Offer).where(Offer.job_id == job.id, Offer.worker_id == worker.id))
    offer.status = OfferStatus.EXPIRED
    commit(runtime, session)
    name, _ = routed(runtime, "1", worker.phone)
    assert name == "late or closed offer answer (1)"
    assert last_reply(session, worker.phone).kind == "match.which_code"


def test_a_forwarded_offer_is_the_friends_open_question(runtime, session, market: Market) -> None:
    worker = market.worker()
    job = offered(runtime, session, market, worker)
    friend = market.worker()  # registered after the wave went out: offered nothing but the forward
    commit(runtime, session)
    assert question_of(session, friend.phone) is None
    assert (
        routed(runtime, f"转 {job.code} {friend.phone}", worker.phone)[0]
        == "forward an offer (转 123 138...)"
    )
    session.expire_all()
    assert question_of(session, friend.phone) == QuestionKind.OFFER
    assert routed(runtime, "1", friend.phone)[0] == "the offer asked (1, 好, 没空)"


def test_a_yes_glued_to_its_code_when_exactly_one_open_offer_has_it(runtime, session, market: Market) -> None:
    worker = market.worker()
    job = offered(runtime, session, market, worker)
    assert routed(runtime, f"1{job.code}", worker.phone)[0] == "offer answer glued to its code (1101)"
    session.expire_all()
    offer = session.scalar(select(Offer).where(Offer.job_id == job.id, Offer.worker_id == worker.id))
    assert offer.status == OfferStatus.ACCEPTED
    # Digits that name none of the worker's open offers are not an answer (a wage, a phone's tail).
    assert routed(runtime, "19999", worker.phone)[0] == "an agent reads it"


def test_a_yes_to_a_job_never_offered_takes_it_when_matching_would_have_offered_it(
    runtime, session, market: Market
) -> None:
    """The hall's screen and /j/101 tell everyone to text `1 101`."""
    fits, too_dear = market.worker(pay=200), market.worker(pay=500)
    job = market.job(headcount=1, pay=300)
    commit(runtime, session)
    assert routed(runtime, f"1 {job.code}", too_dear.phone)[0] == "code never offered (1 999)"
    assert routed(runtime, f"1 {job.code}", fits.phone)[0] == "a yes to a job off the screen (1 101)"
    session.expire_all()
    offer = session.scalar(select(Offer).where(Offer.job_id == job.id, Offer.worker_id == fits.id))
    assert offer is not None and offer.status == OfferStatus.ACCEPTED
    told = session.scalars(
        select(Message.kind).where(Message.phone == fits.phone, Message.kind.like("placement%"))
    )
    assert "placement.worker" in list(told)
    assert session.get(Job, job.id).filled == 1
    # Full now: the next one hears which codes are theirs, as before.
    other = market.worker(pay=200)
    commit(runtime, session)
    assert routed(runtime, f"1 {job.code}", other.phone)[0] == "code never offered (1 999)"
    # A stranger who read it off the screen is told how to register first.
    assert routed(runtime, f"1 {job.code}", "+8613900003333")[0] == "a stranger's hello or 找活"
    assert last_reply(session, "+8613900003333").kind == "how_to_register"


def test_a_strangers_hello_and_a_request_to_hire(runtime, session, market: Market) -> None:
    stranger = "+8613900002222"
    assert routed(runtime, "你好", stranger)[0] == "a stranger's hello or 找活"
    assert last_reply(session, stranger).kind == "how_to_register"
    assert routed(runtime, "我要找工作", stranger)[0] == "a stranger's hello or 找活"
    assert routed(runtime, "招工", stranger)[0] == "how to hire (招工)"
    assert last_reply(session, stranger).kind == "how_to_post"
    # A registered worker's hello is not a stranger's: someone reads what they want; their 找活 lists
    # the jobs near them (tests/inbound/test_pull.py).
    worker = market.worker()
    commit(runtime, session)
    assert routed(runtime, "你好", worker.phone)[0] == "an agent reads it"
    assert routed(runtime, "找活", worker.phone)[0] == "a worker asks for jobs (找活)"


def test_the_day_itself_a_workers_arrival_and_an_employers_no_show(runtime, session, market: Market) -> None:
    """The rows only; what they do is tests/inbound/test_attendance.py's."""
    worker, employer = market.worker(), market.employer()
    commit(runtime, session)
    assert routed(runtime, "到", worker.phone)[0] == "a worker arrived (到)"
    assert routed(runtime, "没来 101", employer.phone)[0] == "a worker did not come (没来 101)"
    assert routed(runtime, "没来 101", worker.phone)[0] == "an agent reads it"  # a worker has no say


def test_policy_a_menu_then_its_digit_and_a_topic_in_one_go(runtime, session, market: Market) -> None:
    worker = market.worker()
    commit(runtime, session)
    assert routed(runtime, "政策", worker.phone)[0] == "policy menu or topic (政策, 政策 2)"
    assert question_of(session, worker.phone) == QuestionKind.POLICY
    assert routed(runtime, "2", worker.phone)[0] == "the policy topic asked (2)"
    assert last_reply(session, worker.phone).kind == "policy.topic"
    assert routed(runtime, "policy 3", "+8613900002222")[0] == "policy menu or topic (政策, 政策 2)"


def test_policy_wins_over_a_dialogue_and_the_menu_takes_a_digit_an_offer_asked_before(
    runtime, session, market: Market, clock
) -> None:
    phone = "+8613900003333"
    assert routed(runtime, "注册", phone)[0] == "register (注册 ...)"
    assert routed(runtime, "政策", phone)[0] == "policy menu or topic (政策, 政策 2)"
    assert routed(runtime, "3", phone)[0] == "dialogue step"  # the dialogue still comes first
    worker = market.worker()
    offered(runtime, session, market, worker)
    assert routed(runtime, "政策", worker.phone)[0] == "policy menu or topic (政策, 政策 2)"
    assert routed(runtime, "1", worker.phone)[0] == "the policy topic asked (2)"
    clock.shift(timedelta(minutes=31))  # the menu was the question for half an hour
    assert routed(runtime, "1", worker.phone)[0] == "late or closed offer answer (1)"


def test_event_texts_off_and_on_and_a_sign_up(runtime, session, market: Market) -> None:
    worker = market.worker()
    commit(runtime, session)
    assert routed(runtime, "退订活动", worker.phone)[0] == "event texts off (退订活动)"
    assert routed(runtime, "unsubscribe events", worker.phone)[0] == "event texts off (退订活动)"
    assert routed(runtime, "订阅活动", worker.phone)[0] == "event texts on (订阅活动)"
    assert routed(runtime, "退订", worker.phone)[0] == "opt out (STOP, 退订)"  # still everything
    assert routed(runtime, "注册", "+8613900004444")[0] == "register (注册 ...)"
    # A sign-up names its event: it cannot be a step of the dialogue.
    assert routed(runtime, "报名 7", "+8613900004444")[0] == "sign up for an event (报名 7)"
    assert routed(runtime, "取消报名 7", worker.phone)[0] == "cancel a sign-up (取消报名 7)"


def test_a_wage_claim_is_a_global_word_for_a_worker(runtime, session, market: Market) -> None:
    """`欠薪 101` means the same whatever was asked before, a dialogue in progress included; from a
    number that is no worker's it is an agent's (tests/wages/test_claims.py: what the claim does)."""
    worker = market.worker()
    commit(runtime, session)
    assert routed(runtime, "欠薪 101", worker.phone)[0] == "a wage claim (欠薪 101, unpaid 101)"
    assert routed(runtime, "注册", worker.phone)[0] == "register (注册 ...)"
    assert routed(runtime, "没给钱 101", worker.phone)[0] == "a wage claim (欠薪 101, unpaid 101)"
    assert last_reply(session, worker.phone).kind == "wage_claim.which"
    assert routed(runtime, "欠薪 101", "+8613900005555")[0] == "an agent reads it"


def test_an_employers_block_after_a_low_rating_before_an_offer_answer(
    runtime, session, client, clock, market: Market
) -> None:
    """`101 2 不要` from an employer who rated that worker low (tests/followup/test_blocks.py: what it
    does); from anyone else, or naming no low rating, it goes on down the table (`不要` is also a no)."""
    employer = market.employer()
    worker = market.worker()
    job = place(runtime, session, client, clock, market, worker, work_date=DAY, employer=employer)
    clock.move_to(at(DAY + timedelta(days=1), time(9, 0)))
    run_follow_ups(runtime)
    assert routed(runtime, f"{job.code} 1 不要", employer.phone)[0] != "stop sending a worker (101 2 不要)"
    assert routed(runtime, f"{job.code} 1 1", employer.phone)[0] == "follow-up answer with code (123 1 5)"
    assert routed(runtime, f"{job.code} 1 不要", employer.phone)[0] == "stop sending a worker (101 2 不要)"


def test_every_row_is_exercised_by_this_file() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    assert [name for name in ROW_NAMES if f'"{name}"' not in source] == []
