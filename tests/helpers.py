"""Helpers for tests: signing webhooks as Twilio does, running queued jobs in a real RQ worker, running
the `dispatch` command as a first run would."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from dispatch.models import Direction, Job, Message, Offer
from dispatch.queue import QUEUE_NAMES, get_queue
from dispatch.runtime import Runtime
from dispatch.settings import PROJECT_ROOT
from dispatch.worker import DispatchWorker

TEST_AUTH_TOKEN = "test-auth-token-0123456789abcdef"
BASE_URL = "http://localhost"


def sign(url: str, params: dict[str, str], token: str = TEST_AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def signed_post(
    client: FlaskClient, path: str, params: dict[str, str], token: str = TEST_AUTH_TOKEN, **kw: Any
):
    """POST as Twilio would: form-encoded, signed over the full URL and the sorted parameters."""
    headers = {"X-Twilio-Signature": sign(BASE_URL + path, params, token), **kw.pop("headers", {})}
    return client.post(path, data=params, headers=headers, **kw)


def run_jobs(runtime: Runtime, with_scheduler: bool = False) -> None:
    """Run every queued job in a real RQ worker (the SimpleWorker `dispatch worker` runs), in burst mode."""
    queues = [get_queue(name, runtime.redis) for name in QUEUE_NAMES]
    DispatchWorker(queues, connection=runtime.redis).work(burst=True, with_scheduler=with_scheduler)


_sid_counter = iter(range(1, 10**9))


def inbound_params(body: str, sender: str = "+8613800138000", sid: str | None = None) -> dict[str, str]:
    """The form Twilio posts for an inbound SMS."""
    return {
        "MessageSid": sid or f"SM{next(_sid_counter):032x}",
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+8610690000",
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
    }


def text_in(client: FlaskClient, body: str, sender: str = "+8613800138000", sid: str | None = None):
    response = signed_post(client, "/sms/inbound", inbound_params(body, sender, sid))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def outbound_to(session: Session, phone: str) -> list[Message]:
    """Outbound messages to `phone`, oldest first."""
    session.expire_all()
    query = select(Message).where(Message.direction == Direction.OUTBOUND, Message.phone == phone)
    return list(session.scalars(query.order_by(Message.id)))


def last_reply(session: Session, phone: str) -> Message:
    messages = outbound_to(session, phone)
    assert messages, f"no outbound message to {phone}"
    return messages[-1]


def last_of_kind(session: Session, phone: str, kind: str) -> Message:
    """The last outbound message of `kind` to `phone` (a placement's confirmation, which the day
    insurance's reference follows in a text of its own)."""
    messages = [message for message in outbound_to(session, phone) if message.kind == kind]
    assert messages, f"no {kind} message to {phone}"
    return messages[-1]


def confirmation_to(session: Session, phone: str) -> Message:
    return last_of_kind(session, phone, "placement.worker")


def placed_reply(session: Session, phone: str) -> Message:
    """The last text to `phone`, read past the day insurance's text that follows a confirmation."""
    messages = outbound_to(session, phone)
    if messages and messages[-1].kind == "placement.insurance":
        messages = messages[:-1]
    assert messages, f"no outbound message to {phone}"
    return messages[-1]


def fresh(session: Session, job: Job) -> Job:
    """The job as the database has it now."""
    session.expire_all()
    return session.get(Job, job.id)


def offers_of(session: Session, job: Job) -> list[Offer]:
    """The job's offers, oldest first, as the database has them now."""
    session.expire_all()
    return list(session.scalars(select(Offer).where(Offer.job_id == job.id).order_by(Offer.id)))


def first_run_env(database: Path) -> dict[str, str]:
    """This process's environment without any of the service's settings, on a SQLite file: a first run."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "REDIS_", "SMS_", "TWILIO_", "DISPATCH_", "PUBLIC_"))
    }
    env["DATABASE_URL"] = f"sqlite:///{database}"
    return env


def run_dispatch(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`dispatch <args>` in a process of its own, from the project root, with exactly `env`."""
    return subprocess.run(
        [sys.executable, "-m", "dispatch.cli", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def deliver_concurrently(app: Flask, params_list: list[dict[str, str]], timeout: float = 120) -> list[Any]:
    """Post each inbound SMS form from its own thread and test client, all released at once by a
    barrier (for committed-transaction races); returns each status code, or the exception raised."""
    barrier = threading.Barrier(len(params_list))
    results: list[Any] = [None] * len(params_list)

    def deliver(index: int) -> None:
        client = app.test_client()
        try:
            barrier.wait(timeout=30)
            results[index] = signed_post(client, "/sms/inbound", params_list[index]).status_code
        except BaseException as exc:  # reported by the assertion below
            results[index] = exc

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(len(params_list))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a delivery hung"
    return results


def waiting_on_a_lock(runtime: Runtime, seconds: float = 30) -> bool:
    """Whether another connection waits on a row lock (polled, on a connection of its own): how a
    concurrency test knows its second transaction is blocked before it lets the first commit."""
    deadline = time.monotonic() + seconds
    with runtime.db.engine.connect() as connection:
        while time.monotonic() < deadline:
            waiting = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar()
            connection.commit()
            if waiting:
                return True
            time.sleep(0.05)
    return False
