"""Rows 6 and 7: a reply's RQ job lost, and the scheduler's holder killed.

Row 6: Redis lost a relayed send job (the outbox row is marked relayed, the job is gone). The outbox is
the truth: the reply must go out within 75 s (LOST_JOB_SECONDS 30 plus the sweeps), as a reply, while
quiet hours are on, and not wait for the morning.
Row 7: the worker holding the scheduler lock is SIGKILLed; a send that Twilio refused with 429 is
retried through a scheduled job, which another worker's scheduler must move within 60 s.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.faults.flows import Followed, account_one, follow
from tests.faults.measure import Outbound
from tests.faults.privacy import mask_phone
from tests.faults.procs import children_of, group_members, proc_stat, wait_until
from tests.faults.queue_side import lose_send_job, scheduler_holder
from tests.faults.report import fault_row
from tests.faults.stack import Stack
from tests.faults.traffic import Post
from tests.faults.twilio_side import first_create_to

LOST_JOB_BOUND = 75.0  # from the loss to the reply at Twilio
SCHEDULER_BOUND = 60.0  # from the kill to the retried reply at Twilio
STOP_GRACE = 10.0


def _reply_row(stack: Stack, post: Post) -> Outbound:
    def find() -> Outbound | None:
        inbound = stack.db().inbound([post.sid]).get(post.sid)
        rows = stack.db().outbound([post.sender]) if inbound else []
        return next((row for row in rows if row.in_reply_to_id == inbound.id), None) if inbound else None

    return wait_until(find, 10, f"the reply row to {mask_phone(post.sender)}'s text")


@pytest.mark.fault("6")
def test_row6_lost_send_job_in_quiet_hours(stack: Stack, phones: Callable[[int], str]) -> None:
    with fault_row("6 reply's send job lost, in quiet hours", LOST_JOB_BOUND) as row:
        for worker in stack.alive_workers():
            took = stack.stop_worker(worker, grace=STOP_GRACE)
            row.note(
                f"{worker.name} stopped {took:.1f} s after SIGTERM"
                if took is not None
                else f"{worker.name} outlived SIGTERM by {STOP_GRACE:.0f} s and was killed (row 8)"
            )
        phone = phones(1)
        post = stack.webhooks().post(phone, "HELP")
        row.expect(post.ok(), f"webhook answered {post.outcome()}")
        reply_row = _reply_row(stack, post)
        event_id = wait_until(
            lambda: next((eid for eid, relayed in stack.db().send_events(reply_row.id) if relayed), None),
            15,
            "the reply's outbox row to be relayed to RQ",
        )
        client = stack.redis.client()
        try:
            job_id = lose_send_job(client, event_id, reply_row.id)
        finally:
            client.close()
        lost = time.monotonic()
        row.expect(job_id is not None, f"the send job of outbox row {event_id} was not found in Redis")
        stack.start_worker()
        reply = Followed(phone, "help", lost, deadline=lost + LOST_JOB_BOUND)
        follow(stack, [reply])
        account_one(row, stack, post, reply)


def _survivors(pids: list[int]) -> list[int]:
    return [pid for pid in pids if (stat := proc_stat(pid)) is not None and stat[0] != "Z"]


@pytest.mark.fault("7")
def test_row7_scheduler_holder_killed(stack: Stack, phones: Callable[[int], str]) -> None:
    with fault_row("7 worker holding the scheduler SIGKILLed", SCHEDULER_BOUND) as row:
        stack.start_worker()
        client = stack.redis.client()
        try:
            holder = wait_until(
                lambda: scheduler_holder(client, stack.alive_workers()),
                15,
                "a worker to hold the scheduler lock",
            )
        finally:
            client.close()
        # The group, and any child that left it (its own session): none may outlive the kill.
        doomed = sorted({*group_members(holder.pgid), *children_of(holder.pid)})
        holder.kill_group()
        killed = time.monotonic()
        try:
            wait_until(lambda: not _survivors(doomed), 3, "the killed worker's processes to be gone")
        except AssertionError:
            row.expect(False, f"processes of the killed worker outlived it: {_survivors(doomed)}")
        phone = phones(1)
        armed = time.monotonic()
        stack.fake.fail_next(429, 20429)
        post = stack.webhooks().post(phone, "HELP")
        row.expect(post.ok(), f"webhook answered {post.outcome()}")
        wait_until(lambda: first_create_to(stack.fake, armed), 15, "the first send (to be refused with 429)")
        hit = first_create_to(stack.fake, armed)
        row.expect(hit == phone, f"the 429 hit a send to {mask_phone(hit or 'nobody')}, not this reply")
        reply = Followed(phone, "help", killed, deadline=killed + SCHEDULER_BOUND)
        follow(stack, [reply])
        account_one(row, stack, post, reply)
