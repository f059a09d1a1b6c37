"""Drafts config/carrier_templates.toml from our SMS templates: a maintainer's tool, not a test.

    DRAFT_CARRIER_TEMPLATES=/tmp/draft.toml pytest tests/sms/draft_carrier_templates.py

Each `{{ ... }}` and `{% include %}` of a template becomes a variable (named and typed by what it holds),
each text its conditions make a carrier template with a placeholder code, SMS_<KIND>_<LANG>[_n]; codes
already in the registry are kept. Review the draft (names, rules, purposes) before applying for it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from dispatch.i18n import SMS_TEMPLATE_DIR, sms_template_names
from dispatch.settings import PROJECT_ROOT
from dispatch.sms.carrier_templates import (
    SIGNATURES,
    Registry,
    RegistryError,
    load_registry,
    parse_registry,
)
from tests.sms.carrier_support import every_context

TARGET = os.environ.get("DRAFT_CARRIER_TEMPLATES", "")
pytestmark = pytest.mark.skipif(not TARGET, reason="a maintainer's tool: set DRAFT_CARRIER_TEMPLATES=<file>")

# Whole lists from the configuration (trades, towns) are the template's fixed text: longer than any
# variable may be, and a change to them is a text to apply for again.
FIXED = {"reg_ask_trade", "reg_ask_area"}
EXCLUDED = {
    "agent_text": "an agent's free text: the whole message would be one variable, which the carrier "
    "refuses (the fixed text must say what a message is) and which is longer than a variable may be; "
    "sent through Twilio or said by phone",
    "policy_topic": "a policy topic's text, which supervisors keep in the console: longer than a variable "
    "may be, and a fixed text of its own would have to be applied for again at every edit; sent through "
    "Twilio, or heard by phone (key 6)",
}
# Pieces of several expressions that are one value.
JOINED = (
    ("{{ date.month }}月{{ date.day }}日", "date"),
    ("{{ job.date.month }}月{{ job.date.day }}日", "date"),
    ('{{ date.strftime("%b") }} {{ date.day }}', "date"),
    ('{{ job.date.strftime("%b") }} {{ job.date.day }}', "date"),
)
# A list that can be longer than one variable is one variable an item.
ITEMS = {"codes"}
SINGLE_LISTS = {"trade_names"}
NUMBERS = {
    "code",
    "other_code",
    "seq",
    "number",
    "headcount",
    "filled",
    "remaining",
    "days",
    "limit",
    "left",
    "reoffered",
    "total",
    "month_days",
    "insured_days",
    "hour",
    "codes",
}
MONEY = {"pay", "month_pay", "case_amount", "case_owed"}
NAMES = {"name", "from_name", "employer_name"}

WORKER, EMPLOYER, BOTH = "向已登记的零工", "向已登记的雇主", "向已登记的零工或雇主"
PURPOSES = {
    "agent_text": "工作人员给零工或雇主的留言（自由文本）",
    "arrival_employer": EMPLOYER + "通知其岗位的工人已到岗（工人姓名、电话、到岗时间），以便核对出勤",
    "arrival_ok": WORKER + "确认已记录其到岗，回复其“到 岗位号”短信",
    "arrival_which": WORKER + "说明如何报到岗：列出其当天已接的岗位号",
    "counter_reg_confirm": "零工在零工市场窗口登记后，请其本人确认登记信息并同意接收派活短信",
    "event_already": WORKER + "说明其已报名该活动（回复其“报名”短信）",
    "event_booked": WORKER + "确认其活动报名成功（时间、地点）",
    "event_cancelled": WORKER + "确认其已取消活动报名（回复其“取消报名”短信）",
    "event_moved_up": WORKER + "通知其活动有空位、已从候补转为报名成功（时间、地点）",
    "event_not_signed_up": WORKER + "说明其要取消的活动编号没有其报名",
    "event_reminder": WORKER + "在活动前一天晚上提醒已报名的活动（时间、地点）",
    "event_unknown": WORKER + "说明其回复的活动编号不存在或活动已开始",
    "event_waiting": WORKER + "说明活动已报满、其在候补名单中的位置",
    "events_opt_in_confirm": "用户恢复接收活动通知后确认",
    "events_opt_out_confirm": "用户退订活动通知后确认（派活短信照常）",
    "followup_already": BOTH + "说明其回访答复已收到",
    "followup_employer": "岗位结束后" + EMPLOYER + "回访工人表现，请其回复评分",
    "followup_next": WORKER + "记下回访答复后询问下一项（工钱是否结清、雇主评分）",
    "followup_reminder_employer": EMPLOYER + "提醒尚未回复的工人评分回访",
    "followup_reminder_worker": WORKER + "提醒尚未回复的回访（工钱是否结清、雇主评分）",
    "followup_retry": BOTH + "说明回访答复的格式（没看懂其回复时）",
    "followup_thanks_employer": EMPLOYER + "确认已记录其评分",
    "followup_thanks_worker": WORKER + "确认已记录其回访答复；工钱未结清时告知工作人员会联系",
    "followup_which_employer": EMPLOYER + "说明回访答复格式，列出待评的工人",
    "followup_which_side": "既做工又用工的用户回复回访时，说明须加岗位号",
    "followup_which_worker": WORKER + "说明有多个待回访岗位时须加岗位号",
    "followup_worker": "岗位结束后" + WORKER + "回访：工钱是否结清、给雇主评分",
    "forward_done": WORKER + "确认其转给朋友的岗位已转出",
    "forward_invite": "零工把岗位转给尚未登记的朋友时，告知朋友岗位信息及登记方法（应零工本人请求发送）",
    "forward_offer": "零工把岗位转给已登记的朋友时，向朋友发送该岗位信息",
    "forward_refused": WORKER + "说明转给朋友未成功的原因",
    "help": "用户回复“帮助”时发送的使用说明",
    "how_to_post": "说明雇主如何发布招工（回复其短信）",
    "how_to_register": "说明零工如何登记（回复其短信）",
    "insurance_refused": WORKER + "说明岗位须办理零工日险、这次不能确认的原因",
    "ivr_reg_confirm": "零工电话登记后，请其本人确认登记信息并同意接收派活短信",
    "job_cancelled": WORKER + "通知其已接的岗位被雇主取消",
    "job_created": EMPLOYER + "确认其招工已发布（岗位号、工种、人数、时间、日薪、地点）",
    "job_request_confirm": EMPLOYER + "请其核对短信招工的内容后确认发布",
    "job_request_dropped": EMPLOYER + "确认其招工未发布",
    "job_request_expired": EMPLOYER + "说明其招工因开工时间已过未发布",
    "job_request_posted": EMPLOYER + "确认其短信招工已发布",
    "job_request_unclear": EMPLOYER + "说明其招工短信未能识别，工作人员会联系",
    "language_set": "用户选择语言后确认",
    "match_cancel_employer": EMPLOYER + "通知有工人取消了岗位，正在补招",
    "match_cancel_ok": WORKER + "确认已为其取消岗位",
    "match_cancel_over": WORKER + "说明岗位工期已结束不能取消",
    "match_closed": WORKER + "说明岗位已结束或取消，不再招人",
    "match_confirm_cancel": WORKER + "请其确认是否取消已接的岗位",
    "match_declined": WORKER + "确认其不接该岗位",
    "match_expired": WORKER + "说明岗位邀请已过期",
    "match_full": WORKER + "说明岗位已招满（或已排上候补）",
    "match_offer_gone": WORKER + "说明岗位邀请对其已失效",
    "match_overlap": WORKER + "说明岗位与其已接岗位时间冲突",
    "match_unfilled": EMPLOYER + "通知岗位仍缺人，客服会联系",
    "match_unknown_code": WORKER + "说明其回复的岗位号不对，列出其岗位",
    "match_which_code": WORKER + "有多个岗位时请其回复岗位号",
    "no_show_ok": EMPLOYER + "确认已记录工人未到岗，名额已空出",
    "no_show_unknown": EMPLOYER + "说明未找到该岗位今天的在岗工人",
    "no_show_which": EMPLOYER + "列出未到岗的工人，请其回复编号",
    "no_show_worker": WORKER + "通知雇主报告其未到岗，已记为缺勤",
    "not_active": "说明用户账号当前不能接单的状态",
    "not_registered": "说明未登记用户如何登记（回复其短信）",
    "not_understood": "未能识别用户短信时回复，已转工作人员",
    "offer": "向已登记并同意接收派活短信的零工发送符合其工种、地区、日薪的岗位邀请，零工回复1接单、2不接",
    "opt_in_confirm": "用户重新订阅后确认",
    "opt_out_confirm": "用户退订后确认（此后不再发送）",
    "outreach_event": WORKER
    + "发送零工市场的培训、政策宣讲、就业对接会等活动通知（每人每周最多一条，可回复退订活动）",
    "paused": WORKER + "确认已暂停派活",
    "placement_employer": EMPLOYER + "通知已确认接单的工人（姓名、电话）",
    "placement_insurance": WORKER + "通知已为其投保零工日险及保单号",
    "placement_worker": WORKER + "确认其已接的岗位（时间、地点、日薪、雇主电话）",
    "policy_menu": "用户发“政策”时回复政策咨询条目菜单（回复其短信）",
    "policy_topic": "用户选择政策咨询条目后回复该条目的政策说明（回复其短信）",
    "profile": WORKER + "发送其登记资料（回复“我的”）",
    "pull_jobs": WORKER + "回复“找活”时列出附近的岗位",
    "pull_none": WORKER + "回复“找活”时说明暂时没有合适的岗位",
    "reg_ask_area": "短信登记中询问零工所在乡镇/街道",
    "reg_ask_confirm": "短信登记中请零工核对登记信息并同意接收派活短信",
    "reg_ask_name": "短信登记中询问零工姓名",
    "reg_ask_pay": "短信登记中询问零工最低日薪",
    "reg_ask_trade": "短信登记中询问零工工种",
    "reg_done": "短信登记完成后确认",
    "reg_to_agent": "短信登记未完成，告知工作人员会来电",
    "reminder": WORKER + "开工前提醒（时间、地点、日薪、雇主电话）",
    "resumed": WORKER + "确认已恢复派活",
    "wage_case_closed": WORKER + "通知其反映的工钱问题办理结果",
    "worker_record": WORKER + "发送其已接岗位和本月做工记录（回复其查询）",
}


def _name(expression: str) -> tuple[str, bool]:
    """A variable's name for `{{ expression }}`, and whether it is one variable an item."""
    expression = expression.strip()
    join = re.fullmatch(r"(.+?)\s*\|\s*join\(.*\)", expression)
    if join:
        base = re.sub(r"\[.*\]$", "", join.group(1).strip())
        return base, base in ITEMS
    if re.search(r"\|\s*length", expression) and "+" not in expression:
        return re.sub(r"\W.*", "", expression) + "_count", False
    if "+" in expression:
        return "total", False
    first = re.fullmatch(r"(\w+)\[0\](?:\[(\d)\]|\.(\w+))?", expression)
    if first:
        which = {None: "code", "0": "code", "1": "seq"}.get(first.group(2), "code")
        if first.group(1) == "listed":
            which = "number"
        return "first_" + (first.group(3) or which), False
    expression = re.split(r"\s+or\s+", expression)[0]
    return expression.split(".")[-1], False


