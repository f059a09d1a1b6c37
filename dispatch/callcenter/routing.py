"""Routing a caller who wants a person: the caller's site's agents first, then up the site tree.

A caller waits in the Twilio queue of their site (`queue_name`). The agents of that site may take
them at once; after CALL_OVERFLOW_SECONDS the town's agents too, after twice that the district's
(one level per CALL_OVERFLOW_SECONDS, up the chain village -> town -> district). A level with nobody
on duty costs no wait: the caller overflows past it at once (a village station with no agent on duty
means the town's agents take its callers at once, and the district's after one overflow wait), so a
market staffed only at the district answers a village caller within the hold limit. An agent never
takes a caller of a sibling site: only their own site's and those below it (as they see its tickets,
dispatch/console/access.py).
"""

from __future__ import annotations

import logging
from collections.abc import Container, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.models import (
    Agent,
    AgentPresence,
    Call,
    Employer,
    Presence,
    QueuedCall,
    Site,
    SiteLevel,
    Ticket,
    WaitStatus,
    Worker,
)
from dispatch.settings import Settings

log = logging.getLogger(__name__)

QUEUE_PREFIX = "agents-"
S = TypeVar("S")  # a site: its id here, its code in the simulation


def queue_name(site: Site) -> str:
    """The Twilio queue of a site's callers (at most 64 characters, as Twilio allows)."""
    return f"{QUEUE_PREFIX}{site.code}"[:64]


def site_chain(session: Session, site_id: int) -> list[Site]:
    """The site, its parent, its parent's parent ...: [village, town, district] for a village."""
    chain: list[Site] = []
    site = session.get(Site, site_id)
    while site is not None and site not in chain:  # `not in`: a cycle in a hand-edited tree stops
        chain.append(site)
        site = session.get(Site, site.parent_id) if site.parent_id is not None else None
    return chain


def _parents(session: Session) -> dict[int, int | None]:
    """Every site's parent, in one query (the tree is a few dozen rows)."""
    return {site_id: parent_id for site_id, parent_id in session.execute(select(Site.id, Site.parent_id))}


def _chain_ids(parents: dict[int, int | None], site_id: int) -> list[int]:
    chain: list[int] = []
    current: int | None = site_id
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain


def district(session: Session) -> Site:
    """The district market: where a caller who said nothing about where goes."""
    found = session.scalars(
        select(Site).where(Site.level == SiteLevel.DISTRICT, Site.parent_id.is_(None)).order_by(Site.id)
    ).first()
    if found is None:
        raise LookupError("no district site: run `dispatch seed`")
    return found


def caller_site(session: Session, call: Call) -> Site:
    """The caller's site: the employer's, else the worker's (known from the call, else by the caller's
    number), else the town or station the caller chose in the menu, else the district."""
    employer = session.get(Employer, call.employer_id) if call.employer_id else None
    worker = session.get(Worker, call.worker_id) if call.worker_id else None
    if employer is None and worker is None and call.phone:
        employer = session.scalar(select(Employer).where(Employer.phone == call.phone))
        worker = session.scalar(select(Worker).where(Worker.phone == call.phone))
    for site_id in (
        employer.site_id if employer is not None else None,
        worker.home_site_id if worker is not None else None,
        _chosen_site(call),
    ):
        if site_id is not None and (site := session.get(Site, site_id)) is not None:
            return site
    return district(session)


