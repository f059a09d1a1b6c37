"""Reading a worker's answer to an offer: `1 123`, `Y 123`, `接123`, `好的 123`, `2 123`, `没空`,
`不去了`, `取消 123`, `CANCEL 123`; and `1101` (a yes glued to code 101), which only the worker's open
offers can tell from a number.

The parser has already normalised the text (full-width forms, punctuation, 【】, Chinese numerals).
The words are those workers text in the market (tests/inbound/test_reply_corpus.py keeps a corpus of
them): a bare word, with the particles people end a sentence with (好的呀, 不去了, 可以啊) and the
我/俺 they start one with (我去, 俺不去了) read through.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from dispatch.sms.normalize import NUMERAL_CHARACTERS, chinese_numeral_to_int


class Answer(enum.StrEnum):
    YES = "yes"
    NO = "no"
    CANCEL = "cancel"  # give back a place (or, for an offer not yet taken, a no)


# fmt: off
YES_WORDS = (
    "1", "y", "yes", "ok", "okay", "是", "是的", "对", "对的", "嗯", "嗯嗯", "恩", "恩恩", "接", "我接",
    "接单", "接了", "好", "好的", "好嘞", "好滴", "好勒", "可以", "行", "行的", "能行", "要", "要了",
    "要得", "得行", "成", "中", "没问题", "能去", "去", "去的", "能来", "来", "我来", "愿意", "报名",
    "抢单",
)
NO_WORDS = (
    "2", "n", "no", "不", "否", "没空", "不接", "不要", "不去", "不行", "没时间", "算了", "pass",
    "不了", "不用", "不用了", "去不了", "来不了", "不来", "不能去", "不能来", "有事", "没空去",
    "不方便", "不干", "干不了", "不做", "不想去", "太远", "钱太少", "太少", "不合适", "下次", "下次吧",
    "改天", "没法去",
)
# fmt: on
ANSWER_WORDS: dict[str, Answer] = {
    **dict.fromkeys(YES_WORDS, Answer.YES),
    **dict.fromkeys(NO_WORDS, Answer.NO),
    **dict.fromkeys(["取消", "cancel"], Answer.CANCEL),
}
# What people end a sentence with (好的呀, 不去了, 可以啊) or put first (我去, 俺不去了), read through.
_ENDING = re.compile(r"(?:[了的啊呀吧呢哈哦噢嘞啦呐]|谢谢|谢了|老板|师傅)$")
_OPENINGS = ("嗯嗯", "嗯", "哦", "噢", "啊", "我", "俺", "咱")
# Words that come with an answer and change nothing (`不去 谢谢`, `好的 老板`).
_POLITE = frozenset({"谢谢", "谢了", "谢谢你", "谢谢老板", "老板", "师傅", "哈", "哈哈", "嗯", "嗯嗯"})
_CODE_MARK = re.compile(r"(\d)号")  # `1 101号`: the job's number said with 号
CODE = re.compile(r"\d{3,8}")
_WORDS_BY_LENGTH = sorted((re.escape(w) for w in ANSWER_WORDS if not w.isdigit()), key=len, reverse=True)
# `接123`, `y123`, `取消123`: a word glued to a code (digits alone are never split here: see glued_digits()).
_GLUED = re.compile("^(" + "|".join(_WORDS_BY_LENGTH) + r")(\d{3,8})$")
_SPOKEN_CODE = re.compile("^(" + "|".join(_WORDS_BY_LENGTH) + ")([" + NUMERAL_CHARACTERS + "]{3,})号?$")
# `1101`: a 1 or 2 glued to a code of three to eight digits.
_GLUED_DIGITS = re.compile(r"^([12])(\d{3,8})$")


@dataclass(frozen=True)
class Reply:
    answer: Answer
    code: str | None


def answer_word(token: str) -> Answer | None:
    """The answer a single word gives (casefolded), read through what people put around it: an
    interjection or 我 first (嗯好的, 我去), a particle or thanks last (不去了, 好的谢谢), the word said twice
    over by voice input (好的好的)."""
    for word in _readings(token):
        if word in ANSWER_WORDS:
            return ANSWER_WORDS[word]
    return None


def _readings(token: str) -> list[str]:
    readings = [token]
    for opening in _OPENINGS:
        if token.startswith(opening) and len(token) > len(opening):
            readings.append(token[len(opening) :])
            break
    readings += [shorter for word in list(readings) for shorter in _without_endings(word)]
    readings += [_once(word) for word in list(readings)]
    return [word for word in readings if word and not (word.isdigit() and word != token)]


def _without_endings(word: str) -> list[str]:
    """`算了吧` as `算了` and `算`: one ending off at a time (算了 is a word, 算 is not)."""
    shorter = []
    while (match := _ENDING.search(word)) is not None and match.start() > 0:
        word = word[: match.start()]
        shorter.append(word)
    return shorter


def _once(word: str) -> str:
    """`好的好的` as `好的`, `行行行` as `行`: a word said over and over, once."""
    for times in (4, 3, 2):
        if len(word) % times == 0 and word == word[: len(word) // times] * times:
            return word[: len(word) // times]
    return word


def read_reply(text: str) -> Reply | None:
    """The answer in a normalised text, or None when the text is not an answer to an offer: one answer
    said once or more (`好的 好的`), with at most one code, apart (`1 123`, `123 好`) or glued to a word
    (`接123`, `接一二三`); politeness (`谢谢`, `老板`) aside. Mixed answers (`好 不去`) are no answer."""
    tokens = _CODE_MARK.sub(r"\1", text).casefold().split()
    tokens = [token for token in tokens if token not in _POLITE] or tokens
    if not 1 <= len(tokens) <= 3:
        return None
    codes = [token for token in tokens if CODE.fullmatch(token)]
    glued = [match for match in map(_GLUED.match, map(_spoken_code, tokens)) if match is not None]
    if len(codes) + len(glued) > 1:
        return None
    words = [token for token in tokens if not CODE.fullmatch(token)]
    answers = {answer_word(token) for token in words}
    if glued:
        match = glued[0]
        answers = {answer_word(token) for token in words if not _GLUED.match(_spoken_code(token))}
        answers.add(ANSWER_WORDS[match.group(1)])
        code: str | None = match.group(2)
    else:
        code = codes[0] if codes else None
    if len(answers) != 1 or None in answers:
        return None
    (answer,) = answers
    assert answer is not None
    return Reply(answer, code)


def _spoken_code(token: str) -> str:
    """`要一零一` (voice input writes the code in words) as `要101`."""
    spoken = _SPOKEN_CODE.match(token)
    if spoken is None:
        return token
    number = chinese_numeral_to_int(spoken.group(2))
    return token if number is None else f"{spoken.group(1)}{number}"


def glued_digits(text: str) -> Reply | None:
    """`1101` as a yes to 101, `2101` a no: only a reading, for the worker's open offers to confirm
    (a code of 1101 itself, or a registration's wage of 1200, looks the same)."""
    glued = _GLUED_DIGITS.match(text.strip())
    if glued is None:
        return None
    return Reply(ANSWER_WORDS[glued.group(1)], glued.group(2))