def _rule(name: str) -> str:
    base = re.sub(r"^first_|_count$", "", name)
    if base.endswith("phone"):
        return "phone_number2"
    if base in MONEY:
        return "money"
    if base in NAMES:
        return "name"
    if base == "arrived":
        return "time"
    if base in NUMBERS or name.endswith("_count"):
        return "other_number2"
    return "others"


def _variables(kind: str, language: str) -> dict[str, dict[str, Any]]:
    source = (SMS_TEMPLATE_DIR / language / f"{kind}.txt").read_text(encoding="utf-8")
    source = source[len(SIGNATURES[language]) :]
    found: dict[str, dict[str, Any]] = {}
    if kind in FIXED:
        return found
    for piece, name in JOINED:
        if piece in source:
            found[name] = {"rule": "others", "source": piece}
            source = source.replace(piece, "")
    for partial in re.findall(r'\{% include "\w+/_(\w+)\.txt" %\}', source):
        found[partial] = {"rule": "others", "source": f'{{% include "{language}/_{partial}.txt" %}}'}
    for piece in dict.fromkeys(re.findall(r"\{\{.*?\}\}", source)):
        expression = piece[2:-2].strip()
        if expression.startswith(('"', "'")):
            continue  # a word our text adds or not ("s" of days): fixed text, a template each
        name, items = _name(expression)
        while name in found:
            name += "_"
        found[name] = {"rule": _rule(name), "source": piece} | ({"items": True} if items else {})
    return found


