"""The languages the service speaks: Chinese first (the default), English second."""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("zh", "en")
DEFAULT_LANGUAGE: Final = "zh"


def pick_language(chosen: object) -> str:
    """`chosen` when it is a language we speak, else the default: the one fallback for pages, SMS and
    voice (a contact's stored language, a session value or a form field may hold anything)."""
    return chosen if isinstance(chosen, str) and chosen in LANGUAGES else DEFAULT_LANGUAGE
