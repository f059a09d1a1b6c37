"""The audit log: every change an agent makes is written in the same transaction as the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from dispatch.models import Agent, AuditEvent


def record(
    session: Session,
    agent: Agent | None,
    action: str,
    target: Any = None,
    note: str = "",
    remote_addr: str = "",
    **details: Any,
) -> AuditEvent:
    """Write who did `action` to `target` (a model row, or None) and the values that matter."""
    event = AuditEvent(
        agent_id=agent.id if agent else None,
        action=action,
        target_type=getattr(target, "__tablename__", "") if target is not None else "",
        target_id=getattr(target, "id", None) if target is not None else None,
        details={key: _plain(value) for key, value in details.items()},
        note=note,
        remote_addr=remote_addr[:64],
    )
    session.add(event)
    return event


def _plain(value: Any) -> Any:
    """JSON-safe: enums to their values, dates to ISO strings."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return str(value)
