"""Who may read `/readyz` and `/metrics`: a bearer token, or an allowed address reached directly.

METRICS_TOKEN and METRICS_ALLOW_FROM are read from the settings when they exist; without them only
this machine (127.0.0.1, ::1) may ask, and only directly: a request that came through a proxy we do
not trust (TRUSTED_PROXIES=0) carries the proxy's address, which is often 127.0.0.1 itself.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
from collections.abc import Callable
from typing import Any

from flask import abort, current_app, request

DEFAULT_ALLOW_FROM = "127.0.0.1,::1"
FORWARDING_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def parse_networks(value: str) -> tuple[Network, ...]:
    """`127.0.0.1, 10.0.0.0/8, ::1` -> networks; a bad entry raises ValueError."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip()
    )


def may_read(settings: Any) -> bool:
    token = getattr(settings, "METRICS_TOKEN", "") or ""
    if token:
        scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(offered.strip().encode(), token.encode()):
            return True
    if settings.TRUSTED_PROXIES == 0 and any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    try:
        address = ipaddress.ip_address((request.remote_addr or "").split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    allowed = getattr(settings, "METRICS_ALLOW_FROM", DEFAULT_ALLOW_FROM) or ""
    return any(address in network for network in parse_networks(allowed))


def monitoring_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """403 unless the request may read the service's state (see the module's docstring)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        settings = current_app.extensions["dispatch.runtime"].settings
        if not may_read(settings):
            abort(403, description="only for monitoring: from an allowed address, or with the bearer token")
        return view(*args, **kwargs)

    return wrapper
