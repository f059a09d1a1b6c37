"""What a text message says: one of the channel's commands, or free text for a dialogue."""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass, field

from dispatch.sms.normalize import normalize, numerals_to_digits


class CommandKind(enum.StrEnum):
    OPT_OUT = "opt_out"  # STOP, 退订 ...: one confirmation, then silence
    OPT_IN = "opt_in"  # START, 订阅 ...
    HELP = "help"
    LANGUAGE = "language"  # EN / 中文
    REGISTER = "register"  # 注册 [trade area pay name]
    PAUSE = "pause"  # 忙 / BUSY: no offers for now
    RESUME = "resume"  # 空 / FREE
    PROFILE = "profile"  # 我的 / ME
    TEXT = "text"  # anything else: a dialogue answer, or something an agent must read


# Carriers' and Twilio's opt-out words, and China's (拒收 is often sent as R).
OPT_OUT_WORDS = frozenset(
    {"stop", "unsubscribe", "end", "quit", "stopall", "revoke", "optout", "cancel", "退订", "td", "t", "r"}
    | {"取消订阅", "退订短信"}
)
# Chinese carriers' codes (回复TD退订, R拒收): a number whose first message is one of these reads Chinese.
CHINESE_OPT_OUT_WORDS = frozenset({"退订", "td", "t", "r", "取消订阅", "退订短信"})
OPT_IN_WORDS = frozenset({"start", "unstop", "订阅"})
HELP_WORDS = frozenset({"help", "帮助", "?", "info", "菜单"})
LANGUAGE_WORDS = {
    "en": "en",
    "english": "en",
    "英文": "en",
    "中文": "zh",
    "zh": "zh",
    "cn": "zh",
    "汉语": "zh",
}
PAUSE_WORDS = frozenset({"忙", "busy", "暂停"})
RESUME_WORDS = frozenset({"空", "free", "有空", "恢复"})
PROFILE_WORDS = frozenset({"我的", "me", "资料"})
REGISTER_WORDS = ("注册", "登记", "reg", "join")
_CARRIER_SIGNATURE = re.compile(r"【[^】]*】")


@dataclass(frozen=True)
class Command:
    kind: CommandKind
    text: str  # the normalised message, Chinese numerals as digits
    args: list[str] = field(default_factory=list)
    language: str | None = None  # the language asked for (EN/中文), or implied (TD)


def parse(raw: str) -> Command:
    # "?" alone is a request for help, but normalising strips punctuation: look before it does.
    light = _CARRIER_SIGNATURE.sub("", unicodedata.normalize("NFKC", raw or "")).strip()
    text = numerals_to_digits(normalize(raw or ""))
    key = text.casefold()
    if light in {"?", "??"} or key in HELP_WORDS:
        return Command(CommandKind.HELP, text)
    if key in OPT_OUT_WORDS:
        return Command(CommandKind.OPT_OUT, text, language="zh" if key in CHINESE_OPT_OUT_WORDS else None)
    if key in OPT_IN_WORDS:
        return Command(CommandKind.OPT_IN, text)
    if key in LANGUAGE_WORDS:
        return Command(CommandKind.LANGUAGE, text, language=LANGUAGE_WORDS[key])
    if key in PAUSE_WORDS:
        return Command(CommandKind.PAUSE, text)
    if key in RESUME_WORDS:
        return Command(CommandKind.RESUME, text)
    if key in PROFILE_WORDS:
        return Command(CommandKind.PROFILE, text)
    args = _register_args(text)
    if args is not None:
        return Command(CommandKind.REGISTER, text, args=args)
    return Command(CommandKind.TEXT, text, args=text.split())


def _register_args(text: str) -> list[str] | None:
    tokens = text.split()
    if not tokens:
        return None
    first = tokens[0].casefold()
    if first in REGISTER_WORDS:
        return tokens[1:]
    for word in ("注册", "登记"):  # 注册水电工 typed without a space
        if first.startswith(word):
            return [first[len(word) :], *tokens[1:]]
    return None
