"""Alibaba Cloud SMS's rules for a notification template (通知短信) and its variables, in one place: the
registry (carrier_templates.py), the transport (aliyun.py), `dispatch sms templates` and the registry
test all read them from here.

Where each rule comes from (read 2026-12; the carrier changes them "with the regulator's and operators'
requirements", so a refusal from review or from SendSms outranks this file):

[T] 通知短信模板规范, help.aliyun.com/document_detail/463270.htm ("Notification message template
    specifications", help.aliyun.com/en/sms/user-guide/notification-template-specifications):
    content 1-500 characters including the variables; the signature sits in 【】 before the content, so
    【】 may not appear anywhere in it and [ ] not at its start or end; no traditional characters and no
    special symbols (體 # 『』「」〖〗 m² • ① ★ ※ →); no marketing in a notification and no "拒收请回复R";
    a contact number only a landline, 400 or 95 number, at most 2 a template; listed businesses refused
    (among them 兼职, 招聘推广, 邀请注册, 用户拉新).
[R] TemplateRule&TemplateContent参数填写示例, help.aliyun.com/document_detail/2806243.html
    (CreateSmsTemplate's TemplateRule: each variable's type by its code): phone_number2 (电话号码: a
    mainland landline of 5-13 digits and hyphens, at most 15 characters, or a mobile number of 11
    digits starting with 1); time (时间: a Gregorian date or time such as YYYY-MM-DD, hh:mm,
    hh:mm:ss, hhmm, 上午/下午/晚上, no underscores);
    money (金额); name (姓名); other_number2 (其他号码, e.g. an order number); others (其他).
[L] The length of a notification template's variable: 1-35 characters since 2018-01-10 (Alibaba Cloud's
    answer at developer.aliyun.com/ask/220871; [R]'s own table was not read past its time type, so
    the lengths of name and money are taken as this general limit, not a type's own). A value may not be
    empty: the carrier fills nothing, so an optional part is a separate template, never an empty value.
[C] 短信内容长度计算规则 (linked from [T]): every character counts as one, Chinese or not, the signature
    with its 【】 included; up to 70 characters is one message, a longer one is billed in parts of 67.
[U] Links: [T]'s 链接规范 allows a fixed link in the template's text only; a variable never holds one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

MAX_TEMPLATE_CHARS = 500  # [T] the content, variables included
MAX_VARIABLE_CHARS = 35  # [L]
MAX_VARIABLES = 20  # [R] the console takes at most 20 variables a template
SINGLE_MESSAGE_CHARS = 70  # [C]
PART_CHARS = 67  # [C]
# Our own budget on the carrier, as on Twilio: a Chinese text at most 2 parts (it is 134 UCS-2 units
# there, the same 2 x 67), an English one at most 3 (160 GSM-7 characters plus the carrier's 【签名】,
# all of them counted alike).
MAX_PARTS = {"zh": 2, "en": 3}
TEMPLATE_TYPE = "通知短信"  # every text we send is a notification ([T]); none is a captcha or marketing

URL = re.compile(r"(?:https?://|www\.)|\b[a-z0-9-]+\.(?:com|cn|net|org|top|xyz|cc|io)\b", re.IGNORECASE)
SPECIAL = re.compile(r"[#『』「」〖〗²•①②③④⑤⑥⑦⑧⑨⑩★※→]")  # [T]
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
TRADITIONAL = re.compile(r"[體個們這過來時會說對開關門車東見長電話號鐘錢區]")  # [T] a sample, not a list
# Words the review refuses ([T]'s list of businesses, and its opt-out wording); a text holding one is
# reported as a review risk (`dispatch sms templates` prints it), see REVIEW_RISKS.
REVIEW_WORDS = ("兼职", "拒收请回复R", "退订回R", "加微信", "加QQ", "邀请注册", "招聘")


@dataclass(frozen=True)
class Rule:
    code: str  # the carrier's TemplateRule code
    label: str  # the variable type as the console names it
    check: Callable[[str], str | None]  # a problem with a value, or None
    compact: bool = False  # sent without spaces: our texts show 138 0013 8000, the carrier takes digits

    def send(self, shown: str) -> str:
        """The value as the carrier takes it, from the value as our text shows it."""
        return shown.replace(" ", "") if self.compact else shown

    def problem(self, value: str) -> str | None:
        """Why the carrier refuses `value` for a variable of this type, or None."""
        if not value:
            return "empty (the carrier fills no empty variable) [L]"
        if len(value) > MAX_VARIABLE_CHARS:
            return f"{len(value)} characters, more than {MAX_VARIABLE_CHARS} [L]"
        if URL.search(value):
            return "holds a link [U]"
        if "【" in value or "】" in value:
            return "holds 【】 [T]"
        return self.check(value)


def _digits_or_letters(value: str) -> str | None:
    return None if re.fullmatch(r"[A-Za-z0-9]+", value) else "not digits or letters only [R]"


def _phone(value: str) -> str | None:
    if re.fullmatch(r"1\d{10}", value):
        return None
    if re.fullmatch(r"[0-9-]{5,15}", value) and 5 <= sum(ch.isdigit() for ch in value) <= 13:
        return None
    return "not a mobile (11 digits, 1...) nor a landline (5-13 digits and hyphens) [R]"


_TIMES = (r"\d{1,2}:\d{2}(:\d{2})?", r"\d{4}-\d{2}-\d{2}( \d{1,2}:\d{2})?", r"\d{4}/\d{2}/\d{2}", r"\d{8}")


def _time(value: str) -> str | None:
    return None if any(re.fullmatch(form, value) for form in _TIMES) else "not a date or time form [R]"


def _money(value: str) -> str | None:
    # [R]: the currency (元, ¥) is the template's fixed text, the variable the amount only.
    return None if re.fullmatch(r"\d+(\.\d{1,2})?", value) else "not an amount (digits) [R]"


def _name(value: str) -> str | None:
    if MOBILE.search(value) or any(ch.isdigit() for ch in value):
        return "a name with digits [R]"
    return None if re.fullmatch(r"[\w·. '-]+", value) else "not a name [R]"


def _others(value: str) -> str | None:
    # [T]: no mobile number outside a phone variable (a contact must be a typed, checkable number).
    if MOBILE.search(value.replace(" ", "")):
        return "holds a mobile number (use a phone_number2 variable) [T]"
    if SPECIAL.search(value):
        return "holds a special symbol [T]"
    return None


RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        Rule("other_number2", "其他号码", _digits_or_letters),
        Rule("phone_number2", "电话号码", _phone, compact=True),
        Rule("time", "时间", _time),
        Rule("money", "金额", _money),
        Rule("name", "姓名", _name),
        Rule("others", "其他", _others),
    )
}


def template_problems(text: str) -> list[str]:
    """What the carrier's review refuses in a template's text (${name} variables in it), by [T]."""
    problems = []
    if not 1 <= len(text) <= MAX_TEMPLATE_CHARS:
        problems.append(f"{len(text)} characters, not 1-{MAX_TEMPLATE_CHARS} [T]")
    if "【" in text or "】" in text:
        problems.append("holds 【】, which only the signature may [T]")
    if text.startswith("[") or text.endswith("]"):
        problems.append("starts or ends with [ ] [T]")
    for pattern, why in ((SPECIAL, "a special symbol"), (TRADITIONAL, "a traditional character")):
        found = pattern.search(re.sub(r"\$\{\w+\}", "", text))
        if found:
            problems.append(f"holds {why} {found.group()!r} [T]")
    if URL.search(text):
        problems.append("holds a link [U]")
    variables = re.findall(r"\$\{(\w+)\}", text)
    if len(set(variables)) > MAX_VARIABLES:
        problems.append(f"{len(set(variables))} variables, more than {MAX_VARIABLES} [R]")
    if variables and not re.sub(r"\$\{\w+\}|\s", "", text):
        problems.append("variables only: the fixed text must say what the message is [T]")
    return problems


def review_risks(text: str) -> list[str]:
    """What in a template [T]'s review may refuse (reported, not refused here): its listed words, and
    a mobile number in the fixed text (an example of what to type, not a contact, but [T] refuses
    mobile numbers as contacts)."""
    risks = [word for word in REVIEW_WORDS if word in text]
    mobile = MOBILE.search(re.sub(r"\$\{\w+\}|\s", "", text))
    return risks + ([f"mobile number {mobile.group()}"] if mobile else [])


def billed_parts(message: str) -> int:
    """How many messages the carrier bills for `message` (its 【signature】 included), by [C]."""
    if len(message) <= SINGLE_MESSAGE_CHARS:
        return 1
    return -(-len(message) // PART_CHARS)
