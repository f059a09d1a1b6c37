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
) -> Tally:
    """Figures per sender, one reply expected per text: a text counts as replied to when its sender got
    as many replies as texts that were stored (and answered in time); anything at the fake beyond the
    replies expected is a duplicate, and so is a second reply row to one text."""
    expected = Counter(post.sender for post in posts)
    at_fake = Counter(message["to"] for message in fake_messages)
    stored_ok = Counter(post.sender for post in posts if post.sid in inbound and post.ok(webhook_limit))
    result = Tally(sent=len(posts), expected=sum(expected.values()))
    result.unanswered = [post for post in posts if not post.ok(webhook_limit)]
    result.unstored = [post for post in posts if post.sid not in inbound]
    result.answered = result.sent - len(result.unanswered)
    result.stored = result.sent - len(result.unstored)
    result.delivered = sum(min(at_fake[phone], count) for phone, count in expected.items())
    # Per sender: texts not both stored (answered in time) and replied to (lost = sent - stored and replied).
    result.lost = sum(
        count - min(stored_ok[phone], at_fake[phone], count) for phone, count in expected.items()
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
        # The texts stored after a later one: how long their webhooks took says where they were held.
        late = [p for i, p in enumerate(mine) if any(rows[i].id > inbound[q.sid].id for q in mine[i + 1 :])]
        held = ", ".join(f"#{p.seq} answered after {p.elapsed or 0:.1f} s" for p in late[:3])
        problems.append(
            f"{mask_phone(sender)}: texts stored out of order (sequence numbers by id: {by_id}; {held})"
        )
    return problems


def all_replied(db: Db, fake: FakeTwilioApi, posts: list[Post]) -> bool:
    """Every one of `posts` stored, and its own reply row holding a Sid that Twilio has."""
    if not posts:
        return True
    inbound = db.inbound([post.sid for post in posts])
    if len(inbound) < len(posts):
        return False
    phones = sorted({post.sender for post in posts})
    taken = {message["sid"] for message in messages_to(fake, phones)}
    replied = {row.in_reply_to_id for row in db.outbound(phones) if row.provider_sid in taken}
    return all(inbound[post.sid].id in replied for post in posts)


@dataclass
class Observation:
    figures: Tally
    done_at: float | None = None  # monotonic: when every text was stored and every reply delivered
    # When every text sent before the cutoff (the outage's) was stored and its own reply row held a Sid
    # Twilio has: the recovery, without the texts still being sent after the fault.
    cutoff_done_at: float | None = None

    def recovered_at(self) -> float | None:
        return self.cutoff_done_at if self.cutoff_done_at is not None else self.done_at


def observe(
    db: Db,
    fake: FakeTwilioApi,
    posts: list[Post],
    deadline: float,
    webhook_limit: float = TWILIO_WEBHOOK_LIMIT,
    early: list[Post] | None = None,
    early_done_at: float | None = None,
) -> Observation:
    """Poll until every text is stored and every reply delivered (then watch SETTLE_SECONDS more for a
    duplicate), a duplicate shows up, or `deadline` (monotonic) passes. `early`: the texts sent before the
    fault ended, whose recovery is timed on their own (`early_done_at` if already seen)."""
    phones = sorted({post.sender for post in posts})
    sids = [post.sid for post in posts]
    seen = Observation(Tally(sent=len(posts)), cutoff_done_at=early_done_at)
    while True:
        now = time.monotonic()
        with contextlib.suppress(psycopg.Error):  # the database is still coming back: not yet
            inbound, outbound, at_fake = db.inbound(sids), db.outbound(phones), messages_to(fake, phones)
            seen.figures = tally(posts, inbound, outbound, at_fake, webhook_limit)
            if early and seen.cutoff_done_at is None and all_replied(db, fake, early):
                seen.cutoff_done_at = now
        if seen.figures.duplicated:
            return seen
        if seen.done_at is None and seen.figures.complete:
            seen.done_at = now
        if seen.done_at is not None and now >= seen.done_at + SETTLE_SECONDS:
            return seen
        if now >= deadline:
            return seen
        time.sleep(0.2)
