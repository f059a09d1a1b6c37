"""Passing an offer to a friend (转给朋友): `转 123 13800138000`, `转给 123 138 0013 8000`, `FWD 123 +86…`.

The article's plumber passes work on when he is busy. A worker holding an open offer names its job code
and a number: a registered worker who fits gets an offer of their own and the forwarder's closes; an
unknown number is invited to register (the offer follows when it does) and the forwarder's closes too;
anything else is refused and the forwarder's offer stays open (they are told why when it is about what
they typed, not about the friend). Where the text goes is decided in `forwarding_target`, the offer or
invitation made in `forwarding_offers`.

The parser has normalised the text already: full-width forms and Chinese numerals are digits, and the
dashes or dots inside a typed number are spaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.jobs.services import find_job_by_code
from dispatch.matching import forwarding_offers, forwarding_target
from dispatch.matching.locking import lock_job, lock_worker
from dispatch.models import OPEN_OFFER_STATUSES, ForwardOutcome, Job, Message, Offer
from dispatch.settings import Settings
from dispatch.sms.parser import Command
from dispatch.sms.services import reply

# The word, then what follows it, glued or not (`转123 138…`). Longest words first: 转给 is not 转 + 给.
_FORWARD = re.compile(r"^(转给|转发|转|fwd)\s*(.*)$")
_NUMBER_PART = re.compile(r"\+?\d+")
_CODE = re.compile(r"\d{3,8}")


@dataclass(frozen=True)
class Forward:
    code: str
    number: str | None  # the number as typed (digits, perhaps a leading +), None when missing


def read_forward(text: str) -> Forward | None:
    """The forward in a normalised text, or None when the text is not one.

    Only digits may follow the word: `转账` or `转 水电工` are left to the other handlers. The job's code
    comes first; a number typed first (`转 13800138000 123`) is understood when the two are the only
    parts. A number typed in groups (`138 0013 8000`, `+86 138…`) is joined again."""
    match = _FORWARD.match(text.casefold())
    if match is None:
        return None
    parts = match.group(2).split()
    if not parts or not all(_NUMBER_PART.fullmatch(part) for part in parts):
        return None
    if len(parts) == 2 and not _CODE.fullmatch(parts[0]) and _CODE.fullmatch(parts[1]):
        parts.reverse()
    code, number = parts[0], "".join(parts[1:])
    if not _CODE.fullmatch(code):
        return None
    return Forward(code, number or None)


def handle_forward(session: Session, settings: Settings, message: Message, command: Command) -> bool:
    """A forward of an open offer; True when the text was one and has been answered.

    `转 300` or `转500 13800138000` is a forward only when 300 is the code of an offer the sender has
    not answered yet: otherwise it may as well be talk of money (转账, a wage) and goes on to the other
    handlers, and so to an agent, rather than being answered with how to forward."""
    forward = read_forward(command.text)
    if forward is None or message.worker_id is None:
        return False
    job = find_job_by_code(session, forward.code)
    offer = _open_offer(session, job, message.worker_id)
    if job is None or offer is None:
        return False
    if forward.number is None:
        _refuse(session, settings, message, "usage", forward.code)
        return True
    now = utcnow()
    # Worker, number, job, then the offer: every answer to an offer locks the worker before the job, and
    # a registration locks the number before the worker it creates and the jobs it is offered.
    forwarder = lock_worker(session, message.worker_id)
    phone, problem = forwarding_target.read_number(forward.number, settings, forwarder)
    if phone is not None and problem is None:
        forwarding_offers.lock_number(session, phone)
    job = lock_job(session, job.id)
    session.refresh(offer)
    if offer.status not in OPEN_OFFER_STATUSES:  # answered, or closed by a wave, while we waited
        _refuse(session, settings, message, "no_offer", forward.code)
        return True
    if not forwarding_offers.taking(job):
        _refuse(session, settings, message, "closed", forward.code)
        return True
    if not forwarding_offers.in_time(settings, job, now):
        # The friend's text would wait for morning, or come too close to the start: the forwarder keeps
        # the offer and may still take it (their answer goes at once).
        _refuse(session, settings, message, "late", forward.code, kept=True)
        return True
    passed = forwarding_target.pass_on(session, settings, message, forwarder, offer, forward.number, now)
    if passed.outcome in forwarding_target.SENT:
        invited = passed.outcome == ForwardOutcome.INVITED
        context: dict[str, Any] = {"code": job.code, "to_phone": passed.to_phone, "invited": invited}
        reply(session, settings, message, "forward_done", "forward.done", **context)
    else:
        context = {"kept": True, "to_phone": passed.to_phone, "limit": passed.limit}
        _refuse(session, settings, message, passed.reason, forward.code, **context)
    return True


def _open_offer(session: Session, job: Job | None, worker_id: int) -> Offer | None:
    if job is None:
        return None
    return session.scalar(
        select(Offer).where(
            Offer.job_id == job.id, Offer.worker_id == worker_id, Offer.status.in_(OPEN_OFFER_STATUSES)
        )
    )


def _refuse(
    session: Session, settings: Settings, message: Message, reason: str, code: str, **context: Any
) -> None:
    """Tell the forwarder why nothing was passed on (a reply: it goes at once)."""
    values: dict[str, Any] = {"kept": False, "to_phone": "", "limit": 0, **context}
    values.update(why=reason, code=code)  # `why`: the template's name for the reason
    reply(session, settings, message, "forward_refused", "forward.refused", **values)
