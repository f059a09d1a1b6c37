"""The global words: what they mean does not depend on anything asked before.

STOP/退订, START/订阅, the language, HELP/帮助, 注册 (register), and a worker's 忙/空/我的 (pause,
resume, profile).
"""

from __future__ import annotations

from dispatch.catalogue import find_trade, trade_short_name
from dispatch.inbound import keywords
from dispatch.inbound.context import Inbound
from dispatch.matching import attendance, pull
from dispatch.matching import replies as offer_replies
from dispatch.models import Site, WorkerStatus
from dispatch.sms import registration
from dispatch.sms.parser import CommandKind
from dispatch.sms.services import mark_opted_in, mark_opted_out, reply
from dispatch.workers import record


def opt_out(inbound: Inbound) -> None:
    session, settings, message = inbound.session, inbound.settings, inbound.message
    already = inbound.contact.opted_out_at is not None
    mark_opted_out(session, message.phone)
    registration.drop_conversation(session, message.phone)  # START must not resume a half dialogue
    offer_replies.on_opt_out(session, settings, message)  # a place held: an agent calls
    if not already:  # exactly one confirmation, then silence
        reply(session, settings, message, "opt_out_confirm", "opt_out.confirm")


def opt_in(inbound: Inbound) -> None:
    mark_opted_in(inbound.session, inbound.message.phone)
    reply(inbound.session, inbound.settings, inbound.message, "opt_in_confirm", "opt_in.confirm")


def set_language(inbound: Inbound) -> None:
    inbound.contact.language = inbound.command.language or inbound.contact.language
    reply(inbound.session, inbound.settings, inbound.message, "language_set", "language.set")


def help_text(inbound: Inbound) -> None:
    reply(inbound.session, inbound.settings, inbound.message, "help", "help")


def how_to_register(inbound: Inbound) -> None:
    """A stranger's greeting or `找活`: how to sign up, not an agent's ticket."""
    reply(inbound.session, inbound.settings, inbound.message, "how_to_register", "how_to_register")


def how_to_post(inbound: Inbound) -> None:
    """`招工` alone, from anyone: how to post a job (by phone, or by text for a known employer)."""
    reply(inbound.session, inbound.settings, inbound.message, "how_to_post", "how_to_post")


def _record(inbound: Inbound) -> None:
    """After the profile, what the worker holds and this month's work, when there is any: a text of
    its own (the profile alone fills an English text)."""
    session, settings, message, worker = inbound.session, inbound.settings, inbound.message, inbound.worker
    assert worker is not None
    held = record.bookings(session, settings, worker, message.created_at)
    month = record.this_month(session, settings, worker, message.created_at)
    if not held and not month.days:
        return
    listed = held[: record.BOOKINGS_LISTED]
    reply(
        session,
        settings,
        message,
        "worker_record",
        "worker.record",
        bookings=[{"code": job.code, "date": job.work_date} for job in listed],
        more=len(held) - len(listed),
        month_days=month.days,
        month_pay=month.pay,
    )


def arrived(inbound: Inbound) -> None:
    """A placed worker's `到` (or `到 101`): on site, noted, and the employer told."""
    assert inbound.worker is not None
    code = attendance.read_arrival(inbound.command.text) or ""
    attendance.record_arrival(inbound.session, inbound.settings, inbound.message, inbound.worker, code)


def no_show(inbound: Inbound) -> None:
    """An employer's `没来 101` on the day: the worker did not come; the place is freed and refilled."""
    asked = attendance.read_no_show(inbound.command.text)
    assert inbound.employer is not None and asked is not None
    attendance.record_no_show(inbound.session, inbound.settings, inbound.message, inbound.employer, asked)


def jobs_near(inbound: Inbound) -> None:
    """A worker's `找活` (with a trade perhaps): the open jobs nearest them that they fit."""
    asked = keywords.work_asked_for(inbound.command.text) or ""
    trade = find_trade(inbound.session, asked) if asked else None
    assert inbound.worker is not None
    pull.answer(inbound.session, inbound.settings, inbound.message, inbound.worker, trade)


def register(inbound: Inbound) -> None:
    registration.start(inbound.session, inbound.settings, inbound.message, inbound.command.args)


def worker_command(inbound: Inbound) -> None:
    """忙 (pause), 空 (resume), 我的 (profile): they win over a dialogue in progress, which goes on
    afterwards: 我的 or 忙 is never a trade, a place, a wage or a name."""
    session, settings, message, worker = inbound.session, inbound.settings, inbound.message, inbound.worker
    if worker is None:
        reply(session, settings, message, "not_registered", "not_registered")
        return
    kind = inbound.command.kind
    if kind == CommandKind.PAUSE:
        if worker.status == WorkerStatus.ACTIVE:
            worker.status = WorkerStatus.PAUSED
        reply(session, settings, message, "paused", "worker.paused")
    elif kind == CommandKind.RESUME:
        if worker.status == WorkerStatus.PAUSED:
            worker.status = WorkerStatus.ACTIVE
        template = "resumed" if worker.status == WorkerStatus.ACTIVE else "not_active"
        reply(session, settings, message, template, "worker.resumed", status=worker.status.value)
    else:
        language = inbound.contact.language
        home: Site | None = worker.home_site
        reply(
            session,
            settings,
            message,
            "profile",
            "worker.profile",
            name=worker.name,
            trade_names=[trade_short_name(wt.trade, language) for wt in worker.trades],
            area=home.name(language) if home else "",
            pay=worker.min_daily_pay,
            status=worker.status.value,
        )
        _record(inbound)
