"""Steps the fault tests share: load through an outage, and following one reply until it is accounted for.

The sleeps here are the faults themselves (how long traffic runs before an outage, how long the outage
lasts), not waits for a condition: those poll with a deadline.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

from tests.faults.measure import SETTLE_SECONDS, Db, Outbound, all_replied
from tests.faults.privacy import mask_phone
from tests.faults.report import FaultRow
from tests.faults.stack import Stack
from tests.faults.traffic import Load, Post
from tests.faults.twilio_side import messages_to

LOAD_RATE = 4.0  # texts a second, from all senders together
LOAD_SENDERS = 4
LOAD_BODIES = ["HELP", "帮助"]  # each gets exactly one `help` reply, whatever came before


@dataclass
class Outage:
    posts: list[Post]  # every text, in the order sent
    early: list[Post]  # those sent before the service was back
    back: float  # monotonic: when the fault was lifted
    early_done_at: float | None  # when the early texts were all stored and replied to (None: not yet)


def load_through(
    stack: Stack,
    senders: list[str],
    inject: Callable[[], None],
    lift: Callable[[], None],
    before: float,
    outage: float,
    after: float,
) -> Outage:
    """Steady load; `inject` the fault `before` s in, `lift` it `outage` s later (always, even when the
    test is failing), go on `after` s, timing meanwhile how soon the texts of the outage are all done."""
    load = Load(stack.webhooks(), senders, LOAD_RATE, LOAD_BODIES).start()
    early: list[Post] = []
    early_done_at: float | None = None
    try:
        time.sleep(before)
        inject()
        try:
            time.sleep(outage)
        finally:
            lift()
        back = time.monotonic()
        early = list(load.posts)
        db = stack.db()
        while time.monotonic() < back + after:
            if early_done_at is None:
                with contextlib.suppress(psycopg.Error):
                    early_done_at = time.monotonic() if all_replied(db, stack.fake, early) else None
            time.sleep(0.2)
    finally:
        posts = load.finish()
    return Outage(posts, early, back, early_done_at)


@dataclass
class Followed:
    """One reply followed until Twilio has it and the database row carries its Sid."""

    phone: str
    kind: str
    started: float  # monotonic: when the clock for this reply's bound started
    deadline: float
    adopted_at: float | None = None
    duplicated_at: float | None = None

    @property
    def resolved(self) -> bool:
        return self.adopted_at is not None or self.duplicated_at is not None


def reply_state(db: Db, stack: Stack, phone: str) -> tuple[list[str], list[Outbound]]:
    """The Sids Twilio holds for `phone`, and the database's outbound rows for it."""
    return [message["sid"] for message in messages_to(stack.fake, [phone])], db.outbound([phone])


def follow(stack: Stack, replies: list[Followed]) -> None:
    """Poll until each reply is adopted (exactly one message at Twilio, the row holds its Sid) or sent
    twice or past its deadline; then watch SETTLE_SECONDS more for a late second send."""
    db = stack.db()
    settle_until: float | None = None
    while True:
        now = time.monotonic()
        for reply in replies:
            if reply.duplicated_at is not None:
                continue
            sids, rows = reply_state(db, stack, reply.phone)
            if len(sids) > 1:
                reply.duplicated_at = now
            elif (
                reply.adopted_at is None
                and len(sids) == 1
                and any(row.provider_sid == sids[0] for row in rows)
            ):
                reply.adopted_at = now
        if all(reply.resolved or now >= reply.deadline for reply in replies):
            settle_until = settle_until or now + SETTLE_SECONDS
            if now >= settle_until or any(reply.duplicated_at for reply in replies):
                return
        time.sleep(0.2)


def account_one(row: FaultRow, stack: Stack, post: Post, reply: Followed) -> None:
    """Figures of a one-text row, and everything wrong with its reply."""
    at_twilio = len(messages_to(stack.fake, [reply.phone]))
    row.sent = 1
    row.stored = len(stack.db().inbound([post.sid]))
    row.delivered = min(1, at_twilio)
    row.duplicated = max(0, at_twilio - 1)
    row.lost = 0 if post.ok() and row.stored and row.delivered else 1
    row.recovered(reply.started, reply.adopted_at)
    row.problems.extend(reply_problems(stack, reply))


def reply_problems(stack: Stack, reply: Followed) -> list[str]:
    """What is wrong with a followed reply: not exactly one at Twilio, not exactly one row of the right
    kind, not a reply any more, or a row without the Sid Twilio gave."""
    sids, rows = reply_state(stack.db(), stack, reply.phone)
    who = mask_phone(reply.phone)
    problems = []
    if len(sids) != 1:
        problems.append(f"{who}: {len(sids)} messages at Twilio, expected exactly 1")
    kinds = [row.kind for row in rows]
    if kinds != [reply.kind]:
        problems.append(f"{who}: outbound rows of kinds {kinds}, expected one '{reply.kind}'")
    for row in rows:
        if not row.is_reply:
            problems.append(f"{who}: outbound row {row.id} is no longer a reply (is_reply false)")
        if row.status == "pending" and row.send_after is not None and row.send_after > datetime.now(UTC):
            problems.append(
                f"{who}: outbound row {row.id} held until {row.send_after:%H:%M} UTC (quiet hours?)"
            )
        if sids and row.provider_sid not in sids:
            problems.append(
                f"{who}: outbound row {row.id} ({row.status}) has Sid {row.provider_sid}, Twilio has {sids}"
            )
    if reply.adopted_at is None and not problems:
        problems.append(f"{who}: not settled before the deadline")
    return problems
