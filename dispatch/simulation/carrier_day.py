"""A simulated day on the domestic carrier (`dispatch simulate --transport carrier`): the service sends
through the simulator's carrier (dispatch/sim/carrier.py: SIM_CARRIER, each text an approved template
and its variables), the people's texts go in as the carrier pushes replies (上行, /sms/aliyun/.../uplink),
the carrier's delivery reports are pushed after every burst of sends (.../report), and the per-number
frequency limits hold texts back, or merge held offers into one text (dispatch/sms/merging.py).

The report adds what the carrier did: the texts it took, refused and reported delivered, the texts a
limit delayed (then sent, or past their deadline) and the offers merged, and two more invariants: no
message taken by the carrier twice, and no merged offer sent on its own as well.
"""

from __future__ import annotations

import itertools
from collections import Counter

from flask import Flask
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.models import Direction, Message, MessageStatus
from dispatch.runtime import Runtime
from dispatch.settings import Settings
from dispatch.sim import carrier
from dispatch.simulation.phone import Phones
from dispatch.sms import merging
from dispatch.sms.gateway import SendResult, Templated
from dispatch.sms.services import TOO_LATE

CONTENT_REFUSED = carrier.CONTENT_REFUSED


class CountingCarrier(carrier.SimulatedCarrier):
    """The simulated carrier, counting what it took by OutId (our message id): nothing twice."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.taken: Counter[int] = Counter()

    def send_sms(
        self,
        to: str,
        body: str,
        status_callback: str | None = None,
        templated: Templated | None = None,
    ) -> SendResult:
        result = super().send_sms(to, body, status_callback, templated)
        if templated is not None:
            self.taken[templated.message_id] += 1
        return result


class CarrierPhones(Phones):
    """The people's phones on the carrier: a mainland mobile's text is an uplink push (its MessageSid is
    ALI + the push's sequence id, which the lost-inbound invariant looks for); the carrier's delivery
    reports are pushed as the phones get the texts (`deliver`, after every burst)."""

    def __init__(self, app: Flask, runtime: Runtime) -> None:
        super().__init__(app, runtime.settings.TWILIO_AUTH_TOKEN)
        self.app = app
        self.runtime = runtime
        self.transport = CountingCarrier(runtime.settings)
        runtime.transport = self.transport
        self._sequence = itertools.count(1)

    def text(self, phone: str, body: str) -> None:
        if carrier.mainland(phone) is None:
            super().text(phone, body)  # not the carrier's: the Twilio way, as routing would send it
            return
        sequence = next(self._sequence)
        self.sms_sids.append(f"ALI{sequence}")
        settings = self.runtime.settings
        item = carrier.uplink_item(phone, body, settings.ALIYUN_SMS_SIGN_NAME, sequence, utcnow())
        status = carrier.push(self.app, settings, carrier.UPLINK, [item])
        if status != 200:
            self.errors.append(f"{status} uplink")

    def deliver(self) -> None:
        """Push the delivery reports of every text the carrier took since the last time."""
        while True:
            now = utcnow()
            with self.runtime.db.transaction() as session:
                items = [carrier.report_item(message, now) for message in carrier.reports_due(session)]
            if not items:
                return
            status = carrier.push(self.app, self.runtime.settings, carrier.REPORT, items)
            if status != 200:
                self.errors.append(f"{status} report")
                return


def measure(session: Session, phones: CarrierPhones) -> dict:
    """What the carrier did over the day, and its two invariants."""

    def count(*where: ColumnElement[bool]) -> int:
        query = select(func.count(Message.id)).where(Message.direction == Direction.OUTBOUND, *where)
        return session.scalar(query) or 0

    delayed = Message.frequency_delays > 0
    sent = Message.sent_at.is_not(None)
    merged = Message.status == MessageStatus.MERGED
    refused = (Message.status == MessageStatus.FAILED, Message.error_code == CONTENT_REFUSED)
    return {
        "transport": "carrier",
        "carrier_texts_taken": count(Message.provider == carrier.SimulatedCarrier.name, sent),
        "carrier_texts_delivered": count(Message.status == MessageStatus.DELIVERED),
        "carrier_texts_refused": count(*refused),
        "texts_delayed_by_limits": count(delayed),
        "delayed_then_sent": count(delayed, sent),
        "delayed_past_deadline": count(delayed, Message.error_message == TOO_LATE),
        "offers_merged": count(merged),
        "merged_texts_sent": count(Message.kind == merging.KIND, sent),
        "carrier_invariants": {
            "carrier_sent_twice": sum(n - 1 for n in phones.transport.taken.values() if n > 1),
            "merged_also_sent": count(merged, Message.provider_sid.is_not(None)),
        },
    }


# (report key, label, format) for output.py's table, after the rest on a carrier day.
ROWS: tuple[tuple[str | None, str, str], ...] = (
    (None, "the carrier (--transport carrier)", ""),
    ("carrier_texts_taken", "  texts the carrier took", "{}"),
    ("carrier_texts_delivered", "    reported delivered", "{}"),
    ("carrier_texts_refused", "  refused (no template/variable)", "{}"),
    ("texts_delayed_by_limits", "  texts delayed by a limit", "{}"),
    ("delayed_then_sent", "    then sent", "{}"),
    ("delayed_past_deadline", "    past their deadline, not sent", "{}"),
    ("offers_merged", "  offers merged into one text", "{}"),
    ("merged_texts_sent", "    merged texts sent", "{}"),
    ("invariants.carrier_sent_twice", "  taken twice (must be 0)", "{}"),
    ("invariants.merged_also_sent", "  merged, sent alone too (must be 0)", "{}"),
)
