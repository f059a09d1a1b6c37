"""Phone intake (a job taken by an agent on the phone) and counter registration (a walk-in worker)."""

from __future__ import annotations

from flask import Blueprint

from dispatch.console.auth import agent_page

bp = Blueprint("intake", __name__, url_prefix="/intake", template_folder="templates")


@bp.get("/job")
@agent_page()
def job_form(db, agent):
    """The phone intake form."""
    return "job"


@bp.get("/worker")
@agent_page()
def worker_form(db, agent):
    """The counter registration form."""
    return "worker"
