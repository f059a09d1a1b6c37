"""An offer heard by phone: read with its job (trade, start, days, pay, place, code, deadline), then
1 takes it and 2 declines it exactly as `1 <code>` / `2 <code>` by SMS would (matching.services: the
same first-come rule, the same confirmation SMS with the employer's number). Used by the worker line
(key 1, with 3 for the next offer and * for the menu) and by the market's offer call (9 repeats).

The offers a call may act on are the ids kept in the call's answers (`_offers`, `_at` the one read):
a key always means the offer the caller just heard, whatever changed since.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.i18n import market_zone
from dispatch.ivr.agent import to_agent
from dispatch.ivr.choices import spoken_trade
from dispatch.ivr.turn import DONE, INVALID, TIMEOUT, Step, Turn
from dispatch.matching import notices
from dispatch.matching import services as matching
from dispatch.models import Job, Offer
from dispatch.settings import Settings
from dispatch.tickets.summaries import Summary

log = logging.getLogger(__name__)
LINE_FLOW = "worker"  # the worker line: 3 for the next offer, * for the menu, 0 for an agent


def load(session: Session, offer_id: int) -> Offer | None:
    """The offer as committed now, with its job's trade, site and employer."""
    return session.scalars(matching.offers_with_jobs().where(Offer.id == offer_id)).first()


def job_context(settings: Settings, job: Job, language: str, now: datetime) -> dict[str, Any]:
    """What a voice prompt says of a job: spoken trade, start relative to today, days, pay, place."""
    return {
        "code": job.code or "",
        "trade": spoken_trade(job.trade, language),
        "days": job.days,
        "pay": job.daily_pay,
        "area": job.site.name(language),
        **notices.when(job, settings, now),
    }


def offer_context(settings: Settings, offer: Offer, language: str, now: datetime) -> dict[str, Any]:
    expires = offer.expires_at.astimezone(market_zone(settings)) if offer.expires_at else None
    return {**job_context(settings, offer.job, language, now), "expires": expires}


def keep_offers(turn: Turn, offer_ids: list[int]) -> None:
    turn.keep(_offers=offer_ids, _at=0)


def _current(turn: Turn) -> Offer | None:
    ids = turn.call.answers.get("_offers") or []
    at = int(turn.call.answers.get("_at", 0))
    return load(turn.session, int(ids[at])) if 0 <= at < len(ids) else None


def ask_offer(turn: Turn, retry: str) -> None:
    offer = _current(turn)
    if offer is None:  # cannot happen through the menus: nothing to read, nothing to act on
        _leave(turn)
        return
    ids = turn.call.answers.get("_offers") or []
    gather = turn.gather("offer", retry)
    context = offer_context(turn.settings, offer, turn.language, utcnow())
    turn.say("offer_read", gather, index=int(turn.call.answers.get("_at", 0)) + 1, count=len(ids), **context)
    turn.say("offer_keys", gather, line=turn.call.flow == LINE_FLOW)


def answer_offer(turn: Turn, digits: str) -> str:
    line = turn.call.flow == LINE_FLOW
    offer = _current(turn)
    if offer is None:
        return _leave(turn)
    if digits == "1":
        # accept locks the worker, reads the offer again as committed and claims a place if one is
        # left; its texts go by SMS (inbound None), the confirmation among them.
        outcome = matching.accept(turn.session, turn.settings, offer, None, utcnow())
        log.info("call %s: offer %s taken by keypad: %s", turn.call.call_sid, offer.id, outcome.value)
        turn.keep(taken=offer.id, outcome=outcome.value)
        turn.say("offer_outcome", outcome=outcome.value, code=offer.job.code or "")
        return _leave(turn)
    if digits == "2":
        outcome = matching.decline(turn.session, turn.settings, offer, None, utcnow())
        turn.keep(declined=[*turn.call.answers.get("declined", []), offer.id])
        log.info("call %s: offer %s declined by keypad: %s", turn.call.call_sid, offer.id, outcome.value)
        turn.say("offer_declined")
        return _next(turn) if line else _leave(turn)
    if digits == "3" and line:
        return _next(turn)
    if digits == "9":
        return "offer"
    if digits == "*" and line:
        return "worker_menu"
    if digits == "0" and line:
        return to_agent(turn, "worker asked for an agent about an offer", Summary.of("worker_asked_agent"))
    return INVALID if digits else TIMEOUT


def _next(turn: Turn) -> str:
    at = int(turn.call.answers.get("_at", 0)) + 1
    if at >= len(turn.call.answers.get("_offers") or []):
        turn.say("no_more_offers")
        return _leave(turn)
    turn.keep(_at=at)
    return "offer"


def _leave(turn: Turn) -> str:
    """The worker line goes back to its menu; the market's call says goodbye."""
    if turn.call.flow == LINE_FLOW:
        return "worker_menu"
    turn.say("call_bye")
    turn.response.hangup()
    turn.call.step = "done"
    return DONE


STEPS = {"offer": Step(ask_offer, answer_offer)}
