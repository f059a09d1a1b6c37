"""The queue page and the actions on one ticket."""

from __future__ import annotations

from flask import Blueprint

from dispatch.console.auth import agent_page

bp = Blueprint("tickets", __name__, url_prefix="/tickets", template_folder="templates")


@bp.get("/")
@agent_page()
def queue(db, agent):
    """Open tickets by priority and age."""
    return "queue"
