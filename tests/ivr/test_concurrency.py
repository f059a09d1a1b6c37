"""Twilio may deliver a webhook twice at once: with committed transactions, the deliveries race for
the call's row lock and the step still has one effect."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from dispatch.models import Call, Job, Message
from tests.helpers import BASE_URL
from tests.ivr.conftest import Caller, post_signed

THREADS = 6


def deliver_concurrently(app: Flask, url: str, params: dict[str, str]) -> list[Any]:
    barrier = threading.Barrier(THREADS)
    results: list[Any] = [None] * THREADS

    def deliver(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            response = post_signed(app.test_client(), url, params, BASE_URL)
            results[index] = (response.status_code, response.get_data(as_text=True))
        except BaseException as exc:  # reported by the assertions below
            results[index] = exc

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a delivery hung"
    return results


@pytest.mark.committed
def test_a_call_and_its_confirmation_delivered_many_times_at_once_make_one_call_and_one_job(
    committed,
) -> None:
    runtime, app = committed
    caller = Caller(app.test_client(), base=BASE_URL)
    first = deliver_concurrently(app, f"{BASE_URL}/ivr/voice", caller.params(CallStatus="ringing"))
    assert len({text for _, text in first}) == 1 and {status for status, _ in first} == {200}
    caller.twiml = first[0][1]
    for keys in ["1", "4", "2", "2", "7", "3", "300", "1"]:
        caller.press(keys)
    caller.skip_recording()

    confirmations = deliver_concurrently(app, caller.action(), caller.params(Digits="1"))

    assert {status for status, _ in confirmations} == {200}
    assert len({text for _, text in confirmations}) == 1 and "岗位号是" in confirmations[0][1]
    with runtime.db.sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(Call)) == 1
        assert session.scalar(select(func.count()).select_from(Job)) == 1
        assert session.scalar(select(func.count()).select_from(Message)) == 1  # one SMS summary
