"""The follow-up call (回访) by keypad: the market calls a worker who prefers voice and asks what the SMS
follow-up asks: were you paid in full (1 yes, 2 partly, 3 not paid), then the employer's stars (1-5).

dispatch.voice.tasks places the call; Twilio fetches /ivr/followup when the worker picks up. As in the
voice menu, the call's state lives in its `Call` row (flow "followup") and every action URL carries
the turn it was issued for, so a step delivered twice gets the same TwiML and has one effect. Each
answer goes to the follow-up as it is keyed (a call may end at any moment, its status callback never
come), and a later call asks only what is still missing. A wrong key or silence asks again twice,
then the call says goodbye and the follow-up stays open: its reminder and agent ticket take over.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from dispatch.clock import utcnow
from dispatch.followup.services import record_answer
from dispatch.ivr import prompts, services
from dispatch.ivr.choices import spoken_trade
from dispatch.ivr.turn import DONE, INVALID, TIMEOUT, Step, Turn
from dispatch.models import OPEN_FOLLOW_UP_STATUSES, AnsweredVia, Call, FollowUp, PaidAnswer
from dispatch.settings import Settings
from dispatch.voice import services as calls

log = logging.getLogger(__name__)
MAX_RETRIES = 2  # a wrong key or silence asks again twice; the third ends the call
PAID_KEYS = {"1": PaidAnswer.FULL, "2": PaidAnswer.PART, "3": PaidAnswer.NONE}
STAR_KEYS = frozenset("12345")
WAGE_CASE_ANSWERS = frozenset({PaidAnswer.PART, PaidAnswer.NONE})
# Twilio's final statuses, and the stale-call sweep's for a call whose status never came.
ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled", services.STALE_CALL_STATUS})


class FollowUpTurn(Turn):
    def step_url(self, step: str) -> str:
        return self.url(f"/ivr/followup/step/{step}", t=self.call.turn)


def begin(
    session: Session, settings: Settings, form: Mapping[str, str], base_url: str, follow_up_id: int | None
) -> str:
    """The worker picked up: who we are, which job, and the first question."""
    follow_up = session.get(FollowUp, follow_up_id) if follow_up_id else None
    call = services.find_call(session, form.get("CallSid", ""))
    if call is None:
        if follow_up is None:
            log.warning("follow-up call %s for unknown follow-up %s", form.get("CallSid"), follow_up_id)
            return hang_up(settings, base_url, "zh")
        call = calls.follow_up_call(session, follow_up, form["CallSid"], "in-progress")
    if call.flow != calls.FLOW:
        return hang_up(settings, base_url, call.language)
    if call.last_key or call.turn:
        return call.last_twiml  # delivered again, or replayed after the call moved on
    follow_up = calls.follow_up_of(session, call)
    call.turn, call.status = 1, (form.get("CallStatus") or "in-progress")[:24]
    turn = FollowUpTurn(session, settings, call, base_url, form)
    if follow_up is None or follow_up.status not in OPEN_FOLLOW_UP_STATUSES:
        turn.say("followup_answered")
        turn.response.hangup()
        return _remember(turn, "answer:0")
    job = follow_up.job
    # The reminder's call asks only what is still missing: "paid" told in an earlier call (or by SMS)
    # is kept, and asking it again would only confuse (and be ignored).
    first = "paid" if follow_up.paid is None else "stars"
    gather = turn.gather(first)
    turn.say(
        "followup_intro",
        gather,
        code=job.code or "",
        date=job.work_date,
        days=job.days,
        trade=spoken_trade(job.trade, turn.language),
    )
    turn.say(f"followup_{first}", gather)
    call.step = first
    return _remember(turn, "answer:0")


def take_step(
    session: Session, settings: Settings, step: str, turn_param: str, form: Mapping[str, str], base_url: str
) -> str:
    """The keys (or silence) answering `step`, asked at turn `turn_param`."""
    call = services.find_call(session, form.get("CallSid", ""))
    if call is None or call.flow != calls.FLOW:
        log.warning("follow-up step %s for unknown call %s: hanging up", step, form.get("CallSid"))
        return hang_up(settings, base_url, call.language if call else "zh")
    key = f"{step}:{turn_param}"[:48]
    if key == call.last_key:
        return call.last_twiml
    if call.ended_at is not None:
        return hang_up(settings, base_url, call.language)
    if step != call.step or turn_param != str(call.turn) or step not in STEPS:
        log.info("follow-up call %s: stale step %s; now at %s", call.call_sid, key, call.step)
        return call.last_twiml or hang_up(settings, base_url, call.language)
    call.turn += 1
    call.status = (form.get("CallStatus") or call.status)[:24]
    turn = FollowUpTurn(session, settings, call, base_url, form)
    result = STEPS[step].answer(turn, (form.get("Digits") or "").strip()[:8])
    if result in {INVALID, TIMEOUT}:
        _retry(turn, step, result)
    elif result != DONE:
        call.step, call.retries = result, 0
        STEPS[result].ask(turn, "")
    return _remember(turn, key)


def call_for_status(session: Session, call_sid: str, follow_up_id: int | None) -> Call | None:
    """The follow-up call a status callback is about; made from the follow-up when the call's row was
    lost (the task that placed the call failed to commit); None for any other call."""
    call = services.find_call(session, call_sid)
    if call is None:
        follow_up = session.get(FollowUp, follow_up_id) if follow_up_id else None
        return calls.follow_up_call(session, follow_up, call_sid, "queued") if follow_up else None
    return call if call.flow == calls.FLOW else None


def call_ended(session: Session, settings: Settings, call: Call, status: str) -> None:
    """Twilio's final status (or the stale-call sweep's, when none came): kept on the call. The answers
    were recorded as they were keyed; this only makes sure of it (record_answer keeps what it has).
    No-answer, busy and failed change nothing else."""
    call.status = status[:24]
    if status in ENDED:
        call.ended_at = call.ended_at or utcnow()
        _record(session, settings, call, stars=None)


def hang_up(settings: Settings, base_url: str, language: str) -> str:
    """A polite goodbye without touching the database: for odd requests and for failures."""
    response = VoiceResponse()
    prompts.add(response, "followup_bye", language, f"{base_url}/ivr/prompts", settings.PROMPTS_DIR)
    response.hangup()
    return str(response)


# -- the two questions ----------------------------------------------------------------------------


def _ask_paid(turn: Turn, retry: str) -> None:
    turn.say("followup_paid", turn.gather("paid", retry))


def _answer_paid(turn: Turn, digits: str) -> str:
    if digits not in PAID_KEYS:
        return INVALID if digits else TIMEOUT
    turn.keep(paid=PAID_KEYS[digits].value)
    # Recorded now, not at the call's end: the worker may hang up before the stars, and Twilio does
    # not retry a status callback that failed (a "not paid" must open its wage case regardless).
    follow_up = _record(turn.session, turn.settings, turn.call, stars=None)
    if follow_up is None or follow_up.stars is not None:
        _finish(turn, None)  # nothing left to ask (an answered follow-up has its stars)
        return DONE
    return "stars"


def _ask_stars(turn: Turn, retry: str) -> None:
    turn.say("followup_stars", turn.gather("stars", retry))


def _answer_stars(turn: Turn, digits: str) -> str:
    if digits not in STAR_KEYS:
        return INVALID if digits else TIMEOUT
    turn.keep(stars=int(digits))
    _finish(turn, int(digits))
    return DONE


def _finish(turn: Turn, stars: int | None) -> None:
    follow_up = _record(turn.session, turn.settings, turn.call, stars)
    # The wages line follows what the follow-up holds (a "paid" given earlier, by SMS or in the first
    # call, is the one acted on), not this call's key.
    paid = follow_up.paid if follow_up is not None else turn.call.answers.get("paid")
    turn.say("followup_thanks", wages=paid in WAGE_CASE_ANSWERS)
    turn.response.hangup()
    turn.call.step = "done"


def _retry(turn: Turn, step: str, reason: str) -> None:
    """Ask again after a wrong key or silence; the third time, goodbye (keeping a "paid" answer)."""
    call = turn.call
    call.retries += 1
    if call.retries <= MAX_RETRIES:
        STEPS[step].ask(turn, reason)
        return
    log.info("follow-up call %s: no usable answer at %s; hanging up", call.call_sid, step)
    if step == "stars":  # "paid" is known (this call's, or an earlier one's): thanks for it
        _finish(turn, None)
        return
    turn.say("followup_bye")
    turn.response.hangup()
    call.step = "done"


def _record(session: Session, settings: Settings, call: Call, stars: int | None) -> FollowUp | None:
    """Hand what the call collected to its follow-up (returned). record_answer decides what may still
    be answered and keeps an answer it already has, so handing the same ones again (a status callback
    after the last key) counts nothing twice."""
    follow_up = calls.follow_up_of(session, call)
    paid = call.answers.get("paid")
    if follow_up is None or (not paid and stars is None):
        return follow_up
    if record_answer(
        session,
        settings,
        follow_up,
        paid=PaidAnswer(paid) if paid else None,
        stars=stars,
        via=AnsweredVia.VOICE,
        now=utcnow(),
    ):
        log.info("follow-up %s answered by keypad on call %s", follow_up.id, call.call_sid)
    return follow_up


def _remember(turn: Turn, key: str) -> str:
    xml = str(turn.response)
    turn.call.last_key, turn.call.last_twiml = key, xml
    turn.session.flush()
    return xml


STEPS: dict[str, Step] = {"paid": Step(_ask_paid, _answer_paid), "stars": Step(_ask_stars, _answer_stars)}
