"""The follow-up call's keypad menu, driven as Twilio drives it: the call is placed by the task (real RQ
worker, real twilio client, fake Twilio API), then the worker's phone picks up at the URL it was
placed with and every request goes where the last TwiML said. Webhooks are signed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from dispatch.models import (
    AnsweredVia,
    Call,
    FollowUpStatus,
    PaidAnswer,
    WageCase,
)
from dispatch.queue import defer
from dispatch.voice.tasks import call_follow_up
from tests.helpers import run_jobs, sign
from tests.ivr.conftest import PUBLIC_BASE
from tests.voice.conftest import (
    Callee,
    callee_for,
    fresh_employer,
    fresh_follow_up,
    place,
    the_call,
)

SAY_ZH = '<Say language="cmn-CN" voice="Polly.Zhiyu">'
SAY_EN = '<Say language="en-US" voice="Polly.Joanna">'
PAID_ZH = "工钱结清了吗？全部结清请按1；只结了一部分请按2；没有结请按3。"
STARS_ZH = "这个雇主怎么样？请按1到5打分，5分最好，1分最差。"
BYE_ZH = "这次没有收到您的回答，我们之后再联系您。再见。"


def ring(runtime, client, fake_twilio, **placement_args):
    """Place a follow-up and let the task call the worker; the worker's phone and the placement."""
    placement = place(runtime, **placement_args)
    with runtime.db.transaction() as session:
        defer(session, call_follow_up, placement.follow_up_id, queue="sms")
    run_jobs(runtime)
    return callee_for(client, fake_twilio), placement


def spelled(code: str) -> str:
    return " ".join(code)


def gather(step: str, turn: int, *says: str, say: str = SAY_ZH) -> str:
    url = f"{PUBLIC_BASE}/ivr/followup/step/{step}?t={turn}".replace("&", "&amp;")
    inner = "".join(f"{say}{text}</Say>" for text in says)
    return (
        f'<Gather action="{url}" actionOnEmptyResult="true" finishOnKey="" input="dtmf" method="POST" '
        f'numDigits="1" timeout="6">{inner}</Gather><Redirect method="POST">{url}</Redirect>'
    )


def twiml(*verbs: str) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?><Response>' + "".join(verbs) + "</Response>"


# -- the happy path -------------------------------------------------------------------------------


def test_paid_in_full_and_five_stars_answer_the_follow_up(runtime, client, session, seeded, fake_twilio):
    phone, placement = ring(runtime, client, fake_twilio)
    date = placement.work_date

    assert phone.pick_up() == twiml(
        gather(
            "paid",
            1,
            f"您好，这里是潞州区零工市场的回访电话，问一下您{date.month}月{date.day}日做的水电工活，"
            f"岗位号{spelled(placement.job_code)}。",
            PAID_ZH,
        )
    )
    assert phone.press("1") == twiml(gather("stars", 2, STARS_ZH))
    assert fresh_follow_up(session, placement).status == FollowUpStatus.ASKED  # nothing recorded yet
    assert phone.press("5") == twiml(f"{SAY_ZH}谢谢您的回答。再见。</Say>", "<Hangup />")

    follow_up = fresh_follow_up(session, placement)
    assert (follow_up.status, follow_up.paid, follow_up.stars, follow_up.answered_via) == (
        FollowUpStatus.ANSWERED,
        PaidAnswer.FULL,
        5,
        AnsweredVia.VOICE,
    )
    employer = fresh_employer(session, placement)
    assert (employer.rating_sum, employer.rating_count) == (5, 1)
    assert session.scalar(select(func.count()).select_from(WageCase)) == 0

    phone.hang_up()
    call = the_call(session, phone.sid)
    assert (call.status, call.ended_at is not None, call.answers["stars"]) == ("completed", True, 5)
    assert fresh_employer(session, placement).rating_count == 1  # the hang-up counts nothing again


