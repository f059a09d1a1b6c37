"""Keywords: a greeting or "I want work" from a stranger (how to register), "I want to hire" (how to
post a job), and a registered worker's "I want work" with a trade perhaps (`找活 水电工`: the jobs near
them). Read on the normalised text, casefolded.
"""

from __future__ import annotations

from dispatch.sms.normalize import chinese_numeral_to_int

GREETINGS = frozenset(
    {"你好", "您好", "你好啊", "您好啊", "你们好", "老板好", "在吗", "在不在", "有人吗", "喂", "hi", "hello"}
)
SEEKING_WORK = frozenset(
    {"找活", "找活干", "找工作", "找零工", "我要找工作", "我要找活", "我想找活", "想找活", "我想找工作"}
    | {"有活吗", "有活干吗", "有工作吗", "有没有活", "求职", "打零工", "job", "jobs", "work"}
)
HIRING = frozenset(
    {"招工", "招人", "我要招工", "我要招人", "找工人", "要人", "请人", "招聘", "用工", "hire", "need"}
)


def key(text: str) -> str:
    """The text as these words are compared: casefolded, without spaces."""
    return "".join(text.casefold().split())


def greets_or_seeks_work(text: str) -> bool:
    word = key(text)
    return word in GREETINGS or word in SEEKING_WORK


def work_asked_for(text: str) -> str | None:
    """`找活` gives "", `找活 水电工` or `找活水电工` gives "水电工"; None when the text asks for no work."""
    folded = text.casefold().strip()
    if key(folded) in SEEKING_WORK:
        return ""
    for word in sorted(SEEKING_WORK, key=len, reverse=True):
        if folded.startswith(word) and not word.isascii():
            rest = folded[len(word) :].strip()
            return rest if rest and " " not in rest else None
    return None


def asks_to_hire(text: str) -> bool:
    return key(text) in HIRING


POLICY = ("政策咨询", "查政策", "政策", "policies", "policy")  # longest first: 政策咨询 before 政策


def policy_asked(text: str) -> int | None:
    """`政策` gives 0 (the menu), `政策 2`, `政策2`, `政策二` or `policy 2` gives 2; None when it asks no
    policy (the parser turns only a numeral standing alone into digits: 政策二 is read here)."""
    word = key(text)
    for start in POLICY:
        if word.startswith(start):
            rest = word[len(start) :]
            if not rest:
                return 0
            if rest.isascii() and rest.isdigit() and len(rest) == 1:
                return int(rest)
            number = chinese_numeral_to_int(rest)
            return number if number is not None and 0 < number < 10 else None
    return None


def menu_digit(text: str) -> int | None:
    """A bare digit `1`..`9` (an answer to a numbered menu), else None."""
    word = key(text)
    return int(word) if len(word) == 1 and word.isascii() and word.isdigit() and word != "0" else None


EVENTS_OFF = frozenset(
    {"退订活动", "退订活动通知", "不要活动通知", "unsubevents", "unsubscribeevents", "stopevents"}
)
EVENTS_ON = frozenset({"订阅活动", "订阅活动通知", "startevents", "subscribeevents"})
SIGN_UP = ("报名", "signup")
CANCEL_SIGN_UP = ("取消报名", "cancelsignup", "cancelsignupfor")


def events_off(text: str) -> bool:
    """`退订活动` (`unsubscribe events`): no more event texts, job offers still."""
    return key(text) in EVENTS_OFF


def events_on(text: str) -> bool:
    return key(text) in EVENTS_ON


def sign_up_for(text: str) -> int | None:
    """`报名 7`, `报名7`, `signup 7`, `sign up 7`: the event's number; None when it is not a sign-up."""
    return _event_number(text, SIGN_UP)


def sign_up_cancelled_for(text: str) -> int | None:
    """`取消报名 7`, `cancel signup 7`: the event's number; None when it is not a cancellation."""
    return _event_number(text, CANCEL_SIGN_UP)


def _event_number(text: str, starts: tuple[str, ...]) -> int | None:
    word = key(text)
    for start in starts:
        rest = word[len(start) :] if word.startswith(start) else ""
        if rest.isascii() and rest.isdigit() and len(rest) <= 9:
            return int(rest)
    return None
