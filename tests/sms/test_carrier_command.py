"""`dispatch sms templates` prints every carrier template as the carrier's console asks for it, by
language, Chinese first; `--json` gives the same as one document."""

from __future__ import annotations

import argparse
import json

import pytest

from dispatch import cli
from dispatch.settings import PROJECT_ROOT, Settings
from dispatch.sms.carrier_templates import load_registry
from tests.sms.aliyun_support import carrier_settings

REGISTRY = load_registry(PROJECT_ROOT / "config")


def _run(capsys, *argv: str) -> str:
    args = cli.build_parser().parse_args(["sms", "templates", *argv])
    assert args.command == "sms" and isinstance(args, argparse.Namespace)
    settings = Settings.load(carrier_settings(None), environ={})
    assert cli.COMMANDS["sms"](settings, args) == 0
    return capsys.readouterr().out


def test_the_templates_are_printed_for_the_console_chinese_first(capsys) -> None:
    out = _run(capsys)
    assert out.startswith("签名 (signature): 潞州零工\n\n== 中文 (zh): ")
    assert out.index("== 中文 (zh)") < out.index("== English (en)")
    # One template as the console's form asks for it: name, type, content, each variable's type, a
    # sample signed as the carrier signs it, the purpose.
    block = out[out.index("模板名称: offer_zh_3\n") :].split("\n\n")[0]
    assert block.splitlines() == [
        "模板名称: offer_zh_3",
        "模板代码: SMS_OFFER_ZH_3 (placeholder: not approved yet)",
        "模板类型: 通知短信",
        "模板内容: 有空位了！${trade} ${when} ${days}天 ${pay}元/天 ${area}。"
        "回复 1 ${code} 接单，2 ${code} 不接",
        "  变量 ${trade}: 其他 (others)",
        "  变量 ${when}: 其他 (others)",
        "  变量 ${days}: 其他号码 (other_number2)",
        "  变量 ${pay}: 金额 (money)",
        "  变量 ${area}: 其他 (others)",
        "  变量 ${code}: 其他号码 (other_number2)",
        "示例短信: 【潞州零工】有空位了！小工/力工 12月31日23点 60天 99999元/天 威远门北路社区零工驿站。"
        "回复 1 99999999 接单，2 99999999 不接",
        "申请说明: " + REGISTRY.get("offer", "zh").purpose,  # type: ignore[union-attr]
    ]
    assert "  审核风险 (review risk): 兼职" in out  # reg_ask_trade's 学生兼职
    assert "not a carrier template: agent_text.zh: an agent's free text" in out
    total = len(REGISTRY.templates())
    assert out.count("模板名称: ") == total
    assert out.rstrip().endswith(
        f"{total} templates, {total} waiting for their code ({PROJECT_ROOT}/config/carrier_templates.toml)"
    )


@pytest.mark.parametrize("language", ["zh", "en"])
def test_json_gives_the_same_by_language(capsys, language: str) -> None:
    data = json.loads(_run(capsys, "--json", "--language", language))
    assert list(data["languages"]) == [language]
    rows = data["languages"][language]
    assert len(rows) == sum(entry.language == language for entry, _ in REGISTRY.templates())
    help_row = next(row for row in rows if row["name"] == f"help_{language}")
    assert help_row["code"] == f"SMS_HELP_{language.upper()}" and help_row["approved"] is False
    assert help_row["type"] == "通知短信" and help_row["variables"] == []
    assert help_row["sample"].startswith("【潞州零工】")
    offer = next(row for row in rows if row["name"] == f"offer_{language}_1")
    assert {"name": "pay", "rule": "money", "type": "金额"} in offer["variables"]
    # Free texts cannot be templates: an agent's, and a policy topic's (supervisors edit it).
    assert data["excluded"] == [
        {"kind": kind, "language": language, "why": REGISTRY.get(kind, language).excluded}  # type: ignore[union-attr]
        for kind in ("agent_text", "policy_topic")
    ]
