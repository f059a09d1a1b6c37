"""dispatch.workers.services: registering a worker (new, again, with and without consent), updating
one, the name an agent types, the status a worker has without a block, and the limits it refuses."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from dispatch.clock import utcnow
from dispatch.models import Contact, RegisteredVia, Worker, WorkerStatus
from dispatch.workers import limits
from dispatch.workers import services as workers
from dispatch.workers.services import Skill, WorkerDetails, WorkerDetailsError

PHONE = "+8613900139055"


def details(catalogue, **changes) -> WorkerDetails:
    base = WorkerDetails(
        phone=PHONE,
        trades=(Skill(catalogue.trade("plumber_electrician"), 5), Skill(catalogue.trade("porter"))),
        home_site_id=catalogue.site("LZ-TX"),
        min_daily_pay=200,
        name="张三",
    )
    return dataclasses.replace(base, **changes)


def skills(worker: Worker) -> set[tuple[int, int]]:
    return {(row.trade_id, row.years_experience) for row in worker.trades}


def workers_in(session) -> list[Worker]:
    session.expire_all()
    return list(session.scalars(select(Worker).order_by(Worker.id)))


def contact(session) -> Contact | None:
    return session.scalar(select(Contact).where(Contact.phone == PHONE))


# -- registering ---------------------------------------------------------------------------------


def test_a_new_worker_without_consent_is_pending_with_what_was_taken_down(session, catalogue) -> None:
    entry = details(catalogue, language="en", notes="有电工证", prefers_voice=True)
    worker = workers.register(session, entry, RegisteredVia.COUNTER, consent=False)
    [saved] = workers_in(session)
    assert saved.id == worker.id
    assert (saved.name, saved.status, saved.registered_via, saved.consent_at) == (
        "张三",
        WorkerStatus.PENDING,
        RegisteredVia.COUNTER,
        None,
    )
    assert (saved.home_site_id, saved.min_daily_pay, saved.notes, saved.prefers_voice) == (
        catalogue.site("LZ-TX"),
        200,
        "有电工证",
        True,
    )
    assert skills(saved) == {(catalogue.trade("plumber_electrician"), 5), (catalogue.trade("porter"), 0)}
    assert contact(session).language == "en"


def test_a_new_worker_with_consent_is_active_from_then(session, catalogue) -> None:
    worker = workers.register(session, details(catalogue), RegisteredVia.SMS, consent=True)
    assert worker.status == WorkerStatus.ACTIVE and worker.registered_via == RegisteredVia.SMS
    assert worker.consent_at is not None and worker.consent_at <= utcnow()
    assert contact(session) is None  # no language given: no contact is made for it


def test_consent_may_be_dated_by_the_caller(session, catalogue) -> None:
    when = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    worker = workers.register(session, details(catalogue), RegisteredVia.COUNTER, consent=True, now=when)
    assert worker.consent_at == when


def test_a_worker_without_a_name_yet_has_an_empty_one(session, catalogue) -> None:
    worker = workers.register(session, details(catalogue, name=None), RegisteredVia.IVR, consent=False)
    assert worker.name == ""


def test_registering_again_with_consent_updates_the_same_worker(session, catalogue) -> None:
    first = workers.register(session, details(catalogue), RegisteredVia.COUNTER, consent=True)
    consent_at = first.consent_at
    again = details(
        catalogue,
        name="张三丰",
        trades=(Skill(catalogue.trade("plumber_electrician")), Skill(catalogue.trade("carpenter"), 2)),
        home_site_id=catalogue.site("LZ-ZJ"),
        min_daily_pay=400,
    )
    worker = workers.register(session, again, RegisteredVia.SMS, consent=True)
    [saved] = workers_in(session)
    assert saved.id == first.id == worker.id
    assert (saved.name, saved.home_site_id, saved.min_daily_pay) == ("张三丰", catalogue.site("LZ-ZJ"), 400)
    # The plumbing kept its years (none given again); the porter's row is gone; carpentry is new.
    assert skills(saved) == {(catalogue.trade("plumber_electrician"), 5), (catalogue.trade("carpenter"), 2)}
    assert (saved.consent_at, saved.registered_via, saved.status) == (
        consent_at,
        RegisteredVia.COUNTER,  # how they first registered
        WorkerStatus.ACTIVE,
    )


def test_registering_again_without_consent_changes_only_the_language(session, catalogue) -> None:
    workers.register(session, details(catalogue), RegisteredVia.SMS, consent=True)
    taken_down = details(
        catalogue,
        name=None,
        trades=(Skill(catalogue.trade("cleaner")),),
        min_daily_pay=150,
        language="en",
    )
    workers.register(session, taken_down, RegisteredVia.IVR, consent=False)
    [saved] = workers_in(session)
    assert (saved.name, saved.min_daily_pay, saved.registered_via) == ("张三", 200, RegisteredVia.SMS)
    assert len(saved.trades) == 2
    assert contact(session).language == "en"  # the language the caller chose on the phone


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (WorkerStatus.PENDING, WorkerStatus.ACTIVE),
        (WorkerStatus.UNDELIVERABLE, WorkerStatus.ACTIVE),  # the worker's own SMS proved the number
        (WorkerStatus.ACTIVE, WorkerStatus.ACTIVE),
        (WorkerStatus.PAUSED, WorkerStatus.PAUSED),  # registering again is no `空`
        (WorkerStatus.BLOCKED, WorkerStatus.BLOCKED),  # nor an agent's unblock
    ],
)
def test_what_consent_does_to_each_status(session, catalogue, before, after) -> None:
    worker = workers.register(session, details(catalogue), RegisteredVia.COUNTER, consent=False)
    worker.status = before
    session.flush()
    workers.register(session, details(catalogue), RegisteredVia.SMS, consent=True)
    assert workers_in(session)[0].status == after


def test_consent_from_an_opted_out_number_leaves_the_worker_opted_out(session, catalogue) -> None:
    session.add(Contact(phone=PHONE, opted_out_at=utcnow()))
    session.flush()
    worker = workers.register(session, details(catalogue), RegisteredVia.SMS, consent=True)
    assert worker.status == WorkerStatus.OPTED_OUT and worker.consent_at is not None


# -- updating -------------------------------------------------------------------------------------


def test_update_changes_what_is_given_and_keeps_the_rest(session, catalogue) -> None:
    worker = workers.register(
        session, details(catalogue, notes="有电工证"), RegisteredVia.COUNTER, consent=True
    )
    change = details(catalogue, name=None, min_daily_pay=260, trades=(Skill(catalogue.trade("porter"), 3),))
    workers.update(session, worker, change)
    [saved] = workers_in(session)
    assert (saved.name, saved.min_daily_pay, saved.notes, saved.status) == (
        "张三",
        260,
        "有电工证",
        WorkerStatus.ACTIVE,
    )
    assert skills(saved) == {(catalogue.trade("porter"), 3)}


def test_update_to_voice_makes_a_landline_worker_reachable_and_back(session, catalogue) -> None:
    """A number that takes no SMS is reached by the offers' calls once the worker prefers voice, and is
    undeliverable again when they no longer do; paused stays paused."""
    worker = workers.register(session, details(catalogue), RegisteredVia.COUNTER, consent=True)
    session.add(Contact(phone=PHONE, undeliverable_at=utcnow()))
    worker.status = WorkerStatus.UNDELIVERABLE
    workers.update(session, worker, details(catalogue, prefers_voice=True))
    assert worker.status == WorkerStatus.ACTIVE
    workers.update(session, worker, details(catalogue, prefers_voice=False))
    assert worker.status == WorkerStatus.UNDELIVERABLE
    worker.status = WorkerStatus.PAUSED
    workers.update(session, worker, details(catalogue, prefers_voice=True))
    assert worker.status == WorkerStatus.PAUSED


def test_record_of_is_what_an_audit_shows(session, catalogue) -> None:
    worker = workers.register(session, details(catalogue, language="en"), RegisteredVia.COUNTER, consent=True)
    assert workers.record_of(session, worker) == {
        "name": "张三",
        "trades": {"plumber_electrician": 5, "porter": 0},
        "min_daily_pay": 200,
        "home_site": "LZ-TX",
        "language": "en",
        "prefers_voice": False,
    }


def test_update_refuses_another_numbers_details(session, catalogue) -> None:
    worker = workers.register(session, details(catalogue), RegisteredVia.COUNTER, consent=True)
    with pytest.raises(WorkerDetailsError):
        workers.update(session, worker, details(catalogue, phone="+8613900139056", min_daily_pay=999))
    assert workers_in(session)[0].min_daily_pay == 200


def test_a_name_typed_by_an_agent_may_be_longer_than_one_a_worker_gives(session, catalogue) -> None:
    worker = workers.register(session, details(catalogue, name=None), RegisteredVia.IVR, consent=False)
    workers.rename(session, worker, "  阿卜杜热合曼·买买提  ")
    assert worker.name == "阿卜杜热合曼·买买提"
    workers.rename(session, worker, "名" * (limits.TYPED_NAME_MAX_LENGTH + 5))
    assert worker.name == "名" * limits.TYPED_NAME_MAX_LENGTH  # cut, as the column and SMS expect


@pytest.mark.parametrize(
    ("consent", "opted_out", "undeliverable", "status"),
    [
        (True, False, False, WorkerStatus.ACTIVE),
        (False, False, False, WorkerStatus.PENDING),
        (True, True, True, WorkerStatus.OPTED_OUT),  # the worker's own STOP outranks the carrier
        (True, False, True, WorkerStatus.UNDELIVERABLE),
    ],
)
def test_the_usual_status_follows_consent_and_the_contact(
    session, catalogue, consent, opted_out, undeliverable, status
) -> None:
    worker = workers.register(session, details(catalogue), RegisteredVia.COUNTER, consent=consent)
    now = utcnow()
    session.add(
        Contact(
            phone=PHONE,
            opted_out_at=now if opted_out else None,
            undeliverable_at=now if undeliverable else None,
        )
    )
    worker.status = WorkerStatus.BLOCKED
    session.flush()
    assert workers.usual_status(session, worker) == status


# -- limits ---------------------------------------------------------------------------------------


def _four_trades(catalogue) -> tuple[Skill, ...]:
    return tuple(Skill(catalogue.trade(code)) for code in ["porter", "cleaner", "painter", "carpenter"])


REFUSED = {
    "name too long": lambda c: {"name": "名" * (limits.NAME_MAX_LENGTH + 1)},
    "empty name": lambda c: {"name": ""},
    "pay too low": lambda c: {"min_daily_pay": limits.MIN_DAILY_PAY - 1},
    "pay too high": lambda c: {"min_daily_pay": limits.MAX_DAILY_PAY + 1},
    "no trade": lambda c: {"trades": ()},
    "too many trades": lambda c: {"trades": _four_trades(c)},
    "a trade twice": lambda c: {"trades": (Skill(c.trade("porter")), Skill(c.trade("porter"), 2))},
    "too many years": lambda c: {"trades": (Skill(c.trade("porter"), limits.MAX_YEARS + 1),)},
    "negative years": lambda c: {"trades": (Skill(c.trade("porter"), -1),)},
}


@pytest.mark.parametrize("case", sorted(REFUSED))
@pytest.mark.parametrize("consent", [True, False])
def test_details_out_of_bounds_are_refused_and_nothing_is_written(session, catalogue, case, consent) -> None:
    bad = details(catalogue, **REFUSED[case](catalogue))
    with pytest.raises(WorkerDetailsError):
        workers.register(session, bad, RegisteredVia.SMS, consent=consent)
    assert session.scalar(select(func.count()).select_from(Worker)) == 0


def test_details_at_the_limits_are_taken(session, catalogue) -> None:
    three = tuple(Skill(catalogue.trade(code), limits.MAX_YEARS) for code in ["porter", "cleaner", "painter"])
    for pay in (limits.MIN_DAILY_PAY, limits.MAX_DAILY_PAY):
        edge = details(catalogue, name="名" * limits.NAME_MAX_LENGTH, min_daily_pay=pay, trades=three)
        worker = workers.register(session, edge, RegisteredVia.SMS, consent=True)
        assert worker.min_daily_pay == pay and len(worker.trades) == limits.MAX_TRADES
