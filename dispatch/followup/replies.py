"""Answers to follow-up questions by SMS (`1 5`, `123 2 5`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dispatch.models import Message
from dispatch.settings import Settings
from dispatch.sms.parser import Command


def handle_follow_up_reply(session: Session, settings: Settings, message: Message, command: Command) -> bool:
    """An answer to an open follow-up; True when it was one and has been acted on."""
    return False
