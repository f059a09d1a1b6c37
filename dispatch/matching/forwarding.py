"""Passing an offer to a friend: `转 123 13800138000` or `FWD 123 13800138000`."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dispatch.models import Message
from dispatch.settings import Settings
from dispatch.sms.parser import Command


def handle_forward(session: Session, settings: Settings, message: Message, command: Command) -> bool:
    """A forward of an open offer; True when the text was one and has been answered."""
    return False
