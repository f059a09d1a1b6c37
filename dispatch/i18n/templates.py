"""SMS texts and voice prompts: Jinja2 templates `<language>/<name>.txt` under sms/templates and
ivr/templates, Chinese first. The language is chosen here, as for pages (one fallback for all)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from dispatch.i18n.catalogue import DISPATCH_DIR
from dispatch.i18n.languages import DEFAULT_LANGUAGE, pick_language

SMS_TEMPLATE_DIR = DISPATCH_DIR / "sms" / "templates"
VOICE_TEMPLATE_DIR = DISPATCH_DIR / "ivr" / "templates"
# Chinese texts must fit 2 UCS-2 segments, English ones a single GSM-7 segment.
SMS_MAX_SEGMENTS = {"zh": 2, "en": 1}


def spell(value: object) -> str:
    """`103` as `1 0 3`: a code is read digit by digit, not as a hundred and three."""
    return " ".join(str(value))


class TextTemplates:
    """One channel's plain-text templates (never HTML: nothing is escaped), a missing field an error."""

    def __init__(
        self, root: Path, tidy: Callable[[str], str], filters: dict[str, Callable[..., str]] | None = None
    ) -> None:
        self.root, self.tidy, self.filters = root, tidy, filters or {}

    @cached_property
    def environment(self) -> Environment:
        environment = Environment(
            loader=FileSystemLoader(str(self.root)),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            autoescape=False,
        )
        environment.filters.update(self.filters)
        return environment

    def render(self, name: str, language: str, /, **context: Any) -> str:
        """Template `name` in `language` (the default language when it is none we speak)."""
        template = self.environment.get_template(f"{pick_language(language)}/{name}.txt")
        return self.tidy(template.render(**context))

    def names(self) -> list[str]:
        """The templates (partials, named _*, are left out)."""
        found = (self.root / DEFAULT_LANGUAGE).glob("*.txt")
        return sorted(path.stem for path in found if not path.stem.startswith("_"))


SMS = TextTemplates(SMS_TEMPLATE_DIR, str.strip)
VOICE = TextTemplates(VOICE_TEMPLATE_DIR, lambda text: " ".join(text.split()), {"spell": spell})


def render_sms(name: str, language: str, /, **context: Any) -> str:
    """The text of SMS `name`, surrounding space stripped."""
    return SMS.render(name, language, **context)


def sms_template_names() -> list[str]:
    return SMS.names()


def prompt_names() -> list[str]:
    return VOICE.names()


def prompt(name: str, language: str, /, **context: Any) -> str:
    """The words of voice prompt `name`, on one line (spoken by <Say>)."""
    return VOICE.render(name, language, **context)
