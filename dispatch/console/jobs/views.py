"""The job list and the job page: offers by wave, confirmed workers, actions."""

from __future__ import annotations

from flask import Blueprint

from dispatch.console.auth import agent_page

bp = Blueprint("jobs", __name__, url_prefix="/jobs", template_folder="templates")


@bp.get("/")
@agent_page()
def job_list(db, agent):
    """Jobs of the agent's sites."""
    return "jobs"
