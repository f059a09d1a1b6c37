"""Wage cases: the list, the case page with its evidence, and the steps of mediation."""

from __future__ import annotations

from flask import Blueprint

from dispatch.console.auth import agent_page

bp = Blueprint("cases", __name__, url_prefix="/cases", template_folder="templates")


@bp.get("/")
@agent_page()
def case_list(db, agent):
    """Not built yet."""
    return "", 404
