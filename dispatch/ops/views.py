"""`/readyz` and `/metrics`, for monitoring only (see dispatch/ops/access.py)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from dispatch.ops.access import monitoring_only
from dispatch.ops.readiness import readiness

bp = Blueprint("ops", __name__)


@bp.get("/readyz")
@monitoring_only
def readyz() -> tuple[Response, int]:
    """Database, Redis, unsent texts, the spool and the queue workers: 200 when all is well, else 503."""
    report, reasons = readiness(current_app.extensions["dispatch.runtime"])
    response = jsonify(report)
    response.headers["Cache-Control"] = "no-store"
    return response, 503 if reasons else 200


@bp.get("/metrics")
@monitoring_only
def metrics() -> Response:
    """Prometheus text format."""
    from prometheus_client import CONTENT_TYPE_LATEST

    from dispatch.metrics import render

    response = Response(render(current_app.extensions["dispatch.runtime"]), mimetype=None)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    response.headers["Cache-Control"] = "no-store"
    return response