def test_not_paid_opens_a_wage_case_and_says_an_agent_will_call(
    runtime, client, session, seeded, fake_twilio
):
    phone, placement = ring(runtime, client, fake_twilio)
    phone.pick_up()
    phone.press("3")
    assert phone.press("2") == twiml(
        f"{SAY_ZH}谢谢您的回答。工钱的事，工作人员会打电话跟您联系。再见。</Say>", "<Hangup />"
    )
    follow_up = fresh_follow_up(session, placement)
    assert (follow_up.status, follow_up.paid, follow_up.stars) == (
        FollowUpStatus.ANSWERED,
        PaidAnswer.NONE,
        2,
    )
    [case] = session.scalars(select(WageCase)).all()
    assert (case.follow_up_id, case.paid) == (placement.follow_up_id, PaidAnswer.NONE)


def test_an_english_speaker_hears_english(runtime, client, session, seeded, fake_twilio):
    phone, placement = ring(runtime, client, fake_twilio, language="en", days=2)
    date = placement.work_date
    assert phone.pick_up() == twiml(
        gather(
            "paid",
            1,
            "Hello, this is the Luzhou District gig market calling to follow up on your "
            f"Plumber or electrician job {spelled(placement.job_code)} "
            f"on {date.strftime('%B')} {date.day}, for 2 days.",
            "Were you paid in full? If yes, press 1. If you were paid only part, press 2. "
            "If you were not paid, press 3.",
            say=SAY_EN,
        )
    )
    phone.press("2")
    assert phone.said() == "How was the employer? Press 1 to 5: 5 is the best, 1 the worst."
    phone.press("4")
    assert phone.said() == "Thank you for your answers. An agent will call you about the wages. Goodbye."
    assert the_call(session, phone.sid).language == "en"


# -- wrong keys, silence, hang-ups ------------------------------------------------------------------


def test_wrong_keys_and_silence_ask_again_twice_then_goodbye(runtime, client, session, seeded, fake_twilio):
    phone, placement = ring(runtime, client, fake_twilio)
    phone.pick_up()
    assert phone.press("7") == twiml(gather("paid", 2, "您按的键不对。", PAID_ZH))
    assert phone.silence() == twiml(gather("paid", 3, "没有听到您按键。", PAID_ZH))
    assert phone.press("#") == twiml(f"{SAY_ZH}{BYE_ZH}</Say>", "<Hangup />")
    phone.hang_up()

    follow_up = fresh_follow_up(session, placement)
    assert (follow_up.status, follow_up.paid, follow_up.stars) == (FollowUpStatus.ASKED, None, None)
    assert the_call(session, phone.sid).step == "done"


def test_paid_then_hanging_up_records_the_paid_answer_only(runtime, client, session, seeded, fake_twilio):
    phone, placement = ring(runtime, client, fake_twilio)
    phone.pick_up()
    phone.press("2")
    phone.hang_up()

    follow_up = fresh_follow_up(session, placement)
    assert (follow_up.status, follow_up.paid, follow_up.stars) == (
        FollowUpStatus.ASKED,
        PaidAnswer.PART,
        None,
    )
    assert session.scalar(select(func.count()).select_from(WageCase)) == 1
    assert fresh_employer(session, placement).rating_count == 0
    phone.hang_up()  # the status callback delivered again: nothing more
    assert session.scalar(select(func.count()).select_from(WageCase)) == 1


def test_paid_then_wrong_stars_keeps_the_paid_answer(runtime, client, session, seeded, fake_twilio):
    phone, placement = ring(runtime, client, fake_twilio)
    phone.pick_up()
    phone.press("1")
    phone.press("0")
    phone.press("9")
    assert phone.press("6") == twiml(f"{SAY_ZH}谢谢您的回答。再见。</Say>", "<Hangup />")
    follow_up = fresh_follow_up(session, placement)
    assert (follow_up.status, follow_up.paid, follow_up.stars) == (
        FollowUpStatus.ASKED,
        PaidAnswer.FULL,
        None,
    )


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed"])
def test_an_unanswered_call_records_its_status_and_nothing_else(
    runtime, client, session, seeded, fake_twilio, status
):
    phone, placement = ring(runtime, client, fake_twilio)
    phone.hang_up(status)

    call = the_call(session, phone.sid)
    assert (call.status, call.ended_at is not None, call.turn) == (status, True, 0)
    follow_up = fresh_follow_up(session, placement)
    assert (follow_up.status, follow_up.paid, follow_up.call_sid) == (FollowUpStatus.ASKED, None, phone.sid)
    assert session.scalar(select(func.count()).select_from(WageCase)) == 0


