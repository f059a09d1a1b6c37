"""Reports for supervisors: per site and week, as tables, charts and CSV."""

from __future__ import annotations

from flask import Blueprint

from dispatch.console.auth import agent_page
from dispatch.models import AgentRole

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")


@bp.get("/")
@agent_page(AgentRole.SUPERVISOR)
def weekly(db, agent):
    """Not built yet."""
    return "", 404
