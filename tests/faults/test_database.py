"""Rows 1 and 2: PostgreSQL stopped, or hung, for ~15 s under 4 texts a second from 4 senders.

Twilio never retries an SMS webhook that failed or timed out, so the service must answer every one (it
spools the signed request to SPOOL_DIR while the database is away) and store them all, in each sender's
order, once it is back; every text gets its one reply.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.faults.flows import LOAD_SENDERS, load_through
from tests.faults.measure import observe, order_problems
from tests.faults.report import fault_row
from tests.faults.stack import Stack
from tests.faults.traffic import TWILIO_WEBHOOK_LIMIT, Post

BEFORE, OUTAGE, AFTER = 2.0, 15.0, 3.0
STORED_BOUND = 10.0  # after the database is back: every text stored (and, here, every reply delivered)
HUNG_ANSWER_LIMIT = 10.0  # a hung database must not hold a webhook longer than this


def _slowest(posts: list[Post]) -> str:
    timed = [post.elapsed for post in posts if post.elapsed is not None]
    return f"{max(timed):.1f} s" if timed else "-"


def _outage_row(
    stack: Stack,
    phones: Callable[[int], str],
    title: str,
    fault: tuple[Callable[[], None], Callable[[], None]],
    answer_limit: float,
) -> None:
    """Texts from LOAD_SENDERS senders before, during and after the fault; each answered 200 within
    `answer_limit`, stored in its sender's order and replied to once, within STORED_BOUND of the end."""
    with fault_row(title, STORED_BOUND) as row:
        senders = [phones(i) for i in range(1, LOAD_SENDERS + 1)]
        begin, end = fault
        outage = load_through(stack, senders, begin, end, BEFORE, OUTAGE, AFTER)
        posts, back = outage.posts, outage.back
        seen = observe(
            stack.db(),
            stack.fake,
            posts,
            back + STORED_BOUND,
            early=outage.early,
            early_done_at=outage.early_done_at,
        )
        figures = seen.figures
        row.take(figures)
        row.recovered(back, seen.recovered_at())
        row.note(f"slowest webhook answer {_slowest(posts)}")
        late = [post for post in posts if not post.ok(answer_limit)]
        row.expect(
            not late,
            f"{len(late)} of {len(posts)} webhooks not answered 200 within {answer_limit:.0f} s "
            f"(slowest {_slowest(posts)}): {figures.describe()}",
        )
        row.expect(seen.done_at is not None, f"not all stored and replied to in time: {figures.describe()}")
        row.problems.extend(order_problems(posts, stack.db().inbound([post.sid for post in posts])))


@pytest.mark.fault("1")
def test_row1_postgres_stopped_under_load(stack: Stack, phones: Callable[[int], str]) -> None:
    fault = (stack.pg.stop, stack.pg.start)
    _outage_row(stack, phones, "1 PostgreSQL stopped 15 s under 4 SMS/s", fault, TWILIO_WEBHOOK_LIMIT)


@pytest.mark.fault("2")
def test_row2_postgres_hung_under_load(stack: Stack, phones: Callable[[int], str]) -> None:
    fault = (stack.pg.hang, stack.pg.resume)
    _outage_row(stack, phones, "2 PostgreSQL hung (SIGSTOP) 15 s under 4 SMS/s", fault, HUNG_ANSWER_LIMIT)
