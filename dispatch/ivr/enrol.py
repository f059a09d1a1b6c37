"""A worker registers by phone: trade and area (the intake's steps), minimum pay, the name spoken and
recorded, a read-back, then an SMS to confirm and a ticket asking an agent to type the name."""

from __future__ import annotations

from dispatch.ivr import services
from dispatch.ivr.agent import to_agent
from dispatch.ivr.choices import ask_trade, spoken_trade
from dispatch.ivr.turn import DONE, INVALID, TIMEOUT, Step, Turn, after, entry_step
from dispatch.ivr.workers import register_worker
from dispatch.models import Site, Trade
from dispatch.tickets.summaries import Summary
from dispatch.workers import limits

NAME_SECONDS = 10
REQUIRED = ("trade", "site", "pay", "name_recording")


def ask_name(turn: Turn, retry: str) -> None:
    if retry:
        turn.say("no_input")
    turn.say("record_name")
    turn.record("name", max_length=NAME_SECONDS, timeout=4)


def answer_name(turn: Turn, digits: str) -> str:
    url = turn.recording_url()
    if not url:
        return TIMEOUT
    turn.keep(name_recording=url)
    return after(turn, "name")


def ask_review(turn: Turn, retry: str) -> None:
    answers = turn.call.answers
    missing = next((key for key in REQUIRED if key not in answers), None)
    if missing is not None:  # cannot happen through the menu; never confirm half a registration
        turn.call.answers, turn.call.step = {}, "trade"
        ask_trade(turn, "")
        return
    trade = turn.session.get(Trade, int(answers["trade"]))
    site = turn.session.get(Site, int(answers["site"]))
    gather = turn.gather("reg_review", retry)
    turn.say(
        "reg_review",
        gather,
        trade=spoken_trade(trade, turn.language) if trade else "",
        area=site.name(turn.language) if site else "",
        pay=answers["pay"],
    )
    turn.say("reg_review_keys", gather)


def answer_review(turn: Turn, digits: str) -> str:
    call = turn.call
    if digits == "1":
        if not services.can_text(call, turn.settings):
            return to_agent(
                turn, "registration from a number we cannot text", Summary.of("registration_cannot_text")
            )
        register_worker(turn.session, turn.settings, call)
        call.step = "done"
        turn.say("reg_done")
        turn.response.hangup()
        return DONE
    if digits == "2":
        call.answers = {}
        return "trade"
    if digits == "9":
        return "reg_review"
    return INVALID if digits else TIMEOUT


STEPS = {
    "min_pay": entry_step("min_pay", limits.MIN_DAILY_PAY, limits.MAX_DAILY_PAY, "pay"),
    "name": Step(ask_name, answer_name),
    "reg_review": Step(ask_review, answer_review),
}
