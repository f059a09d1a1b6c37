"""Keywords a stranger texts first: a greeting or "I want work" (how to register), "I want to hire"
(how to post a job). Read on the normalised text with its spaces taken out (`找 活` is `找活`).

A registered worker's `找活` is not a stranger's: it is left to the rows below (an agent, for now).
"""

from __future__ import annotations

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


def asks_to_hire(text: str) -> bool:
    return key(text) in HIRING
