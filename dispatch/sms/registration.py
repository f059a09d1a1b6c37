"""Registering a worker by SMS: a short dialogue (trade, area, pay, name, confirm) or a one-shot form.

The dialogue's state is a `Conversation` row, so any process can take the next reply and a restart
loses nothing. Its answers (`trade`, `area`, `pay`, `name`, `retries`) are this module's own: other
channels open the confirmation through `await_confirmation`, and the confirmed answers are registered
through dispatch.workers.services like any other channel's.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.catalogue import (
    find_site,
    find_trade,
    towns_in_number_order,
    trade_short_name,
    trades_in_menu_order,
)
from dispatch.clock import utcnow
from dispatch.matching import forwarding_offers
from dispatch.models import (
    Contact,
    Conversation,
    Message,
    RegisteredVia,
    Site,
    TicketKind,
    Trade,
    Worker,
)
from dispatch.settings import Settings
from dispatch.sms.normalize import chinese_numeral_to_int
from dispatch.sms.services import reply
from dispatch.tickets.services import open_ticket
from dispatch.tickets.summaries import Summary
from dispatch.workers import limits
from dispatch.workers import services as workers
from dispatch.workers.services import Skill, WorkerDetails

FLOW = "registration"
STEPS = ("trade", "area", "pay", "name", "confirm")
# The limits live in dispatch.workers.limits; these names stay for the modules that import them here.
MIN_PAY, MAX_PAY = limits.MIN_DAILY_PAY, limits.MAX_DAILY_PAY
MAX_NAME = limits.NAME_MAX_LENGTH
MAX_TRADES = limits.MAX_TRADES
MAX_RETRIES = 2  # a third answer the dialogue cannot read goes to an agent
YES_WORDS = frozenset({"1", "是", "确认", "对", "好", "y", "yes", "ok"})
NO_WORDS = frozenset({"2", "否", "不", "不对", "重填", "n", "no"})
# `300`, `300元`, `三百块钱`, `300元/天` (the slash is gone by now: `300元天`), `三百一天`.
_PAY = re.compile(r"^(?P<amount>.+?)(元|块钱|块|yuan|rmb)?(一天|每天|天|aday|perday|day)?$")


def active_conversation(session: Session, settings: Settings, phone: str) -> Conversation | None:
    """The phone's dialogue in progress; one left idle past the TTL is dropped."""
    # Locked: two quick replies are answered one after the other, each at its own step.
    query = select(Conversation).where(Conversation.phone == phone).with_for_update()
    conversation = session.scalar(query)
    if conversation is None:
        return None
    if conversation.updated_at < utcnow() - timedelta(hours=settings.CONVERSATION_TTL_HOURS):
        session.delete(conversation)
        session.flush()
        return None
    return conversation


def drop_conversation(session: Session, phone: str) -> None:
    """End the phone's dialogue, if one is in progress."""
    conversation = session.scalar(select(Conversation).where(Conversation.phone == phone))
    if conversation is not None:
        session.delete(conversation)
        session.flush()


def start(session: Session, settings: Settings, inbound: Message, args: list[str]) -> None:
    """`注册` alone starts the dialogue; `注册 水电工 太西 300 张三` fills what it can in one go."""
    conversation = session.scalar(select(Conversation).where(Conversation.phone == inbound.phone))
    if conversation is None:
        conversation = Conversation(phone=inbound.phone, flow=FLOW, step="trade", answers={})
        session.add(conversation)
    conversation.flow, conversation.answers = FLOW, _one_shot_answers(session, args)
    conversation.step = _next_step(conversation.answers)
    session.flush()
    _ask(session, settings, inbound, conversation)


def answer(
    session: Session, settings: Settings, inbound: Message, conversation: Conversation, text: str
) -> None:
    """Take the reply to the dialogue's current question."""
    answers = dict(conversation.answers)
    if conversation.step == "confirm":
        key = text.casefold()
        if key in YES_WORDS:
            # A friend's forward to this number (`转 123 …`) takes this lock before it looks for the
            # worker: it finds this one, or its invitation is committed before we look for invitations.
            forwarding_offers.lock_number(session, inbound.phone)
            worker = save_worker(session, inbound.phone, answers)
            inbound.worker_id = worker.id
            session.delete(conversation)
            session.flush()
            summary = _summary(session, inbound.phone, answers, _language(session, inbound.phone))
            reply(session, settings, inbound, "reg_done", "registration.done", **summary)
            # A friend passed them a job (`转 123 …`) and they registered as invited: the job follows.
            forwarding_offers.offer_invited(session, settings, worker, utcnow())
            return
        if key in NO_WORDS:
            conversation.answers, conversation.step = {}, "trade"
            session.flush()
            _ask(session, settings, inbound, conversation)
            return
        _retry(session, settings, inbound, conversation, answers)
        return
    value = _read(session, conversation.step, text)
    if value is None:
        _retry(session, settings, inbound, conversation, answers)
        return
    answers[conversation.step] = value
    answers.pop("retries", None)
    conversation.answers = answers
    conversation.step = _next_step(answers)
    session.flush()
    _ask(session, settings, inbound, conversation)


def _read(session: Session, step: str, text: str) -> int | str | list[int] | None:
    tokens = text.split()
    if step == "trade":
        trades = [find_trade(session, token) for token in tokens] or [None]
        if any(trade is None for trade in trades):
            whole = find_trade(session, text)
            return [whole.id] if whole else None
        chosen = list(dict.fromkeys(trade.id for trade in trades if trade))
        return chosen if limits.trade_count_fits(len(chosen)) else None
    if step == "area":
        site = find_site(session, text.replace(" ", ""))
        return site.id if site else None
    if step == "pay":
        return _pay(text.replace(" ", ""))
    if step == "name":
        name = text.strip()
        # Digits alone are a step answered twice (`1`), not a name.
        return name if limits.name_fits(name) and not name.isdigit() else None
    return None


