"""The floor's figures (the wallboard, /console/floor): callers waiting now per site, the longest wait,
agents by presence, and the market day's calls: answered, abandoned, called back, the average speed of
answer and the share answered within ANSWER_TARGET_SECONDS.

Read-only: plain queries over QueuedCall and AgentPresence, limited to the sites the viewer sees (an
agent their site and every site below it, dispatch/console/access.py). A caller belongs to the day
(market time, MARKET_TIMEZONE) they joined the queue in, whatever time they left it: a call is counted
once, in the day it was offered, as call-center reports count calls by the interval they arrived in.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from dispatch.i18n import market_zone
from dispatch.models import Agent, Site
from dispatch.models.callcenter import AgentPresence, Presence, QueuedCall, WaitStatus
from dispatch.settings import Settings

# The service level's target: the usual call-center target is 80 % of calls answered within 20 s.
ANSWER_TARGET_SECONDS = 20


class Lateness:
    """How late a wait is, for the board's colours: within the target, past it, past the overflow."""

    OK = "ok"
    LATE = "late"  # past ANSWER_TARGET_SECONDS
    OVERDUE = "overdue"  # past CALL_OVERFLOW_SECONDS: the caller is already offered to the town


def lateness(seconds: float | None, settings: Settings) -> str:
    if seconds is None or seconds < ANSWER_TARGET_SECONDS:
        return Lateness.OK
    return Lateness.OVERDUE if seconds >= settings.CALL_OVERFLOW_SECONDS else Lateness.LATE


@dataclass(frozen=True)
class SiteFloor:
    """One site's row on the board: its callers waiting now and its agents by presence."""

    site: Site
    waiting: int
    longest_wait_seconds: int | None  # None: nobody waiting
    agents: dict[Presence, int]


@dataclass(frozen=True)
class FloorFigures:
    now: datetime
    day: date  # the market day the "today" figures are for
    sites: list[SiteFloor]  # sites with a caller waiting or an agent not away, most waiting first
    waiting: int
    longest_wait_seconds: int | None
    agents: dict[Presence, int]  # every presence, zero included
    answered: int
    abandoned: int
    called_back: int  # callers who chose a call-back (the key, or nobody there)
    voicemail: int
    average_answer_seconds: float | None  # None: nobody answered yet today
    answered_within_target: float | None  # share of today's answered calls answered within the target
    target_seconds: int = ANSWER_TARGET_SECONDS
    lateness: str = field(default=Lateness.OK)


def market_day_bounds(day: date, settings: Settings) -> tuple[datetime, datetime]:
    """The market day as [midnight, next midnight) in market time (aware; compare with UTC columns)."""
    zone = market_zone(settings)
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def _site_ids(session: Session, viewer: Agent | Collection[int] | None) -> set[int] | None:
    if viewer is None:
        return None
    if isinstance(viewer, Agent):
        # Imported here: the console package imports its pages, the floor's among them, which import this.
        from dispatch.console.access import visible_site_ids

        return visible_site_ids(session, viewer)
    return set(viewer)


def _in_sites(column, site_ids: set[int] | None) -> ColumnElement[bool]:
    return true() if site_ids is None else column.in_(site_ids)


def floor_figures(
    session: Session, settings: Settings, agent_or_sites: Agent | Collection[int] | None, now: datetime
) -> FloorFigures:
    """The board for an agent (the sites they see), a set of site ids, or None (every site)."""
    site_ids = _site_ids(session, agent_or_sites)
    day = now.astimezone(market_zone(settings)).date()
    start, end = market_day_bounds(day, settings)

    waiting_rows = session.execute(
        select(QueuedCall.site_id, func.count(), func.min(QueuedCall.queued_at))
        .where(QueuedCall.status == WaitStatus.WAITING, _in_sites(QueuedCall.site_id, site_ids))
        .group_by(QueuedCall.site_id)
    ).all()
    presence_rows = session.execute(
        select(AgentPresence.site_id, AgentPresence.status, func.count())
        .where(_in_sites(AgentPresence.site_id, site_ids))
        .group_by(AgentPresence.site_id, AgentPresence.status)
    ).all()

    waits: dict[int, tuple[int, int]] = {}
    for site_id, count, oldest in waiting_rows:
        waits[site_id] = (count, max(0, int((now - oldest).total_seconds())))
    by_site: dict[int, dict[Presence, int]] = {}
    agents = dict.fromkeys(Presence, 0)
    for site_id, status, count in presence_rows:
        agents[status] += count
        if status != Presence.AWAY:
            by_site.setdefault(site_id, dict.fromkeys(Presence, 0))[status] = count

    shown = set(waits) | set(by_site)
    sites = {site.id: site for site in session.scalars(select(Site).where(Site.id.in_(shown)))}
    rows = [
        SiteFloor(
            site=sites[site_id],
            waiting=waits.get(site_id, (0, 0))[0],
            longest_wait_seconds=waits[site_id][1] if site_id in waits else None,
            agents=by_site.get(site_id, dict.fromkeys(Presence, 0)),
        )
        for site_id in shown
    ]
    rows.sort(key=lambda row: (-row.waiting, -(row.longest_wait_seconds or 0), row.site.code))
    longest = max((wait for _, wait in waits.values()), default=None)

    today = (
        _in_sites(QueuedCall.site_id, site_ids),
        QueuedCall.queued_at >= start,
        QueuedCall.queued_at < end,
    )
    outcomes = dict(
        session.execute(
            select(QueuedCall.status, func.count()).where(*today).group_by(QueuedCall.status)
        ).all()
    )
    answer_seconds = [
        max(0.0, (answered_at - queued_at).total_seconds())
        for queued_at, answered_at in session.execute(
            select(QueuedCall.queued_at, QueuedCall.answered_at).where(
                *today, QueuedCall.status == WaitStatus.ANSWERED, QueuedCall.answered_at.is_not(None)
            )
        )
        if answered_at is not None
    ]
    within = sum(1 for seconds in answer_seconds if seconds <= ANSWER_TARGET_SECONDS)
    return FloorFigures(
        now=now,
        day=day,
        sites=rows,
        waiting=sum(count for count, _ in waits.values()),
        longest_wait_seconds=longest,
        agents=agents,
        answered=outcomes.get(WaitStatus.ANSWERED, 0),
        abandoned=outcomes.get(WaitStatus.ABANDONED, 0),
        called_back=outcomes.get(WaitStatus.CALL_BACK, 0),
        voicemail=outcomes.get(WaitStatus.VOICEMAIL, 0),
        average_answer_seconds=sum(answer_seconds) / len(answer_seconds) if answer_seconds else None,
        answered_within_target=within / len(answer_seconds) if answer_seconds else None,
        lateness=lateness(longest, settings),
    )
