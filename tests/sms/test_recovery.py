"""Recovering from lost jobs, and which worker status wins when several causes stop the texts."""

from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.models import Message, MessageStatus, OutboxEvent, RegisteredVia, Worker, WorkerStatus
from dispatch.sms.services import guess_language, mark_opted_out, mark_undeliverable, queue_sms
from dispatch.sms.tasks import requeue_stuck_messages
from tests.helpers import outbound_to, run_jobs

PHONE = "+8613800138000"


def _queue_help(runtime) -> int:
    with runtime.db.transaction() as session:
        return queue_sms(session, runtime.settings, phone=PHONE, template="help", kind="help").id


def test_a_pending_message_whose_job_was_lost_is_sent_by_the_requeue_sweep(runtime, session):
    message_id = _queue_help(runtime)
    runtime.redis.flushdb()  # the send job is lost (Redis lost after the relay, or a killed worker)
    assert requeue_stuck_messages() == {"requeued": 0}  # too young: its job may just be slow

    with time_machine.travel(utcnow() + timedelta(minutes=16), tick=False):
        assert requeue_stuck_messages() == {"requeued": 1}
        assert requeue_stuck_messages() == {"requeued": 0}  # touched: the next sweep waits again
        run_jobs(runtime)
    session.expire_all()
    assert session.get(Message, message_id).status == MessageStatus.SENT
    assert [sent.to for sent in runtime.transport.sent] == [PHONE]


def test_the_requeue_sweep_leaves_sent_and_held_messages_alone(runtime, session):
    sent_id = _queue_help(runtime)
    run_jobs(runtime)
    held_id = _queue_help(runtime)
    with runtime.db.transaction() as work:
        work.get(Message, held_id).send_after = utcnow() + timedelta(hours=10)  # e.g. quiet hours
    events_before = session.scalar(select(OutboxEvent.id).order_by(OutboxEvent.id.desc()).limit(1))
    with time_machine.travel(utcnow() + timedelta(minutes=30), tick=False):
        assert requeue_stuck_messages() == {"requeued": 0}
    assert session.scalar(select(OutboxEvent.id).order_by(OutboxEvent.id.desc()).limit(1)) == events_before
    assert session.get(Message, sent_id).status == MessageStatus.SENT


def _worker(session, status: WorkerStatus) -> Worker:
    worker = Worker(phone=PHONE, name="张三", registered_via=RegisteredVia.SMS, status=status)
    session.add(worker)
    session.flush()
    return worker


@pytest.mark.parametrize(
    "before, change, after",
    [
        (WorkerStatus.ACTIVE, "opt_out", WorkerStatus.OPTED_OUT),
        (WorkerStatus.BLOCKED, "opt_out", WorkerStatus.BLOCKED),
        (WorkerStatus.ACTIVE, "undeliverable", WorkerStatus.UNDELIVERABLE),
        (WorkerStatus.OPTED_OUT, "undeliverable", WorkerStatus.OPTED_OUT),
        (WorkerStatus.BLOCKED, "undeliverable", WorkerStatus.BLOCKED),
    ],
)
def test_a_carrier_report_never_undoes_an_agents_block_or_a_workers_opt_out(session, before, change, after):
    worker = _worker(session, before)
    if change == "opt_out":
        mark_opted_out(session, PHONE)
    else:
        mark_undeliverable(session, PHONE, 21211)  # invalid: a landline (30006) is called instead
    assert worker.status == after


@pytest.mark.parametrize(
    "text, language",
    [
        ("HELP", "en"),
        ("ok thanks", "en"),
        ("帮助", "zh"),
        ("1", "zh"),
        ("Y", "zh"),
        ("1 a", "zh"),
        ("", "zh"),
    ],
)
def test_the_first_message_sets_the_language_only_when_it_holds_a_word(text, language):
    assert guess_language(text) == language


def test_a_reply_whose_job_was_lost_at_night_is_still_sent_at_once(runtime, session, client, seeded):
    """A reply is an answer to somebody who just wrote: however late the recovery of its lost job runs,
    it is not held until the morning (it used to lose its reply status after 10 minutes)."""
    from zoneinfo import ZoneInfo

    from dispatch.recovery import recover_lost_jobs
    from dispatch.settings import Settings
    from tests.helpers import text_in

    runtime.settings = Settings.load({**runtime.settings.__dict__, "QUIET_HOURS": "21:00-08:00"}, environ={})
    late_evening = datetime(2026, 12, 1, 22, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(late_evening, tick=False):
        text_in(client, "帮助", PHONE)  # a reply: not held, even at 22:00
        reply_id = outbound_to(session, PHONE)[-1].id
        runtime.redis.flushdb()  # ... but its job is lost (Redis restarted)
    with time_machine.travel(late_evening + timedelta(minutes=20), tick=False):
        assert recover_lost_jobs(runtime) == {"lost": 1, "done": 0}
        run_jobs(runtime)
    session.expire_all()
    sent = session.get(Message, reply_id)
    assert (sent.status, sent.is_reply, sent.send_after) == (MessageStatus.SENT, True, None)
