"""The main menu: 1 post a job, 2 register as a worker, 3 my jobs, 6 policy help, 0 an agent, 9 repeat,
* English."""

from __future__ import annotations

from dispatch.hall import policy_voice
from dispatch.ivr import prompts, services
from dispatch.ivr.agent import to_agent
from dispatch.ivr.turn import DONE, INVALID, TIMEOUT, Step, Turn
from dispatch.models import Employer
from dispatch.tickets.summaries import Summary

# Keys that start a flow, and the flow's first step.
FLOWS = {"1": ("job", "trade"), "2": ("register", "trade"), "3": ("manage", "jobs")}


def greet(turn: Turn) -> None:
    """The first thing a caller hears: the welcome, a known employer's name or last job, the menu. A
    registered worker hears the worker line instead (asked first which, if also an employer)."""
    from dispatch.ivr import worker_line  # the worker line comes back to this menu

    worker = worker_line.worker_for(turn.session, turn.call.phone)
    if worker is not None:
        turn.call.worker_id = worker.id
        if turn.call.employer_id is None:
            worker_line.greet(turn, worker)
        else:
            worker_line.greet_both(turn)
        return
    gather = turn.gather("menu")
    turn.say("welcome", gather)
    employer = turn.session.get(Employer, turn.call.employer_id) if turn.call.employer_id else None
    if employer is not None:
        last = services.last_job(turn.session, employer.id)
        summary = services.job_summary(last, turn.language) if last is not None else None
        if summary is not None and last is not None:
            summary["trade"] = prompts.spoken(last.trade.name(turn.language), turn.language)
        if employer.name or summary:
            turn.say("known_employer", gather, name=employer.name, last=summary)
    turn.say("main_menu", gather)


def ask(turn: Turn, retry: str) -> None:
    turn.say("main_menu", turn.gather("menu", retry))


def answer(turn: Turn, digits: str) -> str:
    call = turn.call
    if digits in FLOWS:
        call.flow, first = FLOWS[digits]
        call.answers = {}
        return first
    if digits == policy_voice.KEY:
        return policy_voice.enter(turn)
    if digits == "0":
        return to_agent(turn, "caller asked for an agent", Summary.of("agent_asked"))
    if digits == "9":
        return "menu"
    if digits == "*":
        call.language = "en" if call.language == "zh" else "zh"
        return "menu"
    return INVALID if digits else TIMEOUT


def back_to_menu(turn: Turn) -> str:
    turn.call.flow = "menu"
    return "menu"


def _ask_done(turn: Turn, retry: str) -> None:
    turn.say("goodbye")
    turn.response.hangup()


def _answer_done(turn: Turn, digits: str) -> str:
    _ask_done(turn, "")
    return DONE


STEPS = {"menu": Step(ask, answer), "done": Step(_ask_done, _answer_done)}
