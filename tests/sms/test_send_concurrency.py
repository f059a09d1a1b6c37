"""Two workers running the same send job at once: the row lock lets exactly one send."""

from __future__ import annotations

import threading
import time

from dispatch.models import Message, MessageStatus
from dispatch.sms.gateway import OutboxTransport, SendResult, Templated
from dispatch.sms.services import mark_opted_out, queue_sms
from dispatch.sms.tasks import send_message

PHONE = "+8613800138000"


class SlowTransport(OutboxTransport):
    """Takes its time to answer, as Twilio may, so the second job arrives while the first sends."""

    def send_sms(
        self, to: str, body: str, status_callback: str | None = None, templated: Templated | None = None
    ) -> SendResult:
        time.sleep(0.3)
        return super().send_sms(to, body, status_callback, templated)


def test_a_message_sent_by_two_workers_at_once_goes_out_once(committed):
    runtime, _app = committed
    runtime.transport = SlowTransport()
    with runtime.db.transaction() as session:
        message_id = queue_sms(session, runtime.settings, phone=PHONE, template="help", kind="help").id
    results: list[object] = [None, None]
    barrier = threading.Barrier(2)

    def work(index: int) -> None:
        barrier.wait(timeout=10)
        results[index] = send_message(message_id)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # The second finds the message handed over already (`sending`: it will look it up later, and then
    # find it sent), or sent: either way it sends nothing.
    sent, other = sorted(results, key=lambda result: result != {"sent": 1})
    assert sent == {"sent": 1}
    assert other in ({"skipped": 1}, {"waiting": 1})
    assert len(runtime.transport.sent) == 1
    with runtime.db.transaction() as session:
        assert session.get(Message, message_id).status == MessageStatus.SENT


def test_a_stop_arriving_while_a_send_waits_for_its_rate_slot_is_respected(committed):
    """The opt-out is read again, under a lock, right before the send."""
    runtime, _app = committed
    with runtime.db.transaction() as session:
        first = queue_sms(session, runtime.settings, phone="+8613900000001", template="help", kind="help").id
        second = queue_sms(session, runtime.settings, phone=PHONE, template="help", kind="help").id
    runtime.settings = type(runtime.settings)(**{**runtime.settings.__dict__, "SMS_SEND_RATE": 1.0})
    assert send_message(first) == {"sent": 1}  # the sender's next slot is now about 2 s away
    stopper = threading.Timer(0.5, lambda: _opt_out(runtime))
    stopper.start()
    assert send_message(second) == {"suppressed": 1}  # it slept for its slot; STOP came meanwhile
    stopper.join()
    assert [sent.to for sent in runtime.transport.sent] == ["+8613900000001"]


def _opt_out(runtime) -> None:  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        mark_opted_out(session, PHONE)


class SlowTwilio(SlowTransport):
    """Counts as Twilio, so that Twilio's per-number limits for China apply to it."""

    name = "twilio"


def test_two_texts_to_one_number_sent_at_once_respect_its_limit(committed):
    """The number's row is locked while a send decides: the second sees the first's attempt."""
    runtime, _app = committed
    runtime.transport = SlowTwilio()
    limited = {"SMS_LIMIT_TWILIO_CN": 1, "SMS_TRANSPORT": "routed"}  # the limits' mode, with this transport
    runtime.settings = type(runtime.settings)(**{**runtime.settings.__dict__, **limited})
    with runtime.db.transaction() as session:
        ids = [
            queue_sms(
                session, runtime.settings, phone=PHONE, template="agent_text", kind="agent_text", text=t
            ).id
            for t in ("第一个通知", "第二个通知")
        ]
    results: list[object] = [None, None]
    barrier = threading.Barrier(2)

    def work(index: int) -> None:
        barrier.wait(timeout=10)
        results[index] = send_message(ids[index])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results, key=str) == sorted([{"sent": 1}, {"deferred": 1, "frequency_held": 1}], key=str)
    assert len(runtime.transport.sent) == 1
    with runtime.db.transaction() as session:
        delays = sorted(session.get(Message, i).frequency_delays for i in ids)
    assert delays == [0, 1]
