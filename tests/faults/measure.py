"""What the suite counts: texts stored, replies delivered, lost and duplicated, read from the service's
database and from what the fake Twilio took.

The database is read with short autocommit connections that time out quickly, so the suite never holds
a lock (or a hung connection) across a fault.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg

from tests.fakes.twilio_api import FakeTwilioApi
from tests.faults.privacy import mask_phone
from tests.faults.traffic import TWILIO_WEBHOOK_LIMIT, Post
from tests.faults.twilio_side import messages_to

SETTLE_SECONDS = 2.0  # after everything arrived, watch this long for a late duplicate


@dataclass(frozen=True)
class Inbound:
    id: int
    sid: str
    phone: str
    created_at: datetime


@dataclass(frozen=True)
class Outbound:
    id: int
    phone: str
    status: str
    provider_sid: str | None
    kind: str
    is_reply: bool
    in_reply_to_id: int | None
    send_after: datetime | None


class Db:
    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(
            self.url, connect_timeout=3, autocommit=True, options="-c statement_timeout=5000"
        ) as connection:
            return connection.execute(sql, params).fetchall()  # type: ignore[arg-type]

    def inbound(self, sids: list[str]) -> dict[str, Inbound]:
        rows = self.query(
            "SELECT id, provider_sid, phone, created_at FROM message"
            " WHERE direction = 'inbound' AND provider_sid = ANY(%s)",
            (sids,),
        )
        return {row[1]: Inbound(*row) for row in rows}

    def outbound(self, phones: list[str]) -> list[Outbound]:
        rows = self.query(
            "SELECT id, phone, status, provider_sid, kind, is_reply, in_reply_to_id, send_after FROM message"
            " WHERE direction = 'outbound' AND phone = ANY(%s) ORDER BY id",
            (phones,),
        )
        return [Outbound(*row) for row in rows]

    def send_events(self, message_id: int) -> list[tuple[int, datetime | None]]:
        """(id, relayed_at) of the outbox rows whose job sends message `message_id`."""
        rows = self.query(
            "SELECT id, args::text, relayed_at FROM outbox_event WHERE task LIKE %s ORDER BY id",
            ("%send_message%",),
        )
        return [(row[0], row[2]) for row in rows if (args := json.loads(row[1])) and args[0] == message_id]

    def retire_unsent(self) -> None:
        """Take earlier tests' unsent replies out of play, so that none of them goes out during a later
        test (where it could take that test's armed fault). Every test texts from numbers of its own."""
        self.query(
            "UPDATE message SET status = 'suppressed', error_message = 'retired by the fault suite'"
            " WHERE direction = 'outbound' AND provider_sid IS NULL"
            " AND status NOT IN ('suppressed', 'failed', 'undelivered') RETURNING id"
        )


@dataclass
class Tally:
    """The row's figures: see the suite's README in conftest.py for the definitions."""

    sent: int = 0
    answered: int = 0  # webhooks answered 200 within Twilio's limit
    stored: int = 0
    expected: int = 0  # replies the texts call for
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    unanswered: list[Post] = field(default_factory=list)
    unstored: list[Post] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.stored == self.sent and self.delivered == self.expected

    def describe(self) -> str:
        text = (
            f"sent {self.sent}, answered 200 {self.answered}, stored {self.stored}, replies delivered "
            f"{self.delivered}/{self.expected}, lost {self.lost}, duplicated {self.duplicated}"
        )
        if self.unanswered:
            outcomes = Counter(post.outcome() for post in self.unanswered)
            slow = sum(1 for post in self.unanswered if post.status == 200)
            text += f"; webhooks failed: {dict(outcomes)}" + (
                f" ({slow} answered 200 too late)" if slow else ""
            )
        return text


def tally(
    posts: list[Post],
    inbound: dict[str, Inbound],
    outbound: list[Outbound],
    fake_messages: list[dict[str, Any]],
    webhook_limit: float = TWILIO_WEBHOOK_LIMIT,
    expected: dict[str, int] | None = None,
) -> Tally:
    """Figures per sender: a text counts as delivered when its sender got as many replies as texts that
    were stored (and answered in time); anything at the fake beyond the replies expected is a duplicate,
    and so is a second reply row to one text."""
    expected = expected if expected is not None else dict(Counter(post.sender for post in posts))
    at_fake = Counter(message["to"] for message in fake_messages)
    stored_ok = Counter(post.sender for post in posts if post.sid in inbound and post.ok(webhook_limit))
    result = Tally(sent=len(posts), expected=sum(expected.values()))
    result.unanswered = [post for post in posts if not post.ok(webhook_limit)]
    result.unstored = [post for post in posts if post.sid not in inbound]
    result.answered = result.sent - len(result.unanswered)
    result.stored = result.sent - len(result.unstored)
    result.delivered = sum(min(at_fake[phone], count) for phone, count in expected.items())
    # Per sender: the texts not stored (or not answered in time), or the replies missing, whichever is more.
    sent_by = Counter(post.sender for post in posts)
    result.lost = sum(
        max(
            sent_by[phone] - stored_ok[phone],
            expected.get(phone, 0) - min(at_fake[phone], expected.get(phone, 0)),
        )
        for phone in sent_by
    )
    extra_at_fake = sum(max(0, at_fake[phone] - count) for phone, count in expected.items())
    inbound_ids = {row.id for row in inbound.values()}
    replies_per_text = Counter(row.in_reply_to_id for row in outbound if row.in_reply_to_id in inbound_ids)
    extra_rows = sum(count - 1 for count in replies_per_text.values() if count > 1)
    result.duplicated = max(extra_at_fake, extra_rows)
    return result


def order_problems(posts: list[Post], inbound: dict[str, Inbound]) -> list[str]:
    """Per sender, the stored texts must be in the order they were sent: ids (or created_at) increasing."""
    problems = []
    for sender in sorted({post.sender for post in posts}):
        mine = sorted((p for p in posts if p.sender == sender and p.sid in inbound), key=lambda p: p.seq)
        rows = [inbound[p.sid] for p in mine]
        pairs = list(itertools.pairwise(rows))
        if all(a.id < b.id for a, b in pairs) or all(a.created_at < b.created_at for a, b in pairs):
            continue
        by_id = [p.seq for p in sorted(mine, key=lambda p: inbound[p.sid].id)]
        problems.append(f"{mask_phone(sender)}: texts stored out of order (sequence numbers by id: {by_id})")
    return problems


def observe(
    db: Db,
    fake: FakeTwilioApi,
    posts: list[Post],
    deadline: float,
    webhook_limit: float = TWILIO_WEBHOOK_LIMIT,
    expected: dict[str, int] | None = None,
) -> tuple[Tally, float | None]:
    """Poll until every text is stored and every reply delivered (then watch SETTLE_SECONDS more for a
    duplicate), a duplicate shows up, or `deadline` (monotonic) passes. Returns the last figures and when
    they were first complete (monotonic), or None."""
    phones = sorted({post.sender for post in posts})
    sids = [post.sid for post in posts]
    done_at: float | None = None
    last = Tally(sent=len(posts))
    while True:
        now = time.monotonic()
        with contextlib.suppress(psycopg.Error):  # the database is still coming back: not yet
            last = tally(
                posts,
                db.inbound(sids),
                db.outbound(phones),
                messages_to(fake, phones),
                webhook_limit,
                expected,
            )
        if last.duplicated:
            return last, done_at
        if done_at is None and last.complete:
            done_at = now
        if done_at is not None and now >= done_at + SETTLE_SECONDS:
            return last, done_at
        if now >= deadline:
            return last, done_at
        time.sleep(0.2)
