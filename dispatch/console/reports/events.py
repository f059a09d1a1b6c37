"""The hall's report: events (training camps, policy talks, job fairs, announcements), their texts,
sign-ups and attendance, per site and per kind, over the weeks chosen. An event counts in the period
its start falls in (an announcement, which has none, when it was made); its sign-ups and attendance
count with it, whenever they were taken."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from dispatch.models import Event, EventKind, EventSignup, Outreach, SignupStatus, Site


@dataclass
class EventFigures:
    events: int = 0
    texts: int = 0  # outreach texts queued to workers
    signed_up: int = 0  # 报名 (a place or the waiting list), walk-ins not included
    waiting: int = 0  # still on the waiting list
    cancelled: int = 0
    came: int = 0
    completed: int = 0  # trainings finished
    walk_ins: int = 0

    def add(self, other: EventFigures) -> None:
        for name in (f.name for f in fields(self)):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class EventReport:
    sites: list[Site]
    kinds: list[EventKind]
    cells: dict[tuple[int, EventKind], EventFigures]

    def site_total(self, site_id: int) -> EventFigures:
        found = EventFigures()
        for kind in self.kinds:
            found.add(self.cells.get((site_id, kind), EventFigures()))
        return found

    def kind_total(self, kind: EventKind) -> EventFigures:
        found = EventFigures()
        for site in self.sites:
            found.add(self.cells.get((site.id, kind), EventFigures()))
        return found

    def total(self) -> EventFigures:
        found = EventFigures()
        for cell in self.cells.values():
            found.add(cell)
        return found

    def rows(self, site: Site) -> list[tuple[EventKind, EventFigures]]:
        return [(kind, self.cells[(site.id, kind)]) for kind in self.kinds if (site.id, kind) in self.cells]

    @property
    def active_sites(self) -> list[Site]:
        return [site for site in self.sites if any((site.id, kind) in self.cells for kind in self.kinds)]


def _in_period(start: datetime, end: datetime) -> ColumnElement[bool]:
    when = func.coalesce(Event.starts_at, Event.created_at)
    return (when >= start) & (when < end)


def build(db: Session, sites: list[Site], start: datetime, end: datetime) -> EventReport:
    site_ids = [site.id for site in sites]
    scope = Event.site_id.in_(site_ids) & _in_period(start, end)
    cells: dict[tuple[int, EventKind], EventFigures] = {}

    def cell(site_id: int, kind: EventKind) -> EventFigures:
        return cells.setdefault((site_id, kind), EventFigures())

    for site_id, kind, count in db.execute(
        select(Event.site_id, Event.kind, func.count()).where(scope).group_by(Event.site_id, Event.kind)
    ):
        cell(site_id, kind).events = count
    texts = (
        select(Event.site_id, Event.kind, func.coalesce(func.sum(Outreach.sent), 0))
        .join(Outreach, Outreach.event_id == Event.id)
        .where(scope)
        .group_by(Event.site_id, Event.kind)
    )
    for site_id, kind, sent in db.execute(texts):
        cell(site_id, kind).texts = int(sent)
    not_walk_in = EventSignup.walk_in.is_(False)
    signups = (
        select(
            Event.site_id,
            Event.kind,
            func.count().filter(not_walk_in),
            func.count().filter(EventSignup.status == SignupStatus.WAITING),
            func.count().filter(EventSignup.status == SignupStatus.CANCELLED),
            func.count(EventSignup.attended_at),
            func.count(EventSignup.completed_at),
            func.count().filter(EventSignup.walk_in.is_(True)),
        )
        .join(EventSignup, EventSignup.event_id == Event.id)
        .where(scope)
        .group_by(Event.site_id, Event.kind)
    )
    for site_id, kind, signed_up, waiting, cancelled, came, completed, walk_ins in db.execute(signups):
        found = cell(site_id, kind)
        found.signed_up, found.waiting, found.cancelled = signed_up, waiting, cancelled
        found.came, found.completed, found.walk_ins = came, completed, walk_ins
    return EventReport(sites, list(EventKind), cells)
