"""The SMS webhooks Twilio calls (an inbound message, a delivery report), and the pushes of the domestic
carrier (Alibaba Cloud SMS: delivery reports and replies, /sms/aliyun/<secret>/report|uplink).

Twilio never retries an SMS webhook, so neither answers an error it cannot act on: when the database
cannot take the request, it waits in the spool (dispatch/spool/) and is answered 200 all the same.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging

from flask import Blueprint, Response, abort, current_app, request

from dispatch.ops.access import FORWARDING_HEADERS, parse_networks
from dispatch.runtime import Runtime
from dispatch.settings import Settings
from dispatch.sms.aliyun_push import REPORT, receive_report, report_form, uplink_form
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


# -- Alibaba Cloud SMS pushes (MNS HTTP push) --------------------------------------------------------
# The carrier signs nothing: the secret in the path and the sender's address are what authenticate it.
# It pushes JSON arrays and wants {"code": 0, "msg": "成功"}; anything else it takes as "push again".
CARRIER_OK = {"code": 0, "msg": "成功"}


def _carrier_answer(payload: dict[str, object], status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status, mimetype="application/json")


def _carrier_push(secret: str) -> list[object]:
    """The pushed array, once the path's secret (else 404) and the sender's address (else 403) are right."""
    settings: Settings = _runtime().settings
    expected = settings.ALIYUN_PUSH_SECRET
    if not expected or not hmac.compare_digest(secret.encode(), expected.encode()):
        abort(404)
    if not _push_address_allowed(settings):
        log.warning(
            "rejected a carrier push to %s from an address not allowed", request.path.rsplit("/", 1)[-1]
        )
        abort(403, description="not from an allowed address")
    try:
        items = json.loads(request.get_data(cache=False) or b"null")
    except (ValueError, UnicodeDecodeError):
        items = None
    if not isinstance(items, list):
        abort(_carrier_answer({"code": 400, "msg": "a JSON array is expected"}, 400))
    return items


def _push_address_allowed(settings: Settings) -> bool:
    # Behind a proxy we do not trust, every request carries the proxy's address: refuse rather than guess.
    if settings.TRUSTED_PROXIES == 0 and any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    try:
        address = ipaddress.ip_address((request.remote_addr or "").split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in parse_networks(settings.ALIYUN_PUSH_ALLOW_FROM))


@bp.post("/aliyun/<secret>/uplink")
def aliyun_uplink(secret: str) -> Response:
    """Replies (上行) pushed by the carrier: each goes the way a Twilio SMS goes (or waits in the spool)."""
    items = _carrier_push(secret)
    runtime = _runtime()
    forms = [form for item in items if (form := uplink_form(item, runtime.settings.ALIYUN_SMS_SIGN_NAME))]
    if len(forms) < len(items):
        log.warning(
            "carrier uplink push: %d of %d items unreadable, dropped", len(items) - len(forms), len(items)
        )
    # In the order they were sent (a batch may not be), so one sender's texts are handled in order.
    forms.sort(key=lambda form: (form["AliyunSendTime"], form["AliyunSequenceId"].zfill(30)))
    for form in forms:
        now_or_spooled(runtime, INBOUND, form, lambda form=form: receive_inbound(runtime, form))  # type: ignore[misc]
    return _carrier_answer(CARRIER_OK)


@bp.post("/aliyun/<secret>/report")
def aliyun_report(secret: str) -> Response:
    """Delivery reports pushed by the carrier (or spooled); reports may arrive in any order, or twice."""
    items = _carrier_push(secret)
    runtime = _runtime()
    forms = [form for item in items if (form := report_form(item))]
    if len(forms) < len(items):
        log.warning(
            "carrier report push: %d of %d items unreadable, dropped", len(items) - len(forms), len(items)
        )
    for form in forms:
        now_or_spooled(runtime, REPORT, form, lambda form=form: receive_report(runtime, form))  # type: ignore[misc]
    return _carrier_answer(CARRIER_OK)
