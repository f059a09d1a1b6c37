"""Reading an employer's one-line job request: `招 水电工 2人 明天 300元 太西`, `招水电工两人明天三百元太西`,
`NEED 2 plumber tomorrow 300 taixi`. Words it does not know are kept as the job's notes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.catalogue import find_site, find_trade
from dispatch.models import Site, Trade
from dispatch.sms.normalize import MAX_DIGITS, chinese_numeral_to_int
from dispatch.sms.registration import MAX_PAY, MIN_PAY

KEYWORDS = ("招工", "招聘", "招人", "招", "需要", "need", "hire", "hiring", "wanted", "want")
DEFAULT_HOUR = 8  # a request that names no start time starts at 8
MAX_DAYS_AHEAD = 90
_NUM = r"(?P<n>[0-9]+|[零〇一二两三四五六七八九十百千壹贰叁肆伍陆柒捌玖拾佰仟]+)"
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("date", re.compile(r"(?P<m>[0-9]{1,2})月(?P<n>[0-9]{1,2})(日|号)?")),
    ("pay", re.compile(r"(日薪|工资|工钱)" + _NUM + r"(元|块钱|块)?(一天|每天|天)?")),
    ("pay", re.compile(r"(每天|一天)?" + _NUM + r"(元|块钱|块|yuan|rmb)(一天|每天|天)?")),
    ("hour", re.compile(r"(?P<part>早上|上午|中午|下午|晚上)?" + _NUM + r"(点钟|点|am|pm)")),
    ("headcount", re.compile(_NUM + r"(个人|个|人|名|位)")),
    ("days", re.compile(_NUM + r"天")),
    ("day_word", re.compile(r"今天|今日|明天|明日|后天|today|tomorrow|tmrw|tmr")),
]
# A part of the day, before the hour (`下午2点`, `下午 2点`) or after it (`2pm`, `2 pm`).
_DAY_PARTS = frozenset({"早上", "上午", "中午", "下午", "晚上", "am", "pm"})
_UNIT_WORDS = {
    "headcount": {"worker", "workers", "people", "persons", "person", "ppl", "pax", "人"},
    "pay": {"yuan", "rmb", "cny", "元", "块"},
    "days": {"day", "days", "天"},
}
_FILLER = frozenset(
    {"a", "an", "the", "for", "at", "in", "on", "per", "each", "x", "start", "starting", "from"}
)
_DAY_WORDS = {"今天": 0, "今日": 0, "today": 0, "明天": 1, "明日": 1, "tomorrow": 1, "tmr": 1, "tmrw": 1} | {
    "后天": 2
}


@dataclass(frozen=True)
class Piece:
    kind: str  # a pattern's kind, "name" (a trade or a place) or "word"
    text: str
    match: re.Match[str] | None = None


@dataclass
class ParsedRequest:
    trade_id: int | None = None
    headcount: int | None = None
    work_date: date | None = None
    hour: int | None = None
    days: int | None = None
    pay: int | None = None
    site_id: int | None = None
    unknown: list[str] = field(default_factory=list)

    def missing(self) -> list[str]:
        """What a request cannot go without (headcount, hour, days and place have defaults)."""
        required = {"trade": self.trade_id, "date": self.work_date, "pay": self.pay}
        return [name for name, value in required.items() if value is None]


def has_started(work_date: date, hour: int, market_now: datetime, minute: int = 0) -> bool:
    """Whether work on `work_date` from `hour` o'clock (and `minute`: 30 for half past) would start at
    or before the market's current half hour (`market_now` in market time): a request for a time
    already gone by. For a whole hour this is "at or before the current hour"."""
    half = 30 if market_now.minute >= 30 else 0
    return (work_date, hour, minute) <= (market_now.date(), market_now.hour, half)


def strip_keyword(text: str) -> str | None:
    """The request without its leading 招/NEED, or None when it does not start with one."""
    lowered = text.casefold()
    for word in KEYWORDS:
        if lowered.startswith(word):
            rest = text[len(word) :]
            if word.isascii() and rest[:1].isalnum():
                continue  # `needle` is not `need`
            return rest.strip()
    return None


def parse_request(session: Session, text: str, today: date) -> ParsedRequest:
    parsed = ParsedRequest()
    pieces = _segment(session, text.casefold().split())
    for i, piece in enumerate(pieces):
        previous = pieces[i - 1] if i else None
        following = pieces[i + 1] if i + 1 < len(pieces) else None
        if piece.text in _DAY_PARTS and _part_of_an_hour(piece, previous, following):
            continue  # read with its hour
        part = previous.text if previous is not None and previous.text in _DAY_PARTS else None
        _take(session, parsed, piece, following.text if following else "", today, part)
    return parsed


def _part_of_an_hour(piece: Piece, previous: Piece | None, following: Piece | None) -> bool:
    """`下午` before an hour (`下午 2点`), or `pm` after a bare number (`2 pm`)."""
    if piece.text in {"am", "pm"}:
        return previous is not None and previous.text.isascii() and previous.text.isdigit()
    return following is not None and following.kind == "hour"


def clock_hour(hour: int, part: str | None) -> int:
    """The hour on the 24-hour clock: `下午2点`/`2pm` 14, `晚上12点`/`12am` 0, `中午12点`/`12pm` 12,
    `中午1点` 13; `早上`/`上午` (and no part at all) keep the hour as it is."""
    if part in {"下午", "晚上", "pm"}:
        if hour == 12:
            return 0 if part == "晚上" else 12
        return hour + 12 if hour < 12 else hour
    if part == "中午":
        return hour + 12 if hour < 6 else hour
    if part == "am" and hour == 12:
        return 0
    return hour


def _segment(session: Session, words: list[str]) -> list[Piece]:
    """Cut run-together Chinese (`水电工两人明天`) into known pieces; words with spaces stay as they are."""
    vocabulary = _vocabulary(session)
    pieces: list[Piece] = []
    for word in words:
        i, unknown = 0, ""
        while i < len(word):
            piece = _match_at(word, i, vocabulary)
            if piece is None:
                unknown += word[i]
                i += 1
                continue
            if unknown:
                pieces.append(Piece("word", unknown))
                unknown = ""
            pieces.append(piece)
            i += len(piece.text)
        if unknown:
            pieces.append(Piece("word", unknown))
    return pieces


def _vocabulary(session: Session) -> list[str]:
    names: set[str] = set()
    for trade in session.scalars(select(Trade)):
        names |= {trade.name_zh, *(k for k in trade.keywords if not k.isascii())}
    for site in session.scalars(select(Site)):
        names |= {site.name_zh, *(a for a in site.aliases if not a.isascii())}
    return sorted(names, key=len, reverse=True)  # the longest name wins: 太行西街 over 太西


def _match_at(word: str, i: int, vocabulary: list[str]) -> Piece | None:
    for kind, pattern in _PATTERNS:
        match = pattern.match(word, i)
        if match and (match.end() == len(word) or not word.isascii()):
            return Piece(kind, match.group(), match)
    if word.isascii():
        return Piece("word", word[i:])  # Latin words are separated by spaces already
    name = next((name for name in vocabulary if word.startswith(name, i)), None)
    return Piece("name", name) if name else None


def _number(text: str) -> int | None:
    if text.isascii() and text.isdigit():
        return int(text) if len(text) <= MAX_DIGITS else None  # int() refuses 4,301 digits
    return chinese_numeral_to_int(text)


def _take(
    session: Session,
    parsed: ParsedRequest,
    piece: Piece,
    following: str,
    today: date,
    part: str | None = None,
) -> None:
    """Read one piece; `part` is a part of the day just before it (`下午` in `下午 2点`)."""
    kind, value, match = piece.kind, piece.text, piece.match
    if match is not None and kind in {"headcount", "days", "pay", "hour"}:
        amount = _number(match.group("n"))
        if amount is not None and kind == "hour":
            suffix = value[-2:] if value[-2:] in {"am", "pm"} else None
            amount = clock_hour(amount, match.group("part") or suffix or part)
        _set(parsed, kind, amount, value)
    elif match is not None and kind == "date":
        _set(parsed, "work_date", _month_day(today, int(match.group("m")), int(match.group("n"))), value)
    elif kind == "day_word":
        _set(parsed, "work_date", today + timedelta(days=_DAY_WORDS[value]), value)
    elif value.isdigit() and value.isascii():
        if len(value) > MAX_DIGITS:
            parsed.unknown.append(value)  # no count, wage or hour
        else:
            _bare_number(parsed, int(value), following)
    elif (trade := _trade(session, value)) is not None and parsed.trade_id is None:
        parsed.trade_id = trade.id
    elif (site := find_site(session, value, by_number=False)) is not None and parsed.site_id is None:
        parsed.site_id = site.id
    elif not any(value in words for words in _UNIT_WORDS.values()) and value not in _FILLER:
        parsed.unknown.append(value)


def _set(parsed: ParsedRequest, attribute: str, value: int | date | None, text: str) -> None:
    if value is None or getattr(parsed, attribute) is not None or not _plausible(attribute, value):
        parsed.unknown.append(text)
        return
    setattr(parsed, attribute, value)


def _plausible(attribute: str, value: int | date) -> bool:
    if isinstance(value, date):
        return True
    limits = {"headcount": (1, 99), "days": (1, 60), "pay": (MIN_PAY, MAX_PAY), "hour": (0, 23)}
    low, high = limits[attribute]
    return low <= value <= high


def _bare_number(parsed: ParsedRequest, value: int, following: str) -> None:
    """`2 workers`, `300 yuan`, `3 days`, `2 pm`; alone, a small number is a headcount, a larger one
    the pay."""
    if following in {"am", "pm"}:
        _set(parsed, "hour", clock_hour(value, following), f"{value} {following}")
        return
    for attribute, words in _UNIT_WORDS.items():
        if following in words:
            _set(parsed, attribute, value, str(value))
            return
    if parsed.headcount is None and 1 <= value <= 99:
        parsed.headcount = value
    elif parsed.pay is None and MIN_PAY <= value <= MAX_PAY:
        parsed.pay = value
    else:
        parsed.unknown.append(str(value))


def _trade(session: Session, word: str) -> Trade | None:
    if word.isdigit():
        return None  # a bare number is a count or a wage, never a trade's menu number
    return find_trade(session, word) or (find_trade(session, word[:-1]) if word.endswith("s") else None)


def _month_day(today: date, month: int, day: int) -> date | None:
    """`12月5日`: this year's, or next year's when this year's has passed."""
    for year in (today.year, today.year + 1):
        try:
            wanted = date(year, month, day)
        except ValueError:
            return None
        if today <= wanted <= today + timedelta(days=MAX_DAYS_AHEAD):
            return wanted
    return None
