"""Follow-up tickets: the questions, and the answers an agent records after calling."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("followups", __name__, url_prefix="/followups", template_folder="templates")
