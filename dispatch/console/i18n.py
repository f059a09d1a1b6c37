"""The console's language: Chinese by default, English by a switch.

Texts live in `texts/<lang>.toml` of the console and of each of its areas (tickets/texts/zh.toml ...),
merged into one catalogue per language; a key names its area (`queue.title`, `intake.pay`).

Templates call `t("queue.title")` (with `{name}` fields filled from keyword arguments); dates, times,
durations and money are shown the way an agent of the market reads them.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, g, session

from dispatch.clock import utcnow
from dispatch.phones import display

LANGUAGES = ("zh", "en")
CONSOLE_DIR = Path(__file__).parent
_WEEKDAYS_ZH = "一二三四五六日"


@cache
def catalogue(language: str) -> dict[str, str]:
    """Flattened `section.key` → text for one language, from every area's texts file."""
    merged: dict[str, str] = {}
    for path in sorted(CONSOLE_DIR.glob(f"**/texts/{language}.toml")):
        with open(path, "rb") as handle:
            for key, text in flatten(tomllib.load(handle)):
                if key in merged:
                    raise ValueError(f"console text {key!r} is defined twice ({path})")
                merged[key] = text
    return merged


def flatten(table: dict[str, Any], prefix: str = ""):
    for key, value in table.items():
        if isinstance(value, dict):
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", str(value)


def current_language() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    agent = getattr(g, "agent", None)
    return agent.language if agent is not None and agent.language in LANGUAGES else "zh"


def translate(key: str, language: str | None = None, **fields: Any) -> str:
    """The text for `key`; a missing key shows itself (and a test keeps that from shipping)."""
    text = catalogue(language or current_language()).get(key)
    if text is None:
        return key
    return text.format(**fields) if fields else text


def translate_or(key: str, default: str, language: str | None = None) -> str:
    """The text for `key` when the catalogue has one, else `default` (for keys built from data)."""
    return catalogue(language or current_language()).get(key, default)


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.extensions["dispatch.runtime"].settings.MARKET_TIMEZONE)


def local_datetime(value: datetime | None, language: str | None = None) -> str:
    """`今天 08:05`, `11月28日 08:05` (zh) or `today 08:05`, `28 Nov 08:05` (en), in market time."""
    if value is None:
        return ""
    language = language or current_language()
    local = value.astimezone(_zone())
    today = utcnow().astimezone(_zone()).date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return f"{translate('format.today', language)} {clock}"
    if local.date() == today - timedelta(days=1):
        return f"{translate('format.yesterday', language)} {clock}"
    return f"{local_date(local.date(), language)} {clock}"


def local_date(value: date | None, language: str | None = None) -> str:
    """`11月29日 周日` (zh) or `Sun 29 Nov` (en)."""
    if value is None:
        return ""
    if (language or current_language()) == "en":
        return value.strftime("%a %d %b").replace(" 0", " ")
    return f"{value.month}月{value.day}日 周{_WEEKDAYS_ZH[value.weekday()]}"


def money(yuan: int | None, language: str | None = None) -> str:
    """Integer yuan: `300元` (zh), `¥300` (en)."""
    if yuan is None:
        return ""
    return translate("format.money", language, amount=f"{yuan:,}")


def waited(since: datetime | None, language: str | None = None) -> str:
    """How long something has waited: `12分钟`, `3小时5分钟`, `2天3小时` / `12 min`, `3 h 5 min`."""
    if since is None:
        return ""
    minutes = max(0, int((utcnow() - since).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return translate("format.days_hours", language, days=days, hours=hours)
    if hours:
        return translate("format.hours_minutes", language, hours=hours, minutes=minutes)
    return translate("format.minutes", language, minutes=minutes)


def install(app) -> None:
    app.jinja_env.globals.update(
        t=translate, t_or=translate_or, current_language=current_language, LANGUAGES=LANGUAGES
    )
    app.jinja_env.filters.update(
        local_datetime=local_datetime, local_date=local_date, money=money, waited=waited, phone=display
    )
