"""Opening and moving wage cases; holding and freeing the employer's jobs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from dispatch.models import FollowUp, WageCase
from dispatch.settings import Settings


def open_case(session: Session, settings: Settings, follow_up: FollowUp, now: datetime) -> WageCase:
    """The worker answered `2` (partly paid) or `3` (not paid): a wage case with its evidence, a
    dispute ticket, and the employer held. Idempotent per follow-up."""
    raise NotImplementedError("issue 7: wage cases")
