"""Row 0, no fault: proves the harness (stack, signing, counting) before a fault is blamed on the service."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.faults.flows import Followed, follow, reply_problems
from tests.faults.measure import observe
from tests.faults.report import fault_row
from tests.faults.stack import Stack

BOUND_SECONDS = 10.0


@pytest.mark.fault("0")
def test_row0_help_in_one_reply_out(stack: Stack, phones: Callable[[int], str]) -> None:
    with fault_row("0 no fault: HELP in, one reply out", BOUND_SECONDS) as row:
        phone = phones(1)
        post = stack.webhooks().post(phone, "HELP")
        row.expect(post.ok(), f"webhook answered {post.outcome()} after {post.elapsed:.1f} s")
        seen = observe(stack.db(), stack.fake, [post], deadline=post.started + BOUND_SECONDS)
        row.take(seen.figures)
        row.recovered(post.started, seen.done_at)
        reply = Followed(phone, "help", post.started, deadline=time.monotonic() + 5)
        follow(stack, [reply])
        row.problems.extend(reply_problems(stack, reply))
        inbound = stack.db().inbound([post.sid])
        row.expect(len(inbound) == 1, f"inbound text stored {len(inbound)} times")
