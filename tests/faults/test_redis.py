"""Row 3: Redis killed (SIGKILL) under load and started again ~11 s later, empty; nobody restarts the worker.

Redis is a work queue, never the only copy: webhooks keep answering and storing (the outbox rows wait),
and the same `dispatch worker` process must wait for Redis and resume on its own, within 5 s of its
return. Texts flow from 2 s before the kill to 3 s after the return, so the first texts of the outage
are older than the outbox sweeper's grace when Redis returns: the first reply after the return
measures the worker's resumption, not the sweeper's schedule.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.faults.flows import LOAD_BODIES, LOAD_RATE, LOAD_SENDERS
from tests.faults.measure import observe
from tests.faults.privacy import mask_phone
from tests.faults.report import fault_row
from tests.faults.stack import Stack
from tests.faults.traffic import Load
from tests.faults.twilio_side import create_to, creates

BEFORE, OUTAGE, AFTER = 2.0, 11.0, 3.0
RESUME_BOUND = 5.0  # from Redis's return to the first reply Twilio receives
# Every reply, from Redis's return: a send job relayed just before the kill was lost with Redis and comes
# back as row 6's lost job does (LOST_JOB_SECONDS 30 plus the sweeps: the same 75 s).
DELIVERED_BOUND = 75.0


@pytest.mark.fault("3")
def test_row3_redis_killed_worker_resumes(stack: Stack, phones: Callable[[int], str]) -> None:
    with fault_row("3 Redis killed 11 s under load, worker kept", RESUME_BOUND) as row:
        worker = stack.workers[0]
        senders = [phones(i) for i in range(1, LOAD_SENDERS + 1)]
        load = Load(stack.webhooks(), senders, LOAD_RATE, LOAD_BODIES).start()
        try:
            time.sleep(BEFORE)
            stack.redis.kill()
            killed = time.monotonic()
            # The outage: watch the worker meanwhile (it used to exit when Redis went away).
            while time.monotonic() < killed + OUTAGE and worker.alive():
                time.sleep(0.2)
            died_during_outage = not worker.alive()
            stack.redis.start()
            back = time.monotonic()
            time.sleep(AFTER)
        finally:
            posts = load.finish()
        # Without a worker nothing more can happen: take the figures at once instead of waiting them out.
        deadline = back + DELIVERED_BOUND if worker.alive() else time.monotonic()
        seen = observe(stack.db(), stack.fake, posts, deadline=deadline)
        figures = seen.figures
        row.take(figures)
        row.expect(
            worker.alive(),
            f"dispatch worker pid {worker.pid} exited (code {worker.returncode}) "
            + ("during the Redis outage" if died_during_outage else "after Redis returned"),
        )
        row.expect(figures.answered == figures.sent, f"webhooks not all answered 200: {figures.describe()}")
        row.expect(figures.stored == figures.sent, f"texts not all stored: {figures.describe()}")
        row.expect(
            seen.done_at is not None,
            f"replies not all delivered {DELIVERED_BOUND:.0f} s after Redis returned: {figures.describe()}",
        )
        if seen.done_at is not None:
            row.note(f"every reply delivered {seen.done_at - back:.1f} s after Redis returned")
        replies = [request for request in creates(stack.fake, back) if create_to(request) in set(senders)]
        if replies:
            row.recovered(back, replies[0].received_at)
        else:
            row.expect(
                False, f"no reply reached Twilio after Redis returned (senders {mask_phone(senders[0])}…)"
            )
