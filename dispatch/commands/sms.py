"""`dispatch sms templates`: the carrier templates to apply for, as the carrier's console asks for them
(模板名称, 模板类型, 模板内容, each variable's type, a sample, 申请说明), Chinese first; `--json` too."""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from dispatch.settings import Settings
from dispatch.sms.carrier_rules import RULES, TEMPLATE_TYPE, review_risks
from dispatch.sms.carrier_templates import REAL_CODE, Entry, load_registry

LANGUAGE_NAMES = {"zh": "中文 (zh)", "en": "English (en)"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON document instead of text")
    parser.add_argument("--language", choices=sorted(LANGUAGE_NAMES), help="only this language's templates")


def describe(settings: Settings, language: str | None = None) -> dict[str, Any]:
    """Every carrier template of the registry, by language, as the console's form asks for it."""
    registry = load_registry(settings.CONFIG_DIR)
    signature = settings.ALIYUN_SMS_SIGN_NAME or settings.SMS_SIGNATURE_ZH
    out: dict[str, Any] = {"signature": signature, "languages": {}, "excluded": []}
    for entry in sorted(registry.entries.values(), key=lambda entry: (entry.language != "zh", entry.kind)):
        if language and entry.language != language:
            continue
        if entry.excluded:
            out["excluded"].append({"kind": entry.kind, "language": entry.language, "why": entry.excluded})
            continue
        rows = out["languages"].setdefault(entry.language, [])
        for number, template in enumerate(entry.templates, start=1):
            rows.append(_row(entry, number, template, signature))
    return out


def _row(entry: Entry, number: int, template: Any, signature: str) -> dict[str, Any]:
    name = f"{entry.kind}_{entry.language}" + (f"_{number}" if len(entry.templates) > 1 else "")
    variables = []
    for variable in template.variables:
        rule = RULES[entry.rule_of(variable)]
        variables.append({"name": variable, "rule": rule.code, "type": rule.label})
    return {
        "name": name,
        "code": template.code,
        "approved": bool(REAL_CODE.fullmatch(template.code)),
        "type": TEMPLATE_TYPE,
        "content": template.text,
        "variables": variables,
        "sample": f"【{signature}】{template.sample}",
        "purpose": entry.purpose,
        "choice": entry.choice,
        "risks": review_risks(template.text),
    }


def run(settings: Settings, args: argparse.Namespace) -> int:
    described = describe(settings, args.language)
    if args.json:
        print(json.dumps(described, ensure_ascii=False, indent=2))
        return 0
    print(f"签名 (signature): {described['signature']}")
    for language, rows in described["languages"].items():
        print(f"\n== {LANGUAGE_NAMES[language]}: {len(rows)} templates ==")
        for row in rows:
            print()
            print(f"模板名称: {row['name']}")
            print(
                f"模板代码: {row['code']}" + ("" if row["approved"] else " (placeholder: not approved yet)")
            )
            print(f"模板类型: {row['type']}")
            print(f"模板内容: {row['content']}")
            for variable in row["variables"]:
                print(f"  变量 ${{{variable['name']}}}: {variable['type']} ({variable['rule']})")
            print(f"示例短信: {row['sample']}")
            print(f"申请说明: {row['purpose']}")
            for risk in row["risks"]:
                print(f"  审核风险 (review risk): {risk}")
    for excluded in described["excluded"]:
        print(f"\nnot a carrier template: {excluded['kind']}.{excluded['language']}: {excluded['why']}")
    waiting = sum(not row["approved"] for rows in described["languages"].values() for row in rows)
    total = sum(len(rows) for rows in described["languages"].values())
    print(f"\n{total} templates, {waiting} waiting for their code ({_where(settings)})")
    return 0


def _where(settings: Settings) -> str:
    return re.sub(r"/+$", "", str(settings.CONFIG_DIR)) + "/carrier_templates.toml"
