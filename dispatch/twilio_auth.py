"""Twilio webhook signatures: the first thing every webhook view does is check X-Twilio-Signature."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import Request, abort, current_app, request
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)


def public_url(req: Request, public_base_url: str = "") -> str:
    """The URL Twilio requested (and signed): PUBLIC_BASE_URL when set, else the forwarded
    scheme and host of a proxy, else what reached us."""
    query = req.query_string.decode("latin-1")
    path = req.path + (f"?{query}" if query else "")
    if public_base_url:
        # The public base includes any prefix the proxy strips, e.g. https://example.org/dispatch.
        return public_base_url.rstrip("/") + path
    proto = req.headers.get("X-Forwarded-Proto", "").split(",")[0].strip() or req.scheme
    host = req.headers.get("X-Forwarded-Host", "").split(",")[0].strip() or req.host
    # script_root: the app may be mounted under a prefix (SCRIPT_NAME), which Twilio's URL includes.
    return f"{proto}://{host}{req.script_root}{path}"


def signature_is_valid(req: Request, auth_token: str, public_base_url: str = "") -> bool:
    signature = req.headers.get("X-Twilio-Signature", "")
    if not signature or not auth_token:
        return False
    url = public_url(req, public_base_url)
    return RequestValidator(auth_token).validate(url, req.form, signature)


def twilio_signed(view: Callable[..., Any]) -> Callable[..., Any]:
    """Answer 403, having changed nothing, unless the request carries Twilio's valid signature."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        settings = current_app.extensions["dispatch.runtime"].settings
        if not signature_is_valid(request, settings.TWILIO_AUTH_TOKEN, settings.PUBLIC_BASE_URL):
            log.warning("rejected unsigned or mis-signed webhook to %s", request.path)
            abort(403, description="invalid Twilio signature")
        return view(*args, **kwargs)

    return wrapper