def test_a_follow_up_answered_by_sms_meanwhile_is_not_asked_again(
    runtime, client, session, seeded, fake_twilio
):
    phone, placement = ring(runtime, client, fake_twilio)
    with runtime.db.transaction() as tx:
        fresh_follow_up(tx, placement).status = FollowUpStatus.ANSWERED
    assert phone.pick_up() == twiml(f"{SAY_ZH}这次回访您已经回答过了，谢谢，再见。</Say>", "<Hangup />")


# -- repeated and stale deliveries ------------------------------------------------------------------


def test_the_same_step_delivered_twice_has_one_effect(runtime, client, session, seeded, fake_twilio):
    phone, placement = ring(runtime, client, fake_twilio)
    first = phone.pick_up()
    assert phone.pick_up() == first  # the answer webhook again (Twilio retried)
    phone.press("3")
    stars_url = phone.action()
    thanks = phone.press("4")
    again = phone._post(stars_url, phone.params(Digits="4"))
    assert again == thanks
    other = phone._post(stars_url, phone.params(Digits="1"))  # a replay with other keys: still the first
    assert other == thanks

    follow_up = fresh_follow_up(session, placement)
    assert (follow_up.paid, follow_up.stars) == (PaidAnswer.NONE, 4)
    employer = fresh_employer(session, placement)
    assert (employer.rating_sum, employer.rating_count) == (4, 1)
    assert session.scalar(select(func.count()).select_from(WageCase)) == 1


def test_a_stale_step_gets_the_current_prompt_and_changes_nothing(
    runtime, client, session, seeded, fake_twilio
):
    phone, placement = ring(runtime, client, fake_twilio)
    phone.pick_up()
    paid_url = phone.action()
    stars_prompt = phone.press("1")
    assert phone._post(paid_url.replace("t=1", "t=0"), phone.params(Digits="3")) == stars_prompt
    assert fresh_follow_up(session, placement).paid == PaidAnswer.FULL  # the stale "3" changed nothing
    assert the_call(session, phone.sid).answers["paid"] == "full"


# -- odd input ------------------------------------------------------------------------------------


def test_a_bad_signature_is_refused_and_changes_nothing(runtime, client, session, seeded, fake_twilio):
    phone, _ = ring(runtime, client, fake_twilio)
    phone.pick_up()
    params = phone.params(Digits="1")
    path = phone.action()[len(PUBLIC_BASE) :]
    bad = sign(phone.action(), params, token="not-the-token")
    assert client.post(path, data=params, headers={"X-Twilio-Signature": bad}).status_code == 403
    assert client.post(path, data=params).status_code == 403
    status_path = phone.status_callback[len(PUBLIC_BASE) :]
    ended = phone.params(CallStatus="completed")
    assert client.post(status_path, data=ended, headers={"X-Twilio-Signature": bad}).status_code == 403
    call = the_call(session, phone.sid)
    assert (call.step, call.turn, call.status, call.ended_at) == ("paid", 1, "in-progress", None)


def test_odd_requests_get_a_goodbye_never_a_500(runtime, client, session, seeded, fake_twilio):
    phone, _ = ring(runtime, client, fake_twilio)
    stranger = Callee(client, phone.phone, "CA" + "f" * 32, f"{PUBLIC_BASE}/ivr/followup?f=999999999", "")
    assert stranger.pick_up() == twiml(f"{SAY_ZH}{BYE_ZH}</Say>", "<Hangup />")
    odd = Callee(client, phone.phone, "CA" + "e" * 32, f"{PUBLIC_BASE}/ivr/followup?f=abc", "")
    assert odd.pick_up() == twiml(f"{SAY_ZH}{BYE_ZH}</Say>", "<Hangup />")
    unknown_step = f"{PUBLIC_BASE}/ivr/followup/step/nonsense?t=1"
    assert phone._post(unknown_step, phone.params(Digits="1")).endswith("<Hangup /></Response>")
    response = client.post(
        "/ivr/followup",
        data={"From": "x"},
        headers={"X-Twilio-Signature": sign(f"{PUBLIC_BASE}/ivr/followup", {"From": "x"})},
    )
    assert response.status_code == 400
    assert session.scalar(select(func.count()).select_from(Call).where(Call.call_sid.like("CAfff%"))) == 0