def _conditions(kind: str, language: str) -> list[str]:
    source = (SMS_TEMPLATE_DIR / language / f"{kind}.txt").read_text(encoding="utf-8")
    return list(dict.fromkeys(re.findall(r"\{%-?\s*(?:el)?if\s+(.+?)\s*-?%\}", source)))


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def test_draft(session, seeded, runtime) -> None:
    try:
        existing = load_registry(PROJECT_ROOT / "config")
    except RegistryError:
        existing = Registry({})  # an older form: no approved code to keep
    lines = [line for line in HEADER.splitlines()]
    for kind in sms_template_names():
        for language in ("zh", "en"):
            where = f"{kind}.{language}"
            lines += ["", f"[{where}]", f"purpose = {_toml(PURPOSES.get(kind, ''))}"]
            if kind in EXCLUDED:
                lines.append(f"excluded = {_toml(EXCLUDED[kind])}")
                continue
            variables = _variables(kind, language)
            entry = parse_registry(
                {kind: {language: {"variables": variables, "templates": [{"code": "x", "text": "x"}]}}}
            ).get(kind, language)
            assert entry is not None
            texts: dict[str, str] = {}
            for context, body in every_context(session, runtime, kind, language):
                rendered = entry.render(context)
                texts.setdefault(rendered.text, body)
            conditions = _conditions(kind, language)
            items = [name for name, spec in variables.items() if spec.get("items")]
            choice = (
                "one template: no condition"
                if len(texts) == 1
                else f"{len(texts)} templates, one for each text the conditions ({'; '.join(conditions)}) "
                "make: a part our text leaves out would be an empty variable, which the carrier refuses"
            )
            if items or any(re.search(r"\{%-?\s*for", spec["source"]) for spec in variables.values()):
                choice += "; a list is one variable an item (a template for each length)"
            if kind in FIXED:
                choice += "; the list of choices comes from config (trades.toml, sites.toml): fixed text"
            lines.append(f"choice = {_toml(choice)}")
            for name, spec in variables.items():
                fields = ", ".join(f"{key} = {_toml(value)}" for key, value in spec.items())
                lines.append(f"variables.{name} = {{ {fields} }}")
            old = existing.get(kind, language)
            for number, (text, body) in enumerate(texts.items(), start=1):
                code = f"SMS_{kind.upper()}_{language.upper()}" + (f"_{number}" if len(texts) > 1 else "")
                kept = old.by_text(text) if old is not None else None
                if kept is not None and kept.code.removeprefix("SMS_").isdigit():
                    code = kept.code
                sample = body.split("】", 1)[1] if language == "zh" else body.split(": ", 1)[1]
                lines += [
                    "",
                    f"[[{where}.templates]]",
                    f"code = {_toml(code)}",
                    f"text = {_toml(text)}",
                    f"sample = {_toml(sample)}",
                ]
    Path(TARGET).write_text("\n".join(lines) + "\n", encoding="utf-8")


