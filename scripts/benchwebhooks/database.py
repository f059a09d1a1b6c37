"""The benchmark's database: emptied and migrated before a run, counted after each measurement."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from benchwebhooks import ROOT
from dispatch.db import Database
from dispatch.models import Direction, Message, Offer, OfferStatus, OutboxEvent, Ticket


def prepare_database(url: str, env: dict[str, str], log: Path) -> None:
    """DROP SCHEMA public CASCADE, then `dispatch db upgrade` and `dispatch seed`."""
    database = Database(url)
    with database.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    database.engine.dispose()
    for command in (["db", "upgrade"], ["seed"]):
        with open(log, "ab") as out:
            subprocess.run(
                [sys.executable, "-m", "dispatch.cli", *command],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
            )


def stored_messages(url: str, prefix: str) -> dict[str, int]:
    """What the webhooks of one run left in the database: every answered one must be there."""
    database = Database(url)
    with database.sessionmaker() as session:
        inbound = select(Message).where(
            Message.direction == Direction.INBOUND, Message.provider_sid.like(f"{prefix}%")
        )
        stored = session.scalar(select(func.count()).select_from(inbound.subquery()))
        failed = session.scalar(
            select(func.count()).select_from(
                inbound.where(Message.error_message == "handling failed").subquery()
            )
        )
        statuses = dict(
            session.execute(
                select(Message.status, func.count())
                .where(Message.direction == Direction.INBOUND, Message.provider_sid.like(f"{prefix}%"))
                .group_by(Message.status)
            ).all()
        )
    database.engine.dispose()
    return {"messages": stored, "handling_failed": failed, **{str(k): v for k, v in statuses.items()}}


def database_totals(url: str) -> dict[str, Any]:
    """Messages, unrelayed outbox rows, tickets and accepted offers after the load."""
    database = Database(url)
    with database.sessionmaker() as session:
        totals = {
            "inbound": session.scalar(
                select(func.count()).select_from(Message).where(Message.direction == Direction.INBOUND)
            ),
            "outbound": session.scalar(
                select(func.count()).select_from(Message).where(Message.direction == Direction.OUTBOUND)
            ),
            "outbox_unrelayed": session.scalar(
                select(func.count()).select_from(OutboxEvent).where(OutboxEvent.relayed_at.is_(None))
            ),
            "tickets": session.scalar(select(func.count()).select_from(Ticket)),
            "offers_accepted": session.scalar(
                select(func.count()).select_from(Offer).where(Offer.status == OfferStatus.ACCEPTED)
            ),
            "outbound_kinds": dict(
                session.execute(
                    select(Message.kind, func.count())
                    .where(Message.direction == Direction.OUTBOUND)
                    .group_by(Message.kind)
                ).all()
            ),
        }
    database.engine.dispose()
    return totals
