"""The carrier template registry: which template the carrier approved for each of our SMS templates.

A domestic carrier (Alibaba Cloud SMS) sends only approved templates (模板) under an approved signature
(签名): we send a template code and its variables, and the carrier fills in the text. The registry,
config/carrier_templates.toml, gives for each SMS template and language the carrier's template code, its
text with `${name}` variables as the carrier writes them, and each variable's rule (the carrier's variable
type) and value: a Jinja2 expression rendered from the same context our own text is rendered from, so
the carrier's text and ours say the same thing.

    [help.zh]
    code = "SMS_000000001"
    text = "回复：注册=登记找活……"

    [offer.zh]
    code = "SMS_000000002"
    text = "${trade} ${when}开工……回复 1 ${code} 接单"
    variables.trade = { rule = "other", value = "{{ trade }}" }
    variables.code = { rule = "number", value = "{{ code }}" }
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Template

from dispatch.i18n.templates import SMS

REGISTRY_FILE = "carrier_templates.toml"


class RegistryError(ValueError):
    """config/carrier_templates.toml is malformed."""


@dataclass(frozen=True)
class Variable:
    name: str
    rule: str  # the carrier's variable type: other, number, money, date, mobile_number, name, ...
    value: str  # Jinja2 source, rendered from the SMS template's context


@dataclass(frozen=True)
class CarrierTemplate:
    template: str  # ours: dispatch/sms/templates/<language>/<template>.txt
    language: str
    code: str  # the carrier's, e.g. SMS_123456789
    text: str  # with ${name} variables, without the signature (the carrier adds 【签名】)
    variables: tuple[Variable, ...]

    def params(self, context: dict[str, Any]) -> dict[str, str]:
        """The variables' values for one message (the carrier takes strings only)."""
        return {
            variable.name: _compiled(variable.value).render(**context).strip() for variable in self.variables
        }


@functools.lru_cache(maxsize=512)
def _compiled(source: str) -> Template:
    # The SMS templates' environment: its partials (_when.txt...) and StrictUndefined.
    return SMS.environment.from_string(source)


class Registry:
    def __init__(self, templates: dict[tuple[str, str], CarrierTemplate]) -> None:
        self.templates = templates

    def get(self, template: str, language: str) -> CarrierTemplate | None:
        return self.templates.get((template, language))

    def by_code(self, code: str) -> CarrierTemplate | None:
        return next((entry for entry in self.templates.values() if entry.code == code), None)

    def params(self, template: str, language: str, context: dict[str, Any]) -> dict[str, str] | None:
        """The carrier variables of `template` rendered from `context`; None: no carrier template."""
        entry = self.get(template, language)
        return entry.params(context) if entry is not None else None


def parse_registry(data: dict[str, Any]) -> Registry:
    templates: dict[tuple[str, str], CarrierTemplate] = {}
    for template, languages in data.items():
        if not isinstance(languages, dict):
            raise RegistryError(f"[{template}] must be a table of languages")
        for language, entry in languages.items():
            where = f"[{template}.{language}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("code"), str):
                raise RegistryError(f'{where} needs code = "SMS_..."')
            if not isinstance(entry.get("text"), str) or not entry["text"]:
                raise RegistryError(f"{where} needs text")
            variables = []
            for name, spec in (entry.get("variables") or {}).items():
                if not isinstance(spec, dict) or not isinstance(spec.get("value"), str):
                    raise RegistryError(f'{where} variable {name} needs value = "{{{{ ... }}}}"')
                variables.append(Variable(name, str(spec.get("rule", "other")), spec["value"]))
            templates[(template, language)] = CarrierTemplate(
                template, language, entry["code"], entry["text"], tuple(variables)
            )
    return Registry(templates)


@functools.lru_cache(maxsize=4)
def _load(path: Path, mtime_ns: int) -> Registry:
    with path.open("rb") as handle:
        return parse_registry(tomllib.load(handle))


def load_registry(config_dir: str | Path) -> Registry:
    """The registry in CONFIG_DIR (read again when the file changes); empty when there is none."""
    path = Path(config_dir) / REGISTRY_FILE
    try:
        mtime_ns = path.stat().st_mtime_ns
    except FileNotFoundError:
        return Registry({})
    return _load(path, mtime_ns)
