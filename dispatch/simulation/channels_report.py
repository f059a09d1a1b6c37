"""The simulated day by channel (issue 16): which way each yes came (an SMS reply, the market's offer
call, the worker line, the call back after a worker rang once), how long after the offer it came,
how often offers to voice-preferring workers were taken against offers to the others, and what the
calls did. Measured from the database the day left (accepted offers, the calls' rows) and the
simulation's own record of its voice workers (voice.py); the rows of the table (output.py).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.ivr import worker_line
from dispatch.matching.services import Outcome
from dispatch.models import Call, Offer, OfferStatus, Worker
from dispatch.simulation.market import Market
from dispatch.simulation.report import percentile
from dispatch.simulation.voice import COUNTS, VoiceRecord
from dispatch.voice import offer_calls

CHANNELS = ("sms", "offer_call", "worker_line", "ring_back")
CHANNEL_LABELS = {
    "sms": "SMS",
    "offer_call": "offer call",
    "worker_line": "worker line",
    "ring_back": "ring-back",
}
# Workers by how offers reach them: SMS only, voice with a mobile (SMS and a call), a landline.
KINDS = ("sms", "voice", "landline")
KIND_LABELS = {"sms": "SMS workers", "voice": "voice, mobile", "landline": "voice, landline"}


def measure(session: Session, market: Market, record: VoiceRecord) -> dict[str, Any]:
    """The by-channel figures, flat (the report's keys)."""
    kinds = _kinds(session, market)
    offers = list(session.scalars(select(Offer).order_by(Offer.id)))
    taken_by = _taken_by_call(session, record)
    filled: Counter[str] = Counter()
    minutes: dict[str, list[float]] = {channel: [] for channel in CHANNELS}
    for offer in offers:
        if offer.status != OfferStatus.ACCEPTED:
            continue
        channel = taken_by.get(offer.id, "sms")
        filled[channel] += 1
        if offer.sent_at is not None and offer.responded_at is not None:
            minutes[channel].append((offer.responded_at - offer.sent_at).total_seconds() / 60)
    made = Counter(kinds.get(offer.worker_id, "sms") for offer in offers)
    accepted = Counter(
        kinds.get(offer.worker_id, "sms") for offer in offers if offer.status == OfferStatus.ACCEPTED
    )
    report: dict[str, Any] = {
        "voice_workers": sum(spec.prefers_voice for spec in market.workers),
        "voice_landline_workers": sum(spec.landline for spec in market.workers),
    }
    for channel in CHANNELS:
        median = percentile(minutes[channel], 0.5)
        report[f"filled_by_{channel}"] = filled.get(channel, 0)
        report[f"yes_after_offer_median_min_{channel}"] = None if median is None else round(median, 1)
    for kind in KINDS:
        report[f"offers_to_{kind}_workers"] = made.get(kind, 0)
        report[f"offers_taken_{kind}_workers"] = accepted.get(kind, 0)
        share = accepted.get(kind, 0) / made[kind] if made.get(kind) else None
        report[f"offer_take_rate_{kind}_workers"] = None if share is None else round(share, 3)
    report.update({f"calls_{name}": record.counts.get(name, 0) for name in COUNTS})
    return report


def _kinds(session: Session, market: Market) -> dict[int, str]:
    """Worker id -> how offers reach them (KINDS), for the market's voice workers; the rest are SMS."""
    voice = {
        spec.phone: "landline" if spec.landline else "voice" for spec in market.workers if spec.prefers_voice
    }
    rows = session.execute(select(Worker.id, Worker.phone).where(Worker.phone.in_(voice)))
    return {worker_id: voice[phone] for worker_id, phone in rows}


def _taken_by_call(session: Session, record: VoiceRecord) -> dict[int, str]:
    """Offer id -> the call whose keys took it (an offer call, a call back, the worker line)."""
    query = select(Call.call_sid, Call.flow, Call.answers).where(
        Call.flow.in_((offer_calls.FLOW, worker_line.FLOW))
    )
    taken: dict[int, str] = {}
    for sid, flow, answers in session.execute(query):
        if "taken" not in answers or answers.get("outcome") != Outcome.PLACED.value:
            continue
        if flow == worker_line.FLOW:
            channel = "worker_line"
        else:
            channel = "ring_back" if sid in record.ring_back_sids else "offer_call"
        taken[int(answers["taken"])] = channel
    return taken


# (report key, label, format) for output.py's table; None as a key starts a section.
ROWS: tuple[tuple[str | None, str, str], ...] = (
    (None, "by channel (issue 16)", ""),
    ("voice_workers", "  workers who prefer voice", "{}"),
    ("voice_landline_workers", "    of them on a landline (no SMS)", "{}"),
    *((f"filled_by_{c}", f"  places taken by {CHANNEL_LABELS[c]}", "{}") for c in CHANNELS),
    *(
        (f"yes_after_offer_median_min_{c}", f"  median min to yes: {CHANNEL_LABELS[c]}", "{:.1f}")
        for c in CHANNELS
    ),
    *((f"offers_to_{k}_workers", f"  offers to {KIND_LABELS[k]}", "{}") for k in KINDS),
    *((f"offer_take_rate_{k}_workers", f"    taken: {KIND_LABELS[k]}", "{:.1%}") for k in KINDS),
    ("calls_offer_calls_placed", "  offer calls placed", "{}"),
    ("calls_offer_calls_answered", "    picked up", "{}"),
    ("calls_offer_calls_missed", "    rang out (no-answer, any call)", "{}"),
    ("calls_call_yes_keys", "    1 pressed (take)", "{}"),
    ("calls_call_no_keys", "    2 pressed (decline)", "{}"),
    ("calls_worker_line_calls", "  worker line calls", "{}"),
    ("calls_worker_line_calls_not_worker_menu", "    heard another menu", "{}"),
    ("calls_worker_line_calls_no_offers", "    no offers to read", "{}"),
    ("calls_worker_line_yes_keys", "    1 pressed (take)", "{}"),
    ("calls_rang_once", "  rang once and hung up", "{}"),
    ("calls_rang_once_called_back", "    a call back promised", "{}"),
    ("calls_ring_back_calls_placed", "  calls back placed", "{}"),
    ("calls_ring_back_calls_answered", "    picked up", "{}"),
    ("calls_other_calls_placed", "  other calls placed (not rung)", "{}"),
)
