"""The page's language for the console and the simulator: Chinese by default, English by a switch.

The texts and labels are dispatch.i18n's; this adds what a page knows: the language the session chose
(or the agent's own), and dates, times, durations and money shown the way an agent of the market reads
them. Templates call `t("queue.title")` (with `{name}` fields filled from keyword arguments) and
`label(job.status)`.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, has_request_context, session
from markupsafe import Markup, escape

from dispatch import i18n
from dispatch.clock import utcnow
from dispatch.phones import display

_WEEKDAYS_ZH = "一二三四五六日"


def current_language() -> str:
    """The session's choice (the switch), else the signed-in agent's language, else the default."""
    if not has_request_context():
        return i18n.DEFAULT_LANGUAGE
    chosen = session.get("lang")
    if chosen in i18n.LANGUAGES:
        return chosen
    return i18n.pick_language(getattr(getattr(g, "agent", None), "language", None))


def translate(key: str, language: str | None = None, /, **fields: Any) -> str:
    """The text for `key` in `language`, else in the page's language."""
    return i18n.translate(key, language or current_language(), **fields)


def translate_or(key: str, default: str, language: str | None = None) -> str:
    """The text for `key` when the catalogue has one, else `default` (for keys built from data)."""
    return i18n.translate_or(key, default, language or current_language())


def label(value: enum.Enum | None, language: str | None = None) -> str:
    """The name of a stored enum value in the page's language (`label(job.status)`)."""
    return i18n.label(value, language or current_language())


def flow_label(flow: str | None, language: str | None = None) -> str:
    return i18n.flow_label(flow, language or current_language())


def step_label(step: str | None, language: str | None = None) -> str:
    return i18n.step_label(step, language or current_language())


def value_label(group: str, raw: str | None, language: str | None = None) -> str:
    """The name of a value kept as a string in stored details (`value_label('wage_case_status', s)`)."""
    return i18n.label_for(group, raw, language or current_language())


def _zone() -> ZoneInfo:
    return i18n.market_zone(current_app.extensions["dispatch.runtime"].settings)


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


def tel(e164: str | None) -> Markup:
    """A phone number as an agent sees it (national format) inside a `tel:` link, so a click or a tap
    on the agent's softphone or desk phone dials it."""
    if not e164:
        return Markup("")
    return Markup('<a href="tel:{}" class="tel">{}</a>').format(e164, display(e164))


def translate_html(key: str, /, **fields: Any) -> Markup:
    """`t()` for a sentence with markup in it (a `tel:` link): the text escaped, the fields put in as
    they are (a plain string is escaped, Markup kept)."""
    marks = {name: f"\x00{name}\x00" for name in fields}
    text = str(escape(translate(key, **marks)))
    for name, value in fields.items():
        text = text.replace(marks[name], str(escape(value)))
    return Markup(text)


# What every page template may call (the console's and the simulator's).
TEMPLATE_GLOBALS = {
    "t": translate,
    "t_or": translate_or,
    "t_html": translate_html,
    "label": label,
    "flow_label": flow_label,
    "step_label": step_label,
    "value_label": value_label,
    "current_language": current_language,
    "LANGUAGES": i18n.LANGUAGES,
}


def install(app: Flask) -> None:
    app.jinja_env.globals.update(TEMPLATE_GLOBALS)
    app.jinja_env.filters.update(
        local_datetime=local_datetime,
        local_date=local_date,
        money=money,
        waited=waited,
        phone=display,
        tel=tel,
    )
