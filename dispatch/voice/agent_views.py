"""The webhooks of agents' softphone calls: the TwiML App's Voice URL and Twilio's callbacks on them.

Each validates the Twilio signature first (403 otherwise, like /ivr/*), runs in one transaction and
answers TwiML; whatever goes wrong, the softphone hears an apology, never a 5xx (Twilio would say its
own "application error" to the agent, or to the caller during a bind). The Dial action, which Twilio
never retries, is kept in the spool when it cannot be done at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, Response, current_app, request
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.runtime import Runtime
from dispatch.spool.guard import now_or_spooled
from dispatch.twilio_auth import public_url, twilio_signed
from dispatch.voice import softphone
from dispatch.voice.softphone import Links

log = logging.getLogger(__name__)
bp = Blueprint("voice_agent", __name__, url_prefix=softphone.AGENT_PATH)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
HANGUP_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup /></Response>'


def _runtime() -> Runtime:
    return current_app.extensions["dispatch.runtime"]


def _links() -> Links:
    """Where Twilio reaches us: PUBLIC_BASE_URL, else this request's own root (proxy aware)."""
    settings = _runtime().settings
    query = request.query_string.decode("latin-1")
    own = request.path + (f"?{query}" if query else "")
    full = public_url(request, settings.PUBLIC_BASE_URL)
    base = full[: len(full) - len(own)] if full.endswith(own) else full
    return Links(base_url=base, prompts_dir=settings.PROMPTS_DIR)


def _form() -> dict[str, str]:
    return {key: value.replace("\x00", "\ufffd") for key, value in request.form.items()}


def _answer(name: str, work: Callable[[Session], str], fallback: str) -> Response:
    """One transaction; should it fail, `fallback` (an apology, or nothing), logged."""
    try:
        with _runtime().db.transaction() as session:
            xml = work(session)
    except Exception:
        log.exception("softphone webhook %s failed (call %s)", name, request.form.get("CallSid"))
        xml = fallback
    return Response(xml, status=200, mimetype="text/xml")


@bp.post("")
@twilio_signed
def connect() -> Response:
    """The softphone's outgoing call: answer the reserved caller, or dial a person."""
    settings, form, links = _runtime().settings, _form(), _links()
    return _answer(
        "connect",
        lambda session: softphone.connect(session, settings, form, links),
        softphone.refusal("zh", links),
    )


@bp.post("/bind")
@twilio_signed
def bind() -> Response:
    """The <Queue url> request on the dequeued caller's leg: that caller becomes the call's caller."""
    form, links = _form(), _links()
    agent_call = request.args.get("agent_call", "")[:12]
    return _answer(
        "bind",
        lambda session: softphone.bind(session, agent_call, form, links),
        EMPTY_TWIML,
    )


@bp.post("/dial-status")
@twilio_signed
def dial_status() -> Response:
    """The Dial action: the agent's call ended (DialCallStatus, DialCallDuration); wrap-up begins.
    Twilio never asks a Dial action again, so work that cannot be done now (the database down, or a
    failure) is kept in the spool and done once it can: the caller never lost, the agent not left busy."""
    runtime, form = _runtime(), _form()
    args = {"agent_call": request.args.get("agent_call", "")[:12]}

    def work() -> None:
        with runtime.db.transaction() as session:
            softphone.dial_status(session, args["agent_call"], form, utcnow())

    now_or_spooled(runtime, softphone.DIAL_STATUS_KIND, form, work, args=args)
    return Response(HANGUP_TWIML, status=200, mimetype="text/xml")
