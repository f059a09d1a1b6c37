"""The floor (wallboard): the call center's figures for the sites the agent sees, refreshed by polling."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from dispatch.callcenter.stats import floor_figures, lateness
from dispatch.clock import utcnow
from dispatch.console.auth import agent_page
from dispatch.models.callcenter import Presence

bp = Blueprint(
    "floor",
    __name__,
    url_prefix="/floor",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
# A wallboard is read from across the room: a caller's wait should not be more than a few seconds old.
POLL_SECONDS = 5


def _board(db, agent) -> dict:
    settings = current_app.extensions["dispatch.runtime"].settings
    return {
        "figures": floor_figures(db, settings, agent, utcnow()),
        "presences": list(Presence),
        "lateness": lambda seconds: lateness(seconds, settings),
        "poll_seconds": POLL_SECONDS,
    }


@bp.get("/")
@agent_page()
def floor(db, agent):
    """The wallboard: big figures for the agent's sites; the board part refreshes itself."""
    return render_template("console/floor/floor.html", **_board(db, agent))


@bp.get("/board")
@agent_page()
def board(db, agent):
    """The board alone, for the page's polling."""
    return render_template("console/floor/board.html", **_board(db, agent))
