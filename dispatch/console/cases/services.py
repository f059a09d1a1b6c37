"""What an agent does on a case page: one step of mediation, read from the form and carried out by
dispatch.wages (which locks the case, checks its status, and audits)."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from sqlalchemy.orm import Session

from dispatch.models import Agent, CaseOpenedVia, Offer, PaidAnswer, WageCase, WageCaseStatus
from dispatch.settings import Settings
from dispatch.wages import claims
from dispatch.wages import services as wages
from dispatch.wages.services import CaseRefused

MAX_NOTE = 2000
# The steps a case page offers, by the name in their URL.
CLOSING_STEPS = {
    "recovered": WageCaseStatus.RECOVERED,
    "partly": WageCaseStatus.PARTLY_RECOVERED,
    "unresolved": WageCaseStatus.CLOSED_UNRESOLVED,
}
STEPS = ("mediate", "owed", *CLOSING_STEPS)


def parse_amount(raw: str | None) -> int | None:
    """Integer yuan as typed (full-width digits, a trailing 元, thousands commas); None when empty."""
    text = unicodedata.normalize("NFKC", raw or "").strip().removesuffix("元").replace(",", "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 8:
        raise CaseRefused("bad_amount")
    return int(text)


def take_step(
    db: Session,
    settings: Settings,
    agent: Agent,
    case: WageCase,
    step: str,
    amount_typed: str | None,
    note: str,
    now: datetime,
    remote_addr: str = "",
) -> WageCase:
    """Carry out `step` on the case; CaseRefused (nothing changed) says why it could not be."""
    note = (note or "").strip()[:MAX_NOTE]
    amount = parse_amount(amount_typed)
    if step == "mediate":
        return wages.start_mediation(db, agent, case.id, now, note, remote_addr)
    if step == "owed":
        if amount is None:
            raise CaseRefused("amount_required")
        return wages.correct_owed(db, agent, case.id, amount, now, note, remote_addr)
    return wages.close_case(db, settings, agent, case.id, CLOSING_STEPS[step], amount, now, note, remote_addr)


def open_for_worker(
    db: Session,
    settings: Settings,
    agent: Agent,
    offer: Offer,
    paid_typed: str,
    note: str,
    now: datetime,
) -> tuple[WageCase, bool]:
    """An agent opens the case of one placement for its worker (in the hall, on the phone): the same
    case, evidence and ticket as the worker's own claim. The case and whether this opened it (False:
    it was there already); CaseRefused when the placement is none a claim may be about."""
    try:
        paid = PaidAnswer(paid_typed)
    except ValueError:
        raise CaseRefused("bad_paid") from None
    if paid not in (PaidAnswer.PART, PaidAnswer.NONE):
        raise CaseRefused("bad_paid")
    code = offer.job.code or ""
    found = claims.placement(db, settings, offer.worker, code, now) if code else None
    if found is None or found.id != offer.id:
        raise CaseRefused("not_placed")
    note = (note or "").strip()[:MAX_NOTE]
    return wages.claim_case(
        db, settings, offer, now, via=CaseOpenedVia.AGENT, paid=paid, agent=agent, note=note
    )
