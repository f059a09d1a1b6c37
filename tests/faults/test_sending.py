"""Rows 4 and 5: the send to Twilio made, but its outcome never recorded.

Twilio has no idempotency key: after a send whose answer never came, the message may or may not exist.
The service must look it up (after SEND_RECONCILE_AFTER, or SEND_LEASE_SECONDS for a worker that died)
and adopt its Sid, or send again only if Twilio does not have it. Exactly one message per reply.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.fakes.twilio_api import FakeTwilioApi
from tests.faults.flows import Followed, account_one, follow
from tests.faults.privacy import mask_phone
from tests.faults.procs import wait_until
from tests.faults.report import FaultRow, fault_row, fault_rows, open_row
from tests.faults.stack import Stack
from tests.faults.traffic import Post
from tests.faults.twilio_side import first_create_to, messages_to

KILLED_BOUND = 60.0  # row 4: from the kill to the row holding Twilio's Sid
ANSWER_BOUND = 45.0  # row 5: from the text to the row holding Twilio's Sid


def _expect_hit(row: FaultRow, stack: Stack, armed: float, phone: str, fault: str) -> None:
    """The armed fault must have hit this reply's send, not some other message's."""
    hit = first_create_to(stack.fake, armed)
    row.expect(hit == phone, f"the armed {fault} hit a send to {mask_phone(hit or 'nobody')}, not this reply")


@pytest.mark.fault("4")
def test_row4_worker_killed_after_twilio_took_the_message(stack: Stack, phones: Callable[[int], str]) -> None:
    with fault_row("4 worker SIGKILLed after Twilio took the message", KILLED_BOUND) as row:
        phone = phones(1)
        armed = time.monotonic()
        stack.fake.delay_next(8)
        post = stack.webhooks().post(phone, "HELP")
        row.expect(post.ok(), f"webhook answered {post.outcome()}")
        wait_until(
            lambda: messages_to(stack.fake, [phone]), 15, "Twilio to take the reply (its answer held 8 s)"
        )
        stack.workers[0].kill_group()
        killed = time.monotonic()
        stack.start_worker()  # at once, as systemd's Restart= would
        _expect_hit(row, stack, armed, phone, "8 s delay")
        reply = Followed(phone, "help", killed, deadline=killed + KILLED_BOUND)
        follow(stack, [reply])
        account_one(row, stack, post, reply)


@dataclass(frozen=True)
class AnswerCase:
    row: str
    body: str
    kind: str
    fault: str
    arm: Callable[[FakeTwilioApi], None]


ANSWER_CASES = (
    AnswerCase(
        "5a answer 6 s late (client timeout 3 s)", "HELP", "help", "6 s delay", lambda f: f.delay_next(6)
    ),
    AnswerCase("5b answer lost, Twilio took it", "HELP", "help", "drop", lambda f: f.drop_next(create=True)),
    AnswerCase(
        "5c request lost, Twilio never got it", "HELP", "help", "drop", lambda f: f.drop_next(create=False)
    ),
    AnswerCase(
        "5d STOP: confirmation's answer 6 s late",
        "STOP",
        "opt_out.confirm",
        "6 s delay",
        lambda f: f.delay_next(6),
    ),
)


@pytest.mark.fault("5")
def test_row5_twilio_answer_lost_or_late(stack: Stack, phones: Callable[[int], str]) -> None:
    """The four cases run side by side (each from its own number), so the suite waits out one grace
    period, not four: each fault is armed only once the previous case's send reached Twilio."""
    with fault_rows() as rows:
        rows.extend(open_row(case.row, ANSWER_BOUND) for case in ANSWER_CASES)
        if not hasattr(stack.fake, "drop_next"):
            pytest.fail("FakeTwilioApi.drop_next is missing: tests/fakes/twilio_api.py has not landed it yet")
        hooks = stack.webhooks()
        posts: list[Post] = []
        replies: list[Followed] = []
        for number, (case, row) in enumerate(zip(ANSWER_CASES, rows, strict=True), start=1):
            phone = phones(number)
            armed = time.monotonic()
            case.arm(stack.fake)
            post = hooks.post(phone, case.body)
            row.expect(post.ok(), f"webhook answered {post.outcome()}")
            wait_until(
                lambda armed=armed: first_create_to(stack.fake, armed), 20, f"the send of '{case.row}'"
            )
            _expect_hit(row, stack, armed, phone, case.fault)
            posts.append(post)
            replies.append(Followed(phone, case.kind, post.started, deadline=post.started + ANSWER_BOUND))
        follow(stack, replies)
        for row, post, reply in zip(rows, posts, replies, strict=True):
            account_one(row, stack, post, reply)
