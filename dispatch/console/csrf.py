"""CSRF protection for every console form: a per-session token, sent back as a field or a header."""

from __future__ import annotations

import hmac
import secrets

from flask import abort, request, session

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"  # htmx requests send it as a header (see base.html)


def csrf_token() -> str:
    token = session.get("_csrf")
    if not token:
        token = session["_csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Refuse a state-changing request without the session's token (400, nothing changed)."""
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    expected = session.get("_csrf")
    sent = request.form.get(FIELD) or request.headers.get(HEADER) or ""
    # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500).
    if not expected or not hmac.compare_digest(expected.encode(), sent.encode()):
        abort(400, description="CSRF token missing or wrong: reload the page and try again")
