"""How long a ticket has waited against its kind's target (config/ticket_targets.toml).

The page is drawn with the seconds waited so far, the target and the near share; console.js counts on
from there with the browser's own monotonic clock, so a wrong clock on the agent's PC (or the service's
controlled clock in tests) never shows a wrong wait.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask import current_app

from dispatch.clock import utcnow
from dispatch.models import Ticket, TicketKind, TicketStatus

TARGETS_FILE = "ticket_targets.toml"


@dataclass(frozen=True)
class Targets:
    minutes: dict[str, int]
    default: int
    near: float

    def seconds(self, kind: str) -> int:
        return 60 * self.minutes.get(kind, self.default)


@dataclass(frozen=True)
class Wait:
    """What the page draws for one ticket's timer."""

    seconds: int
    target: int
    near: float
    running: bool  # a resolved ticket's wait stopped when it was resolved

    @property
    def state(self) -> str:
        if self.seconds >= self.target:
            return "late"
        return "near" if self.seconds >= self.near * self.target else "ok"


@cache
def load_targets(config_dir: str) -> Targets:
    """The targets file, checked: a kind that does not exist or a target under a minute is a typo."""
    data = tomllib.loads((Path(config_dir) / TARGETS_FILE).read_text(encoding="utf-8"))
    minutes = {str(kind): int(value) for kind, value in data.get("minutes", {}).items()}
    unknown = set(minutes) - {kind.value for kind in TicketKind}
    if unknown or any(value < 1 for value in minutes.values()):
        raise ValueError(f"{TARGETS_FILE}: unknown kinds {sorted(unknown)} or a target under a minute")
    near = float(data.get("near", 0.75))
    if not 0 < near < 1:
        raise ValueError(f"{TARGETS_FILE}: near must be between 0 and 1, not {near}")
    return Targets(minutes=minutes, default=int(data.get("default", 60)), near=near)


def current_targets() -> Targets:
    return load_targets(current_app.extensions["dispatch.runtime"].settings.CONFIG_DIR)


def ticket_wait(ticket: Ticket) -> Wait:
    """The ticket's wait so far (to its resolution once resolved) against its kind's target."""
    targets = current_targets()
    end = ticket.resolved_at if ticket.status == TicketStatus.RESOLVED and ticket.resolved_at else utcnow()
    seconds = max(0, int((end - ticket.created_at).total_seconds()))
    return Wait(
        seconds=seconds,
        target=targets.seconds(str(ticket.kind)),
        near=targets.near,
        running=ticket.status != TicketStatus.RESOLVED,
    )
