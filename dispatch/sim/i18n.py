"""The simulator's texts: dispatch/sim/texts/<lang>.toml, Chinese by default, English by the switch.

A loader of its own (the console's catalogue reads the console's areas only), flattening the tables as
the console's does; the language choice is the same session value the console's switch sets, so one
switch serves both.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from flask import session

from dispatch.console.i18n import flatten

LANGUAGES = ("zh", "en")
TEXTS_DIR = Path(__file__).parent / "texts"


@cache
def catalogue(language: str) -> dict[str, str]:
    """Flattened `section.key` → text for one language."""
    with open(TEXTS_DIR / f"{language}.toml", "rb") as handle:
        return dict(flatten(tomllib.load(handle)))


def current_language() -> str:
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else "zh"


def translate(key: str, language: str | None = None, /, **fields: Any) -> str:
    """The text for `key`; a missing key shows itself (and a test keeps that from shipping)."""
    text = catalogue(language or current_language()).get(key)
    if text is None:
        return key
    return text.format(**fields) if fields else text
