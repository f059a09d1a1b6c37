"""Which sites an agent may see: their own and every site below it (an admin: all of them).

Rows with no site (a text from an unknown number, a call that never said where) belong to the
district market, so district agents and admins see them.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import abort
from sqlalchemy import ColumnElement, SQLColumnExpression, false, or_, select, true
from sqlalchemy.orm import Session

from dispatch.models import Agent, AgentRole, Site, SiteLevel

# A model whose rows belong to a site (`site_id`): tickets, jobs, wage cases.
Sited = TypeVar("Sited", bound=Any)


def visible_site_ids(session: Session, agent: Agent) -> set[int] | None:
    """The ids of the sites the agent works for; None means every site."""
    if agent.role == AgentRole.ADMIN:
        return None
    children: dict[int | None, list[int]] = {}
    for site_id, parent_id in session.execute(select(Site.id, Site.parent_id)):
        children.setdefault(parent_id, []).append(site_id)
    visible, frontier = set(), [agent.site_id]
    while frontier:
        site_id = frontier.pop()
        if site_id not in visible:
            visible.add(site_id)
            frontier.extend(children.get(site_id, []))
    return visible


def sees_unplaced(session: Session, agent: Agent) -> bool:
    """Rows without a site go to the district market's agents (and admins)."""
    if agent.role == AgentRole.ADMIN:
        return True
    return session.scalar(select(Site.level).where(Site.id == agent.site_id)) == SiteLevel.DISTRICT


def site_filter(session: Session, agent: Agent, column: SQLColumnExpression[Any]) -> ColumnElement[bool]:
    """A WHERE clause limiting `column` (a site id) to what the agent may see."""
    visible = visible_site_ids(session, agent)
    if visible is None:
        return true()
    in_sites = column.in_(visible) if visible else false()
    return or_(in_sites, column.is_(None)) if sees_unplaced(session, agent) else in_sites


def may_see(session: Session, agent: Agent, site_id: int | None) -> bool:
    visible = visible_site_ids(session, agent)
    if visible is None:
        return True
    if site_id is None:
        return sees_unplaced(session, agent)
    return site_id in visible


def require_visible(session: Session, agent: Agent, site_id: int | None) -> None:
    """404, not 403, for another site's row: a URL should not tell whether a row exists."""
    if not may_see(session, agent, site_id):
        abort(404)


def visible_row(session: Session, agent: Agent, model: type[Sited], row_id: int) -> Sited:
    """The row with this id, or 404 if there is none or it belongs to a site the agent does not see."""
    row = session.get(model, row_id)
    if row is None:
        abort(404)
    require_visible(session, agent, row.site_id)
    return row


def sites_for_choice(session: Session, agent: Agent) -> list[Site]:
    """The sites an agent may file things under, in the order of the 1+17+N list."""
    query = select(Site).order_by(Site.level, Site.number, Site.code)
    visible = visible_site_ids(session, agent)
    if visible is not None:
        query = query.where(Site.id.in_(visible))
    return list(session.scalars(query))
