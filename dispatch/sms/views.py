"""The SMS webhooks Twilio calls: an inbound message, and a delivery report.

Twilio never retries an SMS webhook, so neither answers an error it cannot act on: when the database
cannot take the request, it waits in the spool (dispatch/spool/) and is answered 200 all the same.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request

from dispatch.runtime import Runtime
from dispatch.sms.webhooks import INBOUND, STATUS, receive_inbound, receive_status
from dispatch.spool.guard import now_or_spooled
from dispatch.twilio_auth import twilio_signed

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__, url_prefix="/sms")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _twiml(status: int = 200) -> Response:
    return Response(EMPTY_TWIML, status=status, mimetype="text/xml")


def _runtime() -> Runtime:
    return current_app.extensions["dispatch.runtime"]


def _form() -> dict[str, str]:
    """The webhook's form (first value of each field); PostgreSQL text cannot hold NUL (see store_inbound)."""
    return {
        key.replace("\x00", "\ufffd"): value.replace("\x00", "\ufffd") for key, value in request.form.items()
    }


@bp.post("/inbound")
@twilio_signed
def inbound() -> Response:
    """An SMS arrived: store it, then act on it (or spool it); replies go out through the send queue."""
    runtime = _runtime()
    form = _form()
    outcome = now_or_spooled(runtime, INBOUND, form, lambda: receive_inbound(runtime, form))
    if outcome is not None and outcome.rejected:
        return Response(outcome.rejected, status=400, mimetype="text/plain")
    return _twiml()


@bp.post("/status")
@twilio_signed
def status() -> Response:
    """A delivery report for one of our messages (or spooled); reports may arrive in any order."""
    runtime = _runtime()
    form = _form()
    args = {"m": request.args.get("m", "")}
    now_or_spooled(runtime, STATUS, form, lambda: receive_status(runtime, form, args), args=args)
    return _twiml()
