"""The carrier template registry: the templates the carrier approved for each of our SMS templates.

A domestic carrier (Alibaba Cloud SMS) sends only approved templates (模板) under an approved signature
(签名): we send a template code and its variables, and the carrier fills in the text. The registry,
config/carrier_templates.toml, holds for each SMS template (a kind) and language:

- its variables: each names a piece of our Jinja template (`source`, verbatim: `{{ code }}`, an
  `{% include %}`, a loop) that varies from message to message, and the carrier's type for it (`rule`,
  see carrier_rules.py). A piece inside a `{% for %}` is one variable an item (`code_1`, `code_2`...);
  `items = true` does the same for a `{{ list | join("、") }}`.
- its carrier templates: one per text the fixed words can make (the conditions of our template left in
  place give several: `{% if reopened %}有空位了！{% endif %}` is two templates, not an empty
  variable, which the carrier refuses), each with its code, its text with `${name}` variables, a sample.

A message's carrier text is found by rendering our own template with each variable replaced by its
`${name}` (and its value noted): the text it gives is one of the kind's carrier templates, and the
variables' values fill it in to read exactly as our text (the test over every kind checks it).

    [offer.zh]
    variables.trade = { rule = "others", source = "{{ trade }}" }
    variables.code = { rule = "other_number2", source = "{{ code }}" }
    [[offer.zh.templates]]
    code = "SMS_OFFER_ZH_1"
    text = "${trade} ...回复 1 ${code} 接单"

A kind no carrier template can carry (an agent's free text) has `excluded = "why"` instead.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Template

from dispatch.i18n.templates import SMS, SMS_TEMPLATE_DIR
from dispatch.sms.carrier_rules import RULES

REGISTRY_FILE = "carrier_templates.toml"
# A code the console gave (SMS_ and digits); anything else is a placeholder until the template is
# approved (SMS_OFFER_ZH_1: the kind, the language and the template's number).
REAL_CODE = re.compile(r"SMS_\d+")
# What our texts start with, which the carrier's 【签名】 replaces (the template is applied for without it).
SIGNATURES = {"zh": "【{{ sig }}】", "en": "{{ sig }}: "}
_VARIABLE = re.compile(r"\$\{(\w+)\}")


class RegistryError(ValueError):
    """config/carrier_templates.toml is malformed."""


@dataclass(frozen=True)
class Variable:
    name: str
    rule: str  # the carrier's TemplateRule code (carrier_rules.RULES)
    source: str  # verbatim in our Jinja template
    items: bool = False  # `{{ list | join(sep) }}`: one variable an item


@dataclass(frozen=True)
class CarrierTemplate:
    code: str  # the carrier's, e.g. SMS_123456789; a placeholder until approved
    text: str  # with ${name} variables, without the signature (the carrier adds 【签名】)
    sample: str = ""

    @property
    def variables(self) -> list[str]:
        return list(dict.fromkeys(_VARIABLE.findall(self.text)))

    def fill(self, params: dict[str, str]) -> str:
        return _VARIABLE.sub(lambda match: params[match.group(1)], self.text)


@dataclass(frozen=True)
class Rendered:
    """One message as the carrier takes it: its template's text and its variables' values."""

    text: str  # with ${name}
    params: dict[str, str]  # as sent (a phone number without its spaces)
    shown: dict[str, str]  # as our own text shows them


@dataclass(frozen=True)
class Entry:
    kind: str  # ours: dispatch/sms/templates/<language>/<kind>.txt
    language: str
    variables: tuple[Variable, ...] = ()
    templates: tuple[CarrierTemplate, ...] = ()
    purpose: str = ""  # 申请说明: why we send it, for the carrier's review
    choice: str = ""  # how the template's conditions are carried (which parts are variables)
    excluded: str = ""  # why no carrier template can carry this kind

    def rule_of(self, name: str) -> str:
        base = re.sub(r"_\d+$", "", name)
        return next((v.rule for v in self.variables if v.name in (name, base)), "others")

    def render(self, context: dict[str, Any]) -> Rendered:
        """Our template with its variables as ${name}: the carrier template this message needs."""
        params: dict[str, str] = {}
        shown: dict[str, str] = {}

        def variable(name: str, value: object, index: int | None = None) -> str:
            key = name if index is None else f"{name}_{index}"
            shown[key] = str(value).strip()
            rule = RULES.get(self.rule_of(key))
            params[key] = rule.send(shown[key]) if rule is not None else shown[key]
            return "${" + key + "}"

        text = _skeleton(self.kind, self.language, self.variables).render(**context, _var=variable)
        return Rendered(text.strip(), params, shown)

    def choose(self, context: dict[str, Any]) -> tuple[CarrierTemplate, Rendered] | None:
        """The carrier template of this message and its variables; None: none was applied for."""
        if self.excluded:
            return None
        rendered = self.render(context)
        template = self.by_text(rendered.text)
        return (template, rendered) if template is not None else None

    def by_text(self, text: str) -> CarrierTemplate | None:
        return next((template for template in self.templates if template.text == text), None)


@functools.lru_cache(maxsize=512)
def _skeleton(kind: str, language: str, variables: tuple[Variable, ...]) -> Template:
    source = (SMS_TEMPLATE_DIR / language / f"{kind}.txt").read_text(encoding="utf-8")
    signature = SIGNATURES[language]
    if not source.startswith(signature):
        raise RegistryError(f"{language}/{kind}.txt does not start with {signature}")
    source = source[len(signature) :]
    for variable in variables:
        if variable.source not in source:
            raise RegistryError(
                f"[{kind}.{language}] {variable.name}: {variable.source!r} is not in the template"
            )
        source = _replace(source, variable)
    return SMS.environment.from_string(source)


def _replace(source: str, variable: Variable) -> str:
    """`source` with each occurrence of the variable's piece replaced by its ${name}."""
    name = repr(variable.name)
    if variable.items:
        match = re.fullmatch(r"\{\{\s*(.+?)\s*\|\s*join\((['\"])(.*?)\2\)\s*\}\}", variable.source)
        if match is None:
            raise RegistryError(f"{variable.name}: items = true needs a {{{{ list | join(sep) }}}}")
        items, separator = match.group(1), match.group(3)
        replacement = (
            f"{{% for __item in {items} %}}{{{{ _var({name}, __item, loop.index) }}}}"
            f"{{% if not loop.last %}}{separator}{{% endif %}}{{% endfor %}}"
        )
        return source.replace(variable.source, replacement)
    parts = source.split(variable.source)
    out = parts[0]
    for part in parts[1:]:
        index = ", loop.index" if _in_loop(out) else ""
        out += (
            f"{{% set __value %}}{variable.source}{{% endset %}}{{{{ _var({name}, __value{index}) }}}}" + part
        )
    return out


