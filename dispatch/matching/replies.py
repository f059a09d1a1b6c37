"""Workers' answers to offers by SMS (`1 123`, `2 123`, `好`, `没空`, `取消 123`).

Placeholder until the matching issue lands: no text is taken as an offer reply yet.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from dispatch.models import Message
from dispatch.settings import Settings
from dispatch.sms.parser import Command


def handle_coded_reply(session: Session, settings: Settings, message: Message, command: Command) -> bool:
    """A reply naming a job code; True when it was one and has been acted on."""
    return False


def handle_bare_reply(session: Session, settings: Settings, message: Message, command: Command) -> bool:
    """A yes/no without a code, for the worker's only open offer; True when acted on."""
    return False