def _chosen_site(call: Call) -> int | None:
    raw = (call.answers or {}).get("site")
    try:
        return int(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None


def overflow_level(waited_seconds: int | float, settings: Settings) -> int:
    """How far up the chain a caller who has waited this long reaches: 0 their own site, 1 its parent ...
    (counting only levels with an agent on duty: see `reach`)."""
    return levels_waited(waited_seconds, settings.CALL_OVERFLOW_SECONDS)


def levels_waited(waited_seconds: int | float, overflow_seconds: int) -> int:
    return max(0, int(waited_seconds) // max(1, overflow_seconds))


def reach(
    chain: Sequence[S], waited_seconds: int | float, overflow_seconds: int, staffed: Container[S]
) -> list[S]:
    """The sites of the caller's chain whose agents may take them after this wait: up to the
    (level + 1)-th site with an agent on duty, the empty sites on the way included (they cost no
    overflow wait). The simulation (dispatch/simulation/callers.py) follows the same rule."""
    levels = levels_waited(waited_seconds, overflow_seconds)
    sites: list[S] = []
    for site in chain:
        sites.append(site)
        if site in staffed:
            if levels == 0:
                break
            levels -= 1
    return sites


def _reach(
    chain: list[int], waited_seconds: int | float | None, settings: Settings, staffed: set[int]
) -> list[int]:
    if waited_seconds is None:
        return chain
    return reach(chain, waited_seconds, settings.CALL_OVERFLOW_SECONDS, staffed)


ON_DUTY = (Presence.AVAILABLE, Presence.BUSY, Presence.WRAP_UP)


def _staffed(session: Session) -> set[int]:
    """The sites with an agent on duty (available, on a call or wrapping up)."""
    query = (
        select(AgentPresence.site_id)
        .join(Agent, Agent.id == AgentPresence.agent_id)
        .where(AgentPresence.status.in_(ON_DUTY), Agent.active.is_(True))
        .distinct()
    )
    return set(session.scalars(query))


def agents_reachable(
    session: Session, site_id: int, settings: Settings, waited_seconds: int | float | None = None
) -> int:
    """Agents on duty (available, on a call or wrapping up: not away) who may take a caller of this
    site: within the caller's overflow reach, or anywhere in the chain when `waited_seconds` is None
    (0 there: nobody on duty anywhere, so no hold). Busy agents count: they free up in minutes, and a
    caller who finds them all on calls waits, as in any call center's queue (Erlang C), rather than
    being sent to a call-back or the voicemail at once."""
    sites = _reach(_chain_ids(_parents(session), site_id), waited_seconds, settings, _staffed(session))
    if not sites:
        return 0
    count = session.scalar(
        select(func.count())
        .select_from(AgentPresence)
        .join(Agent, Agent.id == AgentPresence.agent_id)
        .where(
            AgentPresence.status.in_(ON_DUTY),
            AgentPresence.site_id.in_(sites),
            Agent.active.is_(True),
        )
    )
    return int(count or 0)


def queue_caller(session: Session, call: Call, ticket: Ticket | None, now: datetime) -> QueuedCall:
    """The caller starts waiting at their site's queue. A repeated webhook finds the wait it started."""
    waiting = _current(session, call.call_sid, WaitStatus.WAITING)
    if waiting is not None:
        if ticket is not None and waiting.ticket_id is None:
            waiting.ticket_id = ticket.id
        return waiting
    site = caller_site(session, call)
    queued = QueuedCall(
        call_id=call.id,
        call_sid=call.call_sid,
        site_id=site.id,
        queue_name=queue_name(site),
        ticket_id=ticket.id if ticket is not None else None,
        status=WaitStatus.WAITING,
        queued_at=now,
    )
    session.add(queued)
    session.flush()
    log.info("call %s waits for an agent at %s", call.call_sid, site.code)
    return queued


def current_wait(session: Session, call_sid: str) -> QueuedCall | None:
    """The caller's time in the queue still going on (waiting, or reserved by an agent), if any: what
    the hold prompt reads the place in the queue of."""
    return _current(session, call_sid.strip()[:64])


def _current(session: Session, call_sid: str, *statuses: WaitStatus) -> QueuedCall | None:
    """The caller's latest time in the queue that has not ended, if its status is one of `statuses`."""
    query = select(QueuedCall).where(QueuedCall.call_sid == call_sid, QueuedCall.left_at.is_(None))
    if statuses:
        query = query.where(QueuedCall.status.in_(statuses))
    return session.scalars(query.order_by(QueuedCall.queued_at.desc(), QueuedCall.id.desc()).limit(1)).first()


def _waiting(session: Session) -> list[QueuedCall]:
    query = select(QueuedCall).where(QueuedCall.status == WaitStatus.WAITING)
    return list(session.scalars(query.order_by(QueuedCall.queued_at, QueuedCall.id)))


def _waited(queued: QueuedCall, now: datetime) -> float:
    return max(0.0, (now - queued.queued_at).total_seconds())


def place_in_queue(session: Session, queued: QueuedCall, settings: Settings, now: datetime) -> int:
    """The caller's place: 1 + the callers who waited longer and whom an agent who may take this caller
    now may take too (longest wait first, so they go first)."""
    parents, staffed = _parents(session), _staffed(session)
    mine = set(_reach(_chain_ids(parents, queued.site_id), _waited(queued, now), settings, staffed))
    ahead = 0
    for other in _waiting(session):
        if other.id == queued.id:
            continue
        if (other.queued_at, other.id) > (queued.queued_at, queued.id):
            continue
        theirs = _reach(_chain_ids(parents, other.site_id), _waited(other, now), settings, staffed)
        ahead += bool(mine.intersection(theirs))
    return ahead + 1


def callers_for(session: Session, agent: Agent, settings: Settings, now: datetime) -> list[QueuedCall]:
    """The waiting callers this agent may take now, longest wait first: their own site's at once, a
    caller of a site n levels below theirs once the caller's overflow reaches n."""
    presence = session.get(AgentPresence, agent.id)
    agent_site = presence.site_id if presence is not None else agent.site_id
    parents, staffed = _parents(session), _staffed(session)
    return [
        queued
        for queued in _waiting(session)
        if agent_site in _reach(_chain_ids(parents, queued.site_id), _waited(queued, now), settings, staffed)
    ]


def caller_left(session: Session, call_sid: str, status: WaitStatus, now: datetime) -> QueuedCall | None:
    """The caller left the queue (the <Enqueue> action): answered, hung up, or out for a voicemail or a
    call-back. A caller an agent had reserved but Twilio never bridged counts by what happened to them."""
    from dispatch.callcenter.calls import bridged  # calls builds on routing

    queued = _current(session, call_sid)
    if queued is None:
        return None
    if status != WaitStatus.ANSWERED and queued.status == WaitStatus.ANSWERED and bridged(session, queued):
        status = WaitStatus.ANSWERED  # talked to an agent: the hang-up came after the conversation
    queued.status = status
    queued.left_at = now
    if status == WaitStatus.ANSWERED and queued.answered_at is None:
        queued.answered_at = now
    session.flush()
    return queued
