"""The texts of pages (console and simulator), enum labels and ticket summaries: TOML files named
`texts/<language>.toml` anywhere under dispatch/, merged into one catalogue per language.

A key names its area (`queue.title`, `intake.pay`, `enum.job_status.open`); a key defined in two files
is refused at load, so areas cannot overwrite each other's words.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from dispatch.i18n.languages import pick_language

DISPATCH_DIR = Path(__file__).resolve().parent.parent


def text_files(language: str) -> list[Path]:
    return sorted(DISPATCH_DIR.glob(f"**/texts/{language}.toml"))


@cache
def catalogue(language: str) -> dict[str, str]:
    """Flattened `section.key` → text for one language, from every texts file."""
    return load(text_files(pick_language(language)))


def load(paths: list[Path]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in paths:
        with open(path, "rb") as handle:
            for key, text in flatten(tomllib.load(handle)):
                if key in merged:
                    raise ValueError(f"text {key!r} is defined twice ({path})")
                merged[key] = text
    return merged


def flatten(table: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for key, value in table.items():
        if isinstance(value, dict):
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", str(value)


def translate(key: str, language: str, /, **fields: Any) -> str:
    """The text for `key` in `language` (the default language when it is none we speak), its `{name}`
    fields filled; a missing key shows itself (and tests keep that from shipping)."""
    text = catalogue(pick_language(language)).get(key)
    if text is None:
        return key
    return text.format(**fields) if fields else text


def translate_or(key: str, default: str, language: str) -> str:
    """The text for `key` when the catalogue has one, else `default` (for keys built from stored data)."""
    return catalogue(pick_language(language)).get(key, default)
