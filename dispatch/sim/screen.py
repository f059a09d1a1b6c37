"""What one turn of a simulated call shows (and the browser keeps for the next), and what the app
answered a simulated webhook."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Posted:
    status: int
    body: str


@dataclass
class Screen:
    """What one turn of the call shows, and what the browser keeps for the next."""

    events: list[dict[str, Any]] = field(default_factory=list)
    wait: dict[str, Any] = field(default_factory=dict)
    twiml: str = ""
    url: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"events": self.events, "wait": self.wait, "twiml": self.twiml, "url": self.url}
