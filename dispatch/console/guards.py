"""Odd input gets a clear 400/404 before any view runs, never a database error (a 500).

PostgreSQL refuses NUL in text and integers beyond 32 bits in id columns; a URL or form may carry
either (a pasted string, a probe).
"""

from __future__ import annotations

from flask import abort, request

MAX_ID = 2**31 - 1


def refuse_odd_input() -> None:
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400, description="NUL characters are not accepted")
    for value in (request.view_args or {}).values():
        if isinstance(value, int) and not 0 < value <= MAX_ID:
            abort(404)


def parse_id(raw: str | None) -> int | None:
    """A row id typed in a form or query: ASCII digits within the id range, else None."""
    raw = (raw or "").strip()
    if not raw or len(raw) > 10 or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None


def parse_page(raw: str | None, last: int = 10_000) -> int:
    """A page number from the query string; anything odd is page 1."""
    value = parse_id(raw)
    return min(value, last) if value else 1


def web_url(value: str | None) -> str:
    """A URL fit for href/src: http(s) only (a recording URL comes from a webhook; never javascript:)."""
    value = (value or "").strip()
    return value if value.lower().startswith(("https://", "http://")) else ""
