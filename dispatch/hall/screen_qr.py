"""The screen's QR code to the public job list, drawn on the server as SVG (no script, no image host)."""

from __future__ import annotations

from functools import lru_cache

import segno
from markupsafe import Markup


@lru_cache(maxsize=64)  # one per site's list URL: the screens ask for the same few again and again
def qr_svg(url: str) -> Markup:
    """An inline <svg> that scales to its box (a viewBox, no fixed size), black on white."""
    code = segno.make(url, error="m")
    return Markup(code.svg_inline(border=2, omitsize=True, dark="#000", light="#fff", svgclass="qr"))
