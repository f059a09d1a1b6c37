"""Job intake by keypad: trade, headcount, day, start hour (`*` after it for half past), days, pay,
area, a spoken description, then a read-back to confirm or change. Trade and area are the choices
module's steps."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from dispatch.clock import utcnow
from dispatch.ivr import services
from dispatch.ivr.agent import to_agent
from dispatch.ivr.choices import STEPS as CHOICE_STEPS
from dispatch.ivr.choices import spoken_trade
from dispatch.ivr.turn import DONE, INVALID, PAST, TIMEOUT, Step, Turn, after, entry_step, number
from dispatch.jobs.services import JobRequestError
from dispatch.matching import in_time
from dispatch.models import EmployerStatus, JobStatus, Site, Trade
from dispatch.sms.registration import MAX_PAY, MIN_PAY
from dispatch.tickets.summaries import Summary

log = logging.getLogger(__name__)
MAX_DAYS_AHEAD = 90  # an 8-digit date further out than this is a typing slip
MAX_DAYS = 60  # as JobRequest allows
RECORD_SECONDS = 60
# The read-back's "2 to change" menu: key -> the step that asks that part again.
CHANGED = ("trade", "headcount", "date", "hour", "days", "pay", "area", "describe")
CHANGE_KEYS = {str(key): step for key, step in enumerate(CHANGED, 1)}
REQUIRED = ("trade", "headcount", "date", "hour", "days", "pay", "site")


def ask_date(turn: Turn, retry: str) -> None:
    turn.say("date", turn.entry("date", retry))


def answer_date(turn: Turn, digits: str) -> str:
    """1 today, 2 tomorrow, 3 the day after, or an 8-digit date (20261205)."""
    today = services.market_today(turn.settings)
    if digits in {"1", "2", "3"}:
        wanted = today + timedelta(days=int(digits) - 1)
    elif len(digits) == 8 and digits.isascii() and digits.isdigit():
        try:
            wanted = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        except ValueError:
            return INVALID
        if not today <= wanted <= today + timedelta(days=MAX_DAYS_AHEAD):
            return INVALID
    else:
        return INVALID if digits else TIMEOUT
    turn.keep(date=wanted.isoformat())
    return after(turn, "date")


# -- the start hour: not one already gone by, when the work is today ------------------------------
# The hour alone (7 #) is the common whole hour; * after it (7 * #) is half past, with no extra step.
HALF_PAST = "*"


def ask_hour(turn: Turn, retry: str) -> None:
    turn.say("hour", turn.entry("hour", retry), low=0, high=23)


def answer_hour(turn: Turn, digits: str) -> str:
    half = digits.endswith(HALF_PAST) and len(digits) > 1
    hour = number(digits[:-1] if half else digits, 0, 23)
    if isinstance(hour, str):
        return hour
    minute = 30 if half else 0
    wanted = turn.call.answers.get("date")
    if wanted and services.start_passed(turn.settings, date.fromisoformat(wanted), hour, minute=minute):
        return PAST
    turn.keep(hour=hour, minute=minute)
    return after(turn, "hour")


def _passed(turn: Turn) -> str | None:
    """The step to ask again when the request's start is already past (the read-back may have changed
    the day, or the call gone on past the hour): the day when it is gone, else the hour."""
    answers = turn.call.answers
    wanted = date.fromisoformat(answers["date"])
    if wanted < services.market_today(turn.settings):
        return "date"
    if services.start_passed(
        turn.settings, wanted, int(answers["hour"]), minute=int(answers.get("minute", 0))
    ):
        return "hour"
    return None


# -- a spoken description ------------------------------------------------------------------------


def ask_describe(turn: Turn, retry: str) -> None:
    turn.say("describe")
    turn.record("describe", max_length=RECORD_SECONDS, timeout=5)


def answer_describe(turn: Turn, digits: str) -> str:
    url = turn.recording_url()
    if url:
        turn.keep(recording=url)
    else:
        turn.drop("recording")
    return after(turn, "describe")


# -- read-back, change, confirm -----------------------------------------------------------------


def readback(turn: Turn) -> dict:
    answers = turn.call.answers
    trade = turn.session.get(Trade, int(answers["trade"]))
    site = turn.session.get(Site, int(answers["site"]))
    wanted = date.fromisoformat(answers["date"])
    return {
        "trade": spoken_trade(trade, turn.language) if trade else "",
        "headcount": answers["headcount"],
        "date": wanted,
        "when": services.days_ahead(services.market_today(turn.settings), wanted),
        "hour": answers["hour"],
        "minute": int(answers.get("minute", 0)),
        "days": answers["days"],
        "pay": answers["pay"],
        "area": site.name(turn.language) if site else "",
        "recorded": bool(answers.get("recording")),
    }


def ask_review(turn: Turn, retry: str) -> None:
    missing = next((key for key in REQUIRED if key not in turn.call.answers), None)
    if missing is not None:  # cannot happen through the menu; never read back half a request
        step = "area" if missing == "site" else missing
        turn.call.step = step
        {**CHOICE_STEPS, **STEPS}[step].ask(turn, "")
        return
    gather = turn.gather("review", retry)
    turn.say("job_review", gather, **readback(turn))
    turn.say("review_keys", gather)


def answer_review(turn: Turn, digits: str) -> str:
    if digits == "1":
        return _confirm(turn)
    if digits == "2":
        return "change"
    if digits == "9":
        return "review"
    return INVALID if digits else TIMEOUT


def _confirm(turn: Turn) -> str:
    call = turn.call
    step = _passed(turn)
    if step is not None:  # asked again with the reason, then straight back to the read-back
        turn.keep(_changing=True)
        call.step, call.retries = step, 0
        STEPS[step].ask(turn, PAST)
        return DONE
    if not services.can_text(call, turn.settings):
        return to_agent(
            turn,
            "job request from a number we cannot text or call back",
            Summary.of("job_request_cannot_text"),
        )
    employer = services.employer_for(turn.session, call.phone)
    if employer is not None and employer.status == EmployerStatus.BLOCKED:
        return to_agent(turn, "job request from a blocked employer", Summary.of("job_request_blocked_caller"))
    try:
        job = services.post_job(turn.session, turn.settings, call)
    except JobRequestError as exc:
        log.warning("call %s: job request refused: %s", call.call_sid, exc)
        return to_agent(turn, f"job request refused: {exc}", Summary.of("job_request_refused"))
    call.step = "done"
    # At night the caller hears when the offers will go (or that an agent will phone workers).
    notice = in_time.posting_notice(turn.settings, job, utcnow())
    turn.say("job_done", code=job.code, held=job.status == JobStatus.HELD, **notice)
    turn.response.hangup()
    return DONE


def ask_change(turn: Turn, retry: str) -> None:
    turn.say("change_menu", turn.gather("change", retry))


def answer_change(turn: Turn, digits: str) -> str:
    if digits in CHANGE_KEYS:
        turn.keep(_changing=True)
        return CHANGE_KEYS[digits]
    if digits == "9":
        return "review"
    return INVALID if digits else TIMEOUT


STEPS = {
    "headcount": entry_step("headcount", 1, 99, "headcount"),
    "date": Step(ask_date, answer_date),
    "hour": Step(ask_hour, answer_hour),
    "days": entry_step("days", 1, MAX_DAYS, "days"),
    "pay": entry_step("pay", MIN_PAY, MAX_PAY, "pay"),
    "describe": Step(ask_describe, answer_describe),
    "review": Step(ask_review, answer_review),
    "change": Step(ask_change, answer_change),
}
