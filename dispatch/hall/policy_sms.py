"""`政策` by SMS: the menu of policy topics (a digit then picks one, while the menu is the number's open
question), or a topic at once with `政策 2`. Router handlers (dispatch/inbound/routes.py)."""

from __future__ import annotations

from datetime import timedelta

from dispatch.hall import policy
from dispatch.inbound import keywords
from dispatch.inbound.context import Inbound
from dispatch.inbound.questions import Question
from dispatch.models import PolicyTopic, QuestionKind
from dispatch.sms.services import reply

# A digit is read as a topic's number this long after the menu went (then it is whatever it was before).
MENU_OPEN = timedelta(minutes=30)


def ask_policy(inbound: Inbound) -> None:
    """`政策`: the menu; `政策 2`: topic 2 (the menu again when no live topic has that number)."""
    position = keywords.policy_asked(inbound.command.text) or 0
    topic = policy.topic_at(inbound.session, position) if position else None
    if topic is None:
        send_menu(inbound)
    else:
        send_topic(inbound, topic)


def topic_picked(inbound: Inbound) -> None:
    """A bare digit while the menu is the open question: that topic, or the menu again."""
    position = keywords.menu_digit(inbound.command.text)
    topic = policy.topic_at(inbound.session, position) if position else None
    if topic is None:
        send_menu(inbound)
    else:
        send_topic(inbound, topic)


def send_menu(inbound: Inbound) -> None:
    language = inbound.contact.language
    topics = policy.live_topics(inbound.session)
    asks = None
    if topics:
        asks = Question(QuestionKind.POLICY, None, inbound.now, inbound.now + MENU_OPEN)
    entries = policy.menu(topics, language)
    reply(
        inbound.session,
        inbound.settings,
        inbound.message,
        "policy_menu",
        "policy.menu",
        topics=entries,
        asks=asks,
    )
    policy.count_ask(inbound.session, None, "sms", language)


def send_topic(inbound: Inbound, topic: PolicyTopic) -> None:
    language = inbound.contact.language
    context = {"title": topic.title(language), "text": topic.body(language)}
    reply(inbound.session, inbound.settings, inbound.message, "policy_topic", "policy.topic", **context)
    policy.count_ask(inbound.session, topic, "sms", language)
