"""The simulator's side of the offline softphone (first run only, like every /sim route): the
console's window.OfflineDevice (dispatch/console/static/phone_offline.js) connects, talks and hangs up
here; a simulated phone's page answers, talks and hangs up here. Both poll their line every second.

The softphone's requests carry the console's session (the agent) and CSRF token, as the simulator's
own pages do: the blueprint's before_request checks both pages' tokens alike.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, abort, jsonify, request
from flask import session as cookie

from dispatch.clock import utcnow
from dispatch.console.auth import find_session
from dispatch.console.i18n import translate
from dispatch.models import Agent
from dispatch.sim import lines, pages
from dispatch.sim.lines import LineError
from dispatch.sim.switchboard import Line, switchboard
from dispatch.sim.views import bp

log = logging.getLogger(__name__)


def _agent_id() -> int:
    """The signed-in agent of the console's cookie (401 otherwise: the softphone shows an error)."""
    token = cookie.get("token")
    if not isinstance(token, str) or not token:
        abort(401)
    with pages.runtime().db.transaction() as db:
        found = find_session(db, token)
        if found is None:
            abort(401)
        return found.agent_id


def _line_json(line: Line | None, after: int = 0) -> dict[str, Any]:
    return {"line": line.as_json(after) if line is not None else None}


def _after() -> int:
    raw = request.args.get("after", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 9 else 0


def _refused(exc: LineError) -> tuple[Response, int]:
    """409 with the reason in the page's language (the softphone shows it on the phone bar)."""
    return jsonify(error=translate(f"line_error.{exc.key}"), reason=exc.key), 409


# -- the agent's softphone ---------------------------------------------------------------------------


@bp.post("/agent/connect")
def agent_connect() -> Response | tuple[Response, int]:
    """device.connect({params}): answer the reserved caller (the queue's longest waiter) or ring the
    number of an outbound call; the softphone's texts come with it, in the agent's language."""
    agent_id = _agent_id()
    try:
        with pages.runtime().db.transaction() as db:
            agent = db.get(Agent, agent_id)
            assert agent is not None
            line = lines.connect(db, switchboard(), agent, request.form, utcnow())
            language = lines.language_of(db, line)
    except LineError as exc:
        return _refused(exc)
    return jsonify(texts=pages.catalogue("line_js."), language=language, **_line_json(line))


def _own_line(line_id: int) -> Line:
    line = switchboard().line(line_id)
    if line is None or line.agent_id != _agent_id():
        abort(404)
    return line


@bp.get("/agent/lines/<int:line_id>")
def agent_line(line_id: int) -> Response:
    """The line's state and what was said after `after` (polled every second)."""
    return jsonify(_line_json(_own_line(line_id), _after()))


@bp.post("/agent/lines/<int:line_id>/say")
def agent_say(line_id: int) -> Response | tuple[Response, int]:
    line = _own_line(line_id)
    try:
        lines.say(switchboard(), line.id, "agent", request.form.get("text", ""))
    except LineError as exc:
        return _refused(exc)
    return jsonify(_line_json(line, _after()))


@bp.post("/agent/lines/<int:line_id>/hangup")
def agent_hang_up(line_id: int) -> Response:
    line = _own_line(line_id)
    pages.end_line(line.id, "agent")
    return jsonify(_line_json(line, _after()))


# -- the simulated phone -----------------------------------------------------------------------------


def _phone_line(phone: str, line_id: int) -> Line:
    line = switchboard().line(line_id)
    if line is None or line.phone != pages.phone_number(phone):
        abort(404)
    return line


@bp.get("/phone/<phone>/line")
def phone_line(phone: str) -> Response:
    """The phone's newest line: an agent's call ringing, a call with an agent, or how it ended."""
    return jsonify(_line_json(switchboard().line_of_phone(pages.phone_number(phone)), _after()))


@bp.post("/phone/<phone>/line/<int:line_id>/<action>")
def phone_line_action(phone: str, line_id: int, action: str) -> Response | tuple[Response, int]:
    """The phone answers or declines the agent's call, says something, or hangs up."""
    line = _phone_line(phone, line_id)
    try:
        if action == "answer":
            with pages.runtime().db.transaction() as db:
                lines.pick_up(db, switchboard(), line.phone, line.id, utcnow())
        elif action == "decline":
            if line.state != "ringing":
                raise LineError("not_ringing")
            pages.end_line(line.id, "declined")
        elif action == "say":
            lines.say(switchboard(), line.id, "caller", request.form.get("text", ""))
        elif action == "hangup":
            pages.end_line(line.id, "caller")
        else:
            abort(404)
    except LineError as exc:
        return _refused(exc)
    return jsonify(_line_json(line, _after()))
