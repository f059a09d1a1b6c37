"""Search, and the page of a worker or an employer with their conversation."""

from __future__ import annotations

from flask import Blueprint

from dispatch.console.auth import agent_page

bp = Blueprint("people", __name__, url_prefix="/people", template_folder="templates")


@bp.get("/search")
@agent_page()
def search(db, agent):
    """Find a worker, employer or job by phone, name or code."""
    return "search"
