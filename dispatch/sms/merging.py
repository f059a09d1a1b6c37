"""Held offers merged into one text: when a per-number frequency limit (frequency.py) holds several job
offers back from one worker, the first of them allowed to go carries the others too, as one text listing
them (template offer_merged: code, trade, start and pay of each), instead of each waiting for a place
of its own (a day apart at worst, past most of their jobs' starts). So do offers due at the same moment
(quiet hours held them overnight: they all come due at their end): one place spent instead of several.
Only where a limit applies (frequency.limits_for: the carrier, Twilio to mainland China); elsewhere
each offer goes as its own text, as it always did.

What merges: offers only (kinds `offer` and `offer.reopened`), still open, of the same worker and
language, not past their deadline. An offer is answered by its code (`1 <code>`, `2 <code>`), which
works whatever text carried it, and a bare `1` from a worker with several open offers is asked which
one (matching.replies), so the replies work as before; and an offer is what loses most by waiting (its
job starts). Every other text says one thing once (a confirmation, a reply, a reminder, a follow-up
question answered by its own bare digits): listed together they would change what a bare answer means,
and there are few of them a day, so they wait for their places (frequency.py) as before.

Each carried message is left `merged`, with Message.merged_into_id naming the text that carried it;
its Offer still points at it. The merged text goes in the place of the first one, at once (the send job
goes on with it), and is not sent after the earliest deadline it carries.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dispatch.i18n import render_sms
from dispatch.models import Direction, Message, MessageStatus, Offer
from dispatch.models.jobs import OPEN_OFFER_STATUSES
from dispatch.settings import Settings
from dispatch.sms.frequency import limits_for
from dispatch.sms.gateway import mask_phone
from dispatch.sms.segments import count_segments
from dispatch.sms.services import carrier_template

log = logging.getLogger(__name__)
MERGEABLE = frozenset({"offer", "offer.reopened"})
TEMPLATE = "offer_merged"
KIND = "offer.merged"
MAX_MERGED = 3  # offers in one text at most (fewer when their names or places leave no room)
MAX_SEGMENTS = {"zh": 2, "en": 1}  # as every other text (tests/sms/test_templates.py)


def merge_held(
    session: Session, settings: Settings, message: Message, provider: str, now: datetime
) -> Message | None:
    """`message`, an offer allowed to go now, and the other offers waiting for its number (held back by
    a limit, or due now: those quiet hours held overnight): the text that carries them all, written
    (pending) in place of them; None when there is nothing to merge, or no limit to spare places under."""
    if message.kind not in MERGEABLE or message.status != MessageStatus.PENDING:
        return None
    if not limits_for(settings, provider, message.phone):
        return None  # texts cost no places here: each offer goes as its own, as it always did
    held = list(
        session.scalars(
            select(Message)
            .where(
                Message.direction == Direction.OUTBOUND,
                Message.phone == message.phone,
                Message.id != message.id,
                Message.status == MessageStatus.PENDING,
                or_(Message.frequency_delays > 0, Message.send_after.is_(None), Message.send_after <= now),
                Message.kind.in_(MERGEABLE),
                Message.language == message.language,
                or_(Message.not_after.is_(None), Message.not_after > now),
            )
            .order_by(Message.id)
            .limit(MAX_MERGED * 2)
            # One locked by its own send job is going now: skipped (waiting for it while this job
            # holds the number's Contact lock, which that job wants next, would deadlock).
            .with_for_update(skip_locked=True)
        )
    )
    if not held:
        return None
    carried = [(one, offer) for one in [message, *held] if (offer := _open_offer(session, one)) is not None]
    if not carried or carried[0][0] is not message:
        return None  # this text's own offer closed meanwhile: it goes (or not) as it always did
    carried = _fitting(settings, message.language, carried[:MAX_MERGED], now)
    if len(carried) < 2:
        return None
    merged = _write(session, settings, message, carried, now)
    for one, _ in carried:
        one.status = MessageStatus.MERGED
        one.merged_into_id = merged.id
    log.warning(
        "SMS %s to %s merges %d held offers (%s)",
        merged.id,
        mask_phone(message.phone),
        len(carried),
        ", ".join(str(one.id) for one, _ in carried),
    )
    return merged


def _open_offer(session: Session, message: Message) -> Offer | None:
    offer = session.scalar(select(Offer).where(Offer.message_id == message.id))
    return offer if offer is not None and offer.status in OPEN_OFFER_STATUSES else None


def _context(settings: Settings, language: str, offers: list[Offer], now: datetime) -> dict[str, Any]:
    from dispatch.matching.notices import job_context  # matching builds on SMS

    signature = settings.SMS_SIGNATURE_EN if language == "en" else settings.SMS_SIGNATURE_ZH
    return {"sig": signature, "offers": [job_context(offer.job, language, settings, now) for offer in offers]}


def _fitting(
    settings: Settings, language: str, carried: list[tuple[Message, Offer]], now: datetime
) -> list[tuple[Message, Offer]]:
    """As many of them as the text has room for (the others stay held for the next place)."""
    budget = MAX_SEGMENTS["en" if language == "en" else "zh"]
    while len(carried) >= 2:
        context = _context(settings, language, [offer for _, offer in carried], now)
        if count_segments(render_sms(TEMPLATE, language, **context)).segments <= budget:
            return carried
        carried = carried[:-1]
    return carried


def _write(
    session: Session, settings: Settings, first: Message, carried: list[tuple[Message, Offer]], now: datetime
) -> Message:
    language = first.language
    context = _context(settings, language, [offer for _, offer in carried], now)
    body = render_sms(TEMPLATE, language, **context)
    carrier = carrier_template(settings, TEMPLATE, language, context)
    deadlines = [one.not_after for one, _ in carried if one.not_after is not None]
    merged = Message(
        direction=Direction.OUTBOUND,
        phone=first.phone,
        body=body,
        status=MessageStatus.PENDING,
        segments=count_segments(body).segments,
        kind=KIND,
        template=TEMPLATE,
        template_params=carrier[1] if carrier is not None else None,
        carrier_text=carrier[0] if carrier is not None else None,
        language=language,
        urgent=any(one.urgent for one, _ in carried),
        not_after=min(deadlines) if deadlines else None,
        worker_id=first.worker_id,
        provider=first.provider,
        created_at=now,
    )
    session.add(merged)
    session.flush()
    return merged