def _in_loop(before: str) -> bool:
    return len(re.findall(r"\{%-?\s*for\b", before)) > len(re.findall(r"\{%-?\s*endfor\b", before))


class Registry:
    def __init__(self, entries: dict[tuple[str, str], Entry]) -> None:
        self.entries = entries

    def get(self, kind: str, language: str) -> Entry | None:
        return self.entries.get((kind, language))

    def choose(
        self, kind: str, language: str, context: dict[str, Any]
    ) -> tuple[CarrierTemplate, Rendered] | None:
        entry = self.get(kind, language)
        return entry.choose(context) if entry is not None else None

    def templates(self) -> list[tuple[Entry, CarrierTemplate]]:
        return [(entry, template) for entry in self.entries.values() for template in entry.templates]

    def placeholder_codes(self) -> list[str]:
        """Codes still waiting for the carrier's approval (not SMS_ and digits)."""
        return [template.code for _, template in self.templates() if not REAL_CODE.fullmatch(template.code)]


def parse_registry(data: dict[str, Any]) -> Registry:
    entries: dict[tuple[str, str], Entry] = {}
    codes: dict[str, str] = {}
    for kind, languages in data.items():
        if not isinstance(languages, dict):
            raise RegistryError(f"[{kind}] must be a table of languages")
        for language, spec in languages.items():
            where = f"[{kind}.{language}]"
            if language not in SIGNATURES or not isinstance(spec, dict):
                raise RegistryError(f"{where}: a language is zh or en, a table")
            entry = _entry(where, kind, language, spec)
            for template in entry.templates:
                if template.code in codes:
                    raise RegistryError(f"{where}: code {template.code} is also {codes[template.code]}'s")
                codes[template.code] = where
            entries[(kind, language)] = entry
    return Registry(entries)


def _entry(where: str, kind: str, language: str, spec: dict[str, Any]) -> Entry:
    if spec.get("excluded"):
        return Entry(kind, language, excluded=str(spec["excluded"]), purpose=str(spec.get("purpose", "")))
    variables = []
    for name, value in (spec.get("variables") or {}).items():
        if not isinstance(value, dict) or not isinstance(value.get("source"), str):
            raise RegistryError(f'{where} variable {name} needs source = "{{{{ ... }}}}"')
        rule = str(value.get("rule", "others"))
        if rule not in RULES:
            raise RegistryError(f"{where} variable {name}: rule {rule!r} is none of {', '.join(RULES)}")
        variables.append(Variable(name, rule, value["source"], bool(value.get("items", False))))
    templates = []
    for template in spec.get("templates") or []:
        if not isinstance(template.get("code"), str) or not isinstance(template.get("text"), str):
            raise RegistryError(f'{where}: each [[templates]] needs code = "SMS_..." and text')
        templates.append(CarrierTemplate(template["code"], template["text"], str(template.get("sample", ""))))
    if not templates:
        raise RegistryError(f"{where} needs its [[{kind}.{language}.templates]] (or excluded = why)")
    return Entry(
        kind,
        language,
        tuple(variables),
        tuple(templates),
        purpose=str(spec.get("purpose", "")),
        choice=str(spec.get("choice", "")),
    )


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