def _pay(token: str) -> int | None:
    match = _PAY.match(token.casefold())
    if not match:
        return None
    text = match.group("amount")
    # Chinese numerals inside a token (`三百元`) are not turned into digits by the parser.
    if text.isascii() and text.isdigit():
        # int() refuses 4,301 digits; a wage has no more digits than the highest one.
        amount = int(text) if len(text) <= len(str(limits.MAX_DAILY_PAY)) else None
    else:
        amount = chinese_numeral_to_int(text)
    return amount if amount is not None and limits.pay_fits(amount) else None


def _one_shot_answers(session: Session, args: list[str]) -> dict:
    """Sort the words of `注册 水电工 太西 300 张三` into trade, area, pay and name, in any order."""
    answers: dict = {}
    names = []
    for token in args:
        trade = None if token.isdigit() else find_trade(session, token)
        if trade is not None:
            trades = answers.setdefault("trade", [])
            if trade.id not in trades and len(trades) < limits.MAX_TRADES:
                trades.append(trade.id)
            continue
        site = find_site(session, token, by_number=False)
        pay = _pay(token)
        if site is not None and "area" not in answers:
            answers["area"] = site.id
        elif pay is not None and "pay" not in answers:
            answers["pay"] = pay
        elif not token.isdigit():
            names.append(token)
    if names and limits.name_fits(" ".join(names)):
        answers["name"] = " ".join(names)
    return answers


def _next_step(answers: dict) -> str:
    return next((step for step in STEPS[:-1] if step not in answers), "confirm")


def _retry(
    session: Session, settings: Settings, inbound: Message, conversation: Conversation, answers: dict
) -> None:
    retries = int(answers.get("retries", 0)) + 1
    if retries > MAX_RETRIES:
        open_ticket(
            session,
            TicketKind.UNPARSED_SMS,
            message=inbound,
            summary=Summary.of("registration_stuck", step=conversation.step),
            text=f"registration stuck at {conversation.step}",
        )
        session.delete(conversation)
        session.flush()
        reply(session, settings, inbound, "reg_to_agent", "registration.to_agent")
        return
    conversation.answers = {**answers, "retries": retries}
    session.flush()
    _ask(session, settings, inbound, conversation, retry=True)


def _ask(
    session: Session, settings: Settings, inbound: Message, conversation: Conversation, retry: bool = False
) -> None:
    language = _language(session, inbound.phone)
    step = conversation.step
    context: dict = {"retry": retry}
    if step == "trade":
        context["trades"] = [
            (trade.ivr_digit, trade_short_name(trade, language)) for trade in trades_in_menu_order(session)
        ]
    if step == "area":
        context["towns"] = [
            (town.number, town_short_name(town, language)) for town in towns_in_number_order(session)
        ]
    if step == "confirm":
        context.update(_summary(session, inbound.phone, conversation.answers, language))
    reply(session, settings, inbound, f"reg_ask_{step}", f"registration.ask_{step}", **context)


def town_short_name(site: Site, language: str) -> str:
    """What people call a town in a list: 太西 rather than 太行西街街道."""
    if language == "en":
        return site.name_en
    return site.aliases[0] if site.aliases else site.name_zh


def _language(session: Session, phone: str) -> str:
    contact = session.scalar(select(Contact).where(Contact.phone == phone))
    return contact.language if contact else "zh"


def _summary(session: Session, phone: str, answers: dict, language: str) -> dict:
    trades = [session.get(Trade, trade_id) for trade_id in answers.get("trade", [])]
    site = session.get(Site, answers["area"]) if "area" in answers else None
    name = answers.get("name") or session.scalar(select(Worker.name).where(Worker.phone == phone))
    return {
        "trade_names": [trade_short_name(trade, language) for trade in trades if trade],
        "area": site.name(language) if site else "",
        "pay": answers.get("pay", 0),
        "name": name or "",
    }


def await_confirmation(session: Session, details: WorkerDetails) -> None:
    """Open the dialogue at its confirm step holding `details` (taken down by another channel): the
    phone's `1` registers them with consent, `2` starts afresh. A dialogue already running gives way."""
    conversation = session.scalar(select(Conversation).where(Conversation.phone == details.phone))
    if conversation is None:
        conversation = Conversation(phone=details.phone)
        session.add(conversation)
    answers: dict = {
        "trade": [skill.trade_id for skill in details.trades],
        "area": details.home_site_id,
        "pay": details.min_daily_pay,
    }
    if details.name is not None:
        answers["name"] = details.name
    conversation.flow, conversation.step, conversation.answers = FLOW, "confirm", answers
    conversation.updated_at = utcnow()  # the dialogue's TTL counts from the SMS the channel sends now
    session.flush()


def save_worker(session: Session, phone: str, answers: dict) -> Worker:
    """Register the confirmed answers; confirming the summary is the worker's consent to get offers."""
    return workers.register(session, _details(phone, answers), RegisteredVia.SMS, consent=True)


def _details(phone: str, answers: dict) -> WorkerDetails:
    # No name (or the empty one a phone registration held before): the worker keeps theirs, which
    # an agent typed from the recording.
    return WorkerDetails(
        phone=phone,
        trades=tuple(Skill(trade_id) for trade_id in answers["trade"]),
        home_site_id=answers["area"],
        min_daily_pay=answers["pay"],
        name=answers.get("name") or None,
    )
