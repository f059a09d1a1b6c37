"""SMS texts: Jinja2 templates under sms/templates/<language>/<name>.txt, Chinese first."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATE_DIR = Path(__file__).parent / "templates"
LANGUAGES = ("zh", "en")
# Chinese texts must fit 2 UCS-2 segments, English ones a single GSM-7 segment.
MAX_SEGMENTS = {"zh": 2, "en": 1}


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,  # plain text, never HTML
    )


def template_names() -> list[str]:
    """The SMS templates (partials, named _*, are left out)."""
    return sorted(path.stem for path in (TEMPLATE_DIR / "zh").glob("*.txt") if not path.stem.startswith("_"))


def render(template_name: str, language: str, /, **context: Any) -> str:
    """The text of SMS `template_name` in `language` (Chinese when unknown), surrounding space stripped."""
    language = language if language in LANGUAGES else "zh"
    template = _environment().get_template(f"{language}/{template_name}.txt")
    return template.render(**context).strip()
