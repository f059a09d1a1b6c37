"""Per-number frequency limits of the providers, kept before sending: a text over a limit waits for the
moment it may go, instead of being refused (or, at Twilio's China route, held a day for review).

The documented limits, each over any 24 hours (a rolling window, not a calendar day):
- Alibaba Cloud SMS, notifications (短信通知): 50 per number with one signature and one template code
  (help.aliyun.com, 短信发送流控限制). A text's carrier template (Message.carrier_text) names its code.
- Twilio to mainland China: 3 identical texts to a number are rejected, 5 different ones trigger a
  manual review and a 24-hour delay (Twilio, "China SMS Template Whitelisting"): so at most 2 identical
  and 4 in all.
Kept with SMS_TRANSPORT=aliyun or routed (LIMITED_MODES), and by the simulated carrier (SIM_CARRIER on a
first run: dispatch/sim/carrier.py): `twilio` and `outbox` send as they always did.
The counts come from our own rows (what each provider took for the number), so every worker agrees;
the number's Contact row is locked while a send decides, so two workers cannot both take the last place.

A held text keeps its order behind the texts held before it under the same limit (a text with room
under every limit goes at once, whatever waits under another). Its delay is counted
on the message (Message.frequency_delays) and logged with the number masked; a text that would go after
its deadline (an offer after its job's start: Message.not_after) is then suppressed by the usual
deadline check (delivery.hold_or_suppress): an offer not sent in time is not an offer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from dispatch.models import Contact, Direction, Message, MessageStatus
from dispatch.settings import Settings
from dispatch.sms.gateway import mask_phone
from dispatch.sms.routing import mainland_mobile

log = logging.getLogger(__name__)
WINDOW = timedelta(hours=24)
# The provider's clock and ours differ, and it counts from when it took a text: keep clear of the edge.
MARGIN = timedelta(minutes=1)
# Texts held behind one another go at least this far apart, in the order they were queued.
SPACING = timedelta(seconds=1)
# The transports that know about mainland China's carriers keep the limits; SMS_TRANSPORT=twilio sends as
# it always has (a Twilio-only service's texts to China are Twilio's guidance to follow, not ours).
LIMITED_MODES = frozenset({"aliyun", "routed"})


@dataclass(frozen=True)
class Sent:
    at: datetime
    body: str
    carrier_text: str | None


@dataclass(frozen=True)
class Limit:
    count: int
    same: Callable[[Sent, Message], bool]  # which earlier texts count against this one


def _any(sent: Sent, message: Message) -> bool:
    return True


def _same_body(sent: Sent, message: Message) -> bool:
    return sent.body == message.body


def _same_template(sent: Sent, message: Message) -> bool:
    return sent.carrier_text == message.carrier_text


def limits_for(settings: Settings, provider: str, phone: str) -> list[Limit]:
    if settings.SMS_TRANSPORT not in LIMITED_MODES and not settings.sim_carrier:
        return []
    if provider == "aliyun":
        limits = [Limit(settings.SMS_LIMIT_ALIYUN_PER_TEMPLATE, _same_template)]
    elif provider == "twilio" and mainland_mobile(phone):
        limits = [
            Limit(settings.SMS_LIMIT_TWILIO_CN, _any),
            Limit(settings.SMS_LIMIT_TWILIO_CN_IDENTICAL, _same_body),
        ]
    else:
        limits = []
    return [limit for limit in limits if limit.count > 0]


def next_allowed(
    session: Session,
    settings: Settings,
    message: Message,
    provider: str,
    now: datetime,
    in_line_as: int | None = None,
) -> datetime | None:
    """When `message` may go to `provider` without going over a limit; None: now. `in_line_as`: the id of
    the text whose place in line it takes (a merged text takes its first offer's: merging.py)."""
    limits = limits_for(settings, provider, message.phone)
    if not limits:
        return None
    session.scalar(select(Contact.id).where(Contact.phone == message.phone).with_for_update())
    since = now - WINDOW
    mine = (
        Message.direction == Direction.OUTBOUND,
        Message.phone == message.phone,
        Message.provider == provider,
        Message.id != message.id,
    )
    sent_rows = session.execute(
        select(Message.sent_at, Message.send_started_at, Message.body, Message.carrier_text).where(
            *mine,
            or_(
                Message.sent_at > since,
                and_(Message.status == MessageStatus.SENDING, Message.send_started_at > since),
            ),
        )
    ).all()
    sent = [Sent(row.sent_at or row.send_started_at, row.body, row.carrier_text) for row in sent_rows]
    # Texts held by a limit before this one, still waiting: they go first, and take their places.
    held_rows = session.execute(
        select(Message.send_after, Message.body, Message.carrier_text)
        .where(
            *mine,
            Message.id < (in_line_as if in_line_as is not None else message.id),
            Message.status == MessageStatus.PENDING,
            Message.frequency_delays > 0,
            Message.send_after > now,
        )
        .order_by(Message.id)
    ).all()
    held = [Sent(row.send_after, row.body, row.carrier_text) for row in held_rows]
    slot = now
    for limit in limits:
        # The held texts count as sent at their places: they will be in the window then.
        counted = sorted(s.at for s in sent + held if limit.same(s, message))
        if len(counted) < limit.count:
            continue  # room now: a text held under another limit does not hold this one back
        place = counted[-limit.count] + WINDOW + MARGIN
        ahead = [s.at for s in held if limit.same(s, message)]
        after = max(ahead) + SPACING if ahead else place
        slot = max(slot, place, after)
    return slot if slot > now else None


def hold(message: Message, provider: str, until: datetime) -> None:
    """Record the delay on the message (the send job then holds it, or suppresses it past its deadline)."""
    message.send_after = until
    message.provider = provider
    message.frequency_delays += 1
    log.warning(
        "SMS %s (%s) to %s held until %s by %s's per-number limit (held %d times)",
        message.id,
        message.kind,
        mask_phone(message.phone),
        until.isoformat(timespec="seconds"),
        provider,
        message.frequency_delays,
    )
