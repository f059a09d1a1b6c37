"""Policy help by phone (key 6 in the main menu and in the worker line, as the SMS `政策`): the topics
read as a menu, a digit reads the topic's text aloud, 9 the menu again, 0 back to the menu the caller
came from. The texts are the same the SMS sends (supervisors keep them in the console)."""

from __future__ import annotations

import logging

from dispatch.hall import policy
from dispatch.ivr.offers import LINE_FLOW
from dispatch.ivr.turn import INVALID, TIMEOUT, Step, Turn
from dispatch.models import CallOutcome

log = logging.getLogger(__name__)
KEY = "6"  # in the main menu and in the worker line
STEP = "policy"
HEARD = "_policy_heard"  # the call's answers: a topic was read, so the short prompt follows it


def enter(turn: Turn) -> str:
    """Key 6: the menu is counted as asked once per visit (repeats and re-prompts are not)."""
    policy.count_ask(turn.session, None, "voice", turn.language)
    turn.drop(HEARD)
    return STEP


def ask(turn: Turn, retry: str) -> None:
    gather = turn.gather(STEP, retry)
    if turn.call.answers.get(HEARD):
        turn.say("policy_more", gather)
        return
    topics = policy.menu(policy.live_topics(turn.session), turn.language)
    turn.say("policy_menu", gather, topics=topics)


def answer(turn: Turn, digits: str) -> str:
    if digits == "0":
        turn.drop(HEARD)
        return "worker_menu" if turn.call.flow == LINE_FLOW else "menu"
    if digits == "9":
        turn.drop(HEARD)
        return STEP
    if digits == "*":
        turn.call.language = "en" if turn.call.language == "zh" else "zh"
        turn.drop(HEARD)
        return STEP
    topic = policy.topic_at(turn.session, int(digits)) if digits.isascii() and digits.isdigit() else None
    if topic is None:
        return INVALID if digits else TIMEOUT
    turn.say("policy_text", title=topic.title(turn.language), text=topic.body(turn.language))
    policy.count_ask(turn.session, topic, "voice", turn.language)
    turn.keep(**{HEARD: True})
    if turn.call.outcome is None:  # heard what they called for: a hang-up now needs no call-back
        turn.call.outcome = CallOutcome.POLICY
    log.info("call %s: policy topic %s read", turn.call.call_sid, topic.position)
    return STEP


STEPS = {STEP: Step(ask, answer)}