HEADER = """\
# The templates the domestic carrier (Alibaba Cloud SMS, SMS_TRANSPORT=aliyun) sends for us: for each
# SMS template (dispatch/sms/templates/<language>/<kind>.txt) and language, its variables and the
# carrier templates (模板) its text can be. See dispatch/sms/carrier_templates.py; the carrier's rules
# are in dispatch/sms/carrier_rules.py; `dispatch sms templates` prints them for the console.
#
#   purpose:   申请说明, why we send it (for the carrier's review)
#   choice:    how our template's conditions are carried (a template for each text, never an empty
#              variable) and which parts are variables
#   variables.<name>: rule = the carrier's variable type (TemplateRule code), source = the piece of our
#              template it stands for, verbatim; items = true: a list, one variable an item
#   [[<kind>.<language>.templates]]: code = the carrier's template code, text = the template as applied
#              for (${name} for each variable, without the signature: the carrier puts 【签名】 first),
#              sample = the text with the longest values it can have
#   excluded:  why no carrier template can carry this kind
#
# THE CODES ARE PLACEHOLDERS (SMS_<KIND>_<LANG>[_<n>]) until the carrier approves each template: replace
# each with the code the console shows (SMS_ and digits). Production refuses to start with a placeholder
# while SMS_TRANSPORT=aliyun (docs/operations.md, "Carrier templates"). A change to one of our texts
# fails tests/sms/test_carrier_registry.py until its carrier template is drafted again
# (tests/sms/draft_carrier_templates.py) and applied for."""
