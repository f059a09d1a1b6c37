"""Employers' one-line job requests by SMS (`招 水电工 2人 明天 300元 太西`).

Placeholder until the phone-intake issue lands: no text is taken as a job request yet.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from dispatch.models import Message
from dispatch.settings import Settings
from dispatch.sms.parser import Command


def handle_job_request(session: Session, settings: Settings, message: Message, command: Command) -> bool:
    """True when the text was a job request from a known employer and has been acted on."""
    return False
