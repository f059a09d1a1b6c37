"""Per-employer blocks (EmployerBlock: this worker is not sent to this employer's jobs) on the worker's
and the employer's pages: the list, add, remove. The change and its audit are
dispatch.followup.blocks' (the same as an employer's `101 2 不要`); matching honours the rows.

Routes on the people blueprint (imported at the end of views.py so that they are registered).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, g, redirect, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.console.auth import agent_page
from dispatch.console.i18n import translate
from dispatch.console.people.services import MAX_BLOCK_REASON
from dispatch.console.people.views import _person, bp
from dispatch.followup.blocks import add_block, remove_block
from dispatch.models import Employer, EmployerBlock, Job, Offer, OfferStatus, Worker

COUNTERPARTS = 30  # the employers a worker worked for (or the workers of an employer) offered to block


@dataclass(frozen=True)
class Block:
    employer: Employer
    worker: Worker
    row: EmployerBlock


def blocks_of(db: Session, *, worker_id: int | None = None, employer_id: int | None = None) -> list[Block]:
    query = (
        select(EmployerBlock, Employer, Worker)
        .join(Employer, Employer.id == EmployerBlock.employer_id)
        .join(Worker, Worker.id == EmployerBlock.worker_id)
        .order_by(EmployerBlock.created_at.desc())
    )
    if worker_id is not None:
        query = query.where(EmployerBlock.worker_id == worker_id)
    if employer_id is not None:
        query = query.where(EmployerBlock.employer_id == employer_id)
    return [Block(employer, worker, row) for row, employer, worker in db.execute(query)]


def counterparts(
    db: Session, *, worker_id: int | None = None, employer_id: int | None = None
) -> list[Employer] | list[Worker]:
    """Whom a block could be with: the employers whose jobs the worker took, or the workers who took
    the employer's jobs, not blocked already."""
    placed = Offer.status.in_((OfferStatus.ACCEPTED, OfferStatus.CANCELLED)) & Offer.responded_at.is_not(None)
    if worker_id is not None:
        blocked_employers = select(EmployerBlock.employer_id).where(EmployerBlock.worker_id == worker_id)
        employers = (
            select(Employer)
            .join(Job, Job.employer_id == Employer.id)
            .join(Offer, Offer.job_id == Job.id)
            .where(Offer.worker_id == worker_id, placed, Employer.id.not_in(blocked_employers))
        )
        return list(db.scalars(employers.distinct().limit(COUNTERPARTS)))
    blocked_workers = select(EmployerBlock.worker_id).where(EmployerBlock.employer_id == employer_id)
    workers = (
        select(Worker)
        .join(Offer, Offer.worker_id == Worker.id)
        .join(Job, Job.id == Offer.job_id)
        .where(Job.employer_id == employer_id, placed, Worker.id.not_in(blocked_workers))
    )
    return list(db.scalars(workers.distinct().limit(COUNTERPARTS)))


@bp.app_template_global()
def employer_blocks_of(worker_id: int | None = None, employer_id: int | None = None) -> dict:
    return {
        "blocks": blocks_of(g.db, worker_id=worker_id, employer_id=employer_id),
        "choices": counterparts(g.db, worker_id=worker_id, employer_id=employer_id),
    }


@bp.post("/<any(workers, employers):kind>/<int:person_id>/employer-blocks")
@agent_page()
def add(db, agent, kind: str, person_id: int):
    """Block a worker for one employer (from either's page); audited."""
    person = _person(db, agent, kind, person_id)
    other_id = request.form.get("other_id", type=int)
    other = db.get(Employer if kind == "workers" else Worker, other_id or 0)
    reason = " ".join(request.form.get("reason", "").split())[:MAX_BLOCK_REASON]
    if other is None or not reason:
        flash(translate("people.blocks.refused"), "error")
        return redirect(_back(kind, person_id))
    employer_id, worker_id = (other.id, person.id) if kind == "workers" else (person.id, other.id)
    added = add_block(db, employer_id, worker_id, reason, agent, utcnow(), "agent", request.remote_addr or "")
    flash(translate("people.blocks.added" if added else "people.blocks.already"), "success")
    return redirect(_back(kind, person_id))


@bp.post(
    "/<any(workers, employers):kind>/<int:person_id>/employer-blocks/<int:employer_id>/<int:worker_id>/remove"
)
@agent_page()
def remove(db, agent, kind: str, person_id: int, employer_id: int, worker_id: int):
    """Lift a block (the worker may be offered that employer's jobs again); audited."""
    _person(db, agent, kind, person_id)
    if person_id not in (employer_id if kind == "employers" else worker_id,):
        flash(translate("people.blocks.refused"), "error")
        return redirect(_back(kind, person_id))
    note = request.form.get("note", "").strip()[:MAX_BLOCK_REASON]
    removed = remove_block(db, employer_id, worker_id, agent, note, request.remote_addr or "")
    flash(translate("people.blocks.removed" if removed else "people.blocks.gone"), "success")
    return redirect(_back(kind, person_id))


def _back(kind: str, person_id: int) -> str:
    if kind == "workers":
        return url_for("console.people.worker_page", worker_id=person_id) + "#employer-blocks"
    return url_for("console.people.employer_page", employer_id=person_id) + "#employer-blocks"
