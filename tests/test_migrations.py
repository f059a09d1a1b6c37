"""Migrations run on PostgreSQL (the session's `engine` is built by them) and on SQLite, both ways."""

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData, Table, inspect, select, text
from sqlalchemy.exc import IntegrityError

from dispatch import migrate
from dispatch.db import make_engine
from dispatch.models import Base


def test_the_migrated_schema_matches_the_models(engine):
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_sqlite_upgrades_downgrades_and_upgrades_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    migrate.upgrade(url)
    sqlite = make_engine(url)
    assert set(Base.metadata.tables) <= set(inspect(sqlite).get_table_names())
    migrate.downgrade(url, revision="base")
    assert set(inspect(sqlite).get_table_names()) == {"alembic_version"}
    migrate.upgrade(url)
    assert set(Base.metadata.tables) <= set(inspect(sqlite).get_table_names())
    sqlite.dispose()


def test_the_question_each_number_was_asked_last_is_filled_in_by_the_upgrade(tmp_path):
    """Revision 0011 gives each contact the question the handlers read before it: the open offer or
    the open follow-up texted last (else a bare `1` would go to an older follow-up)."""
    from datetime import timedelta
    from importlib import import_module
    from pathlib import Path

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from dispatch.clock import utcnow
    from dispatch.jobs.services import JobRequest, create_job
    from dispatch.models import (
        Contact,
        Employer,
        JobSource,
        Offer,
        OfferStatus,
        QuestionKind,
        RegisteredVia,
        Site,
        Trade,
        Worker,
        WorkerStatus,
    )
    from dispatch.seed import seed

    url = f"sqlite:///{tmp_path / 'q.sqlite3'}"
    migrate.upgrade(url)
    sqlite = make_engine(url)
    now = utcnow()
    with Session(sqlite) as session:
        seed(session, Path(__file__).resolve().parent.parent / "config")
        site, trade = session.scalars(select(Site)).first(), session.scalars(select(Trade)).first()
        employer = Employer(phone="+8613900000001", name="王老板", site_id=site.id)
        asked, silent = (
            Worker(
                phone=phone,
                name="张三",
                status=WorkerStatus.ACTIVE,
                min_daily_pay=200,
                registered_via=RegisteredVia.COUNTER,
            )
            for phone in ("+8613900000002", "+8613900000003")
        )
        session.add_all([employer, asked, silent])
        session.flush()
        request = JobRequest(
            trade_id=trade.id,
            headcount=1,
            work_date=(now + timedelta(days=2)).date(),
            start_time=now.time().replace(microsecond=0),
            days=1,
            daily_pay=300,
            site_id=site.id,
            address="",
        )
        job = create_job(session, employer, request, JobSource.AGENT)
        session.flush()
        for worker, status in ((asked, OfferStatus.SENT), (silent, OfferStatus.DECLINED)):
            session.add(
                Offer(
                    job_id=job.id,
                    worker_id=worker.id,
                    wave=1,
                    status=status,
                    sent_at=now - timedelta(minutes=5),
                    expires_at=now + timedelta(hours=1),
                    created_at=now,
                )
            )
            session.add(Contact(phone=worker.phone, language="zh", created_at=now))
        session.commit()
        phones, job_id = (asked.phone, silent.phone), job.id
    this = import_module("dispatch.migrations.versions.0011_contact_question")
    migrate.downgrade(url, revision=this.down_revision)
    migrate.upgrade(url)
    with Session(sqlite) as session:
        questions = {
            contact.phone: (contact.question_kind, contact.question_job_id)
            for contact in session.scalars(select(Contact))
        }
    sqlite.dispose()
    assert questions == {phones[0]: (QuestionKind.OFFER, job_id), phones[1]: (None, None)}


# 0009: the per-offer facts move out of job.matching's id lists into columns of offer, and back.

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
JOB_UPDATED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
WAVES = [{"wave": 1, "radius_km": 5.0, "offers": 3, "expires_at": "2026-12-01T09:00:00+00:00"}]
DUE = "2026-12-01T08:05:00+00:00"


@pytest.fixture(params=["sqlite", "postgresql"])
def at_0008(request, tmp_path, service_urls) -> Iterator[Connection]:
    """A connection to a database migrated to 0008: a SQLite file, or (inside a transaction rolled back
    at the end) a schema of its own in the test's PostgreSQL, the tests' own tables left alone."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
        migrate.upgrade(url, revision="0008")
        engine = make_engine(url)
        with engine.connect() as connection:
            yield connection
    else:
        if not service_urls["database"].startswith("postgres"):
            pytest.skip("no PostgreSQL")
        engine = make_engine(service_urls["database"])
        with engine.connect() as connection:
            transaction = connection.begin()
            connection.execute(text("CREATE SCHEMA migration_0009"))
            connection.execute(text("SET LOCAL search_path TO migration_0009"))
            migrate.upgrade(connection=connection, revision="0008")
            yield connection
            transaction.rollback()
    engine.dispose()


def _insert(connection: Connection, name: str, **values: Any) -> int:
    """A row with the given values, and a plain value for every other required column of 0008."""
    table = Table(name, MetaData(), autoload_with=connection)
    plain: dict[type, Any] = {int: 1, float: 0.0, str: "x", bool: False, dict: {}, object: {}}  # object: JSON
    plain.update({datetime: T0, date: T0.date(), time: time(8, 0)})
    row = {
        column.name: plain[column.type.python_type]
        for column in table.columns
        if not column.nullable and column.server_default is None and not column.primary_key
    }
    return connection.execute(table.insert().values({**row, **values}).returning(table.c.id)).scalar_one()


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without their zone (they are stored in UTC)."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _offer_facts(connection: Connection) -> dict[int, tuple[Any, ...]]:
    offer = Table("offer", MetaData(), autoload_with=connection)
    query = select(
        offer.c.id, offer.c.given_back_at, offer.c.cancelled_late, offer.c.uninsured, offer.c.employer_told_at
    )
    return {
        row.id: (
            _utc(row.given_back_at),
            bool(row.cancelled_late),
            bool(row.uninsured),
            _utc(row.employer_told_at),
        )
        for row in connection.execute(query)
    }


def _matching(connection: Connection) -> dict[int, dict[str, Any]]:
    job = Table("job", MetaData(), autoload_with=connection)
    return {job_id: matching for job_id, matching in connection.execute(select(job.c.id, job.c.matching))}


def _market_at_0008(connection: Connection) -> dict[str, int]:
    """Jobs whose matching JSON lists offers as 0008 kept them, with times to copy from."""
    trade = _insert(connection, "trade", code="porter", high_risk=False)
    site = _insert(connection, "site", code="LZ-TX", level="town")
    employer = _insert(connection, "employer", phone="+8613600000001", status="active")
    workers = [
        _insert(connection, "worker", phone=f"+861390000000{n}", status="active", registered_via="sms")
        for n in range(1, 8)
    ]

    def job(**values: Any) -> int:
        return _insert(
            connection,
            "job",
            employer_id=employer,
            trade_id=trade,
            site_id=site,
            status="open",
            source="sms",
            updated_at=JOB_UPDATED,
            **values,
        )

    def offer(job_id: int, worker: int, status: str, responded_at: datetime | None = None) -> int:
        return _insert(
            connection, "offer", job_id=job_id, worker_id=worker, status=status, responded_at=responded_at
        )

    a, b, c = job(matching={}), job(matching={"seed": 3}), job(matching={})
    ids = {
        "a": a,
        "b": b,
        "c": c,
        "given_back": offer(a, workers[0], "cancelled", T0 + timedelta(hours=1)),
        "given_back_late": offer(a, workers[1], "cancelled"),  # no answer time: the job's updated_at
        "uninsured": offer(a, workers[2], "cancelled", T0 + timedelta(hours=2)),
        "told": offer(a, workers[3], "accepted", T0 + timedelta(hours=3)),
        "plain": offer(a, workers[4], "sent"),
        "other_job": offer(b, workers[5], "accepted", T0),
        "late_only": offer(c, workers[6], "cancelled", T0 + timedelta(hours=4)),
    }
    job_table = Table("job", MetaData(), autoload_with=connection)
    lists = {
        a: {
            "seed": 7,
            "waves": WAVES,
            "employer_notice_due": DUE,
            "given_back": [ids["given_back"], ids["given_back_late"]],
            "late_cancelled": [ids["given_back_late"]],
            "uninsured": [ids["uninsured"]],
            "employer_told": [ids["given_back"], ids["told"]],
        },
        # An id of another job's offer: it is not this job's to mark.
        b: {"seed": 3, "uninsured": [ids["plain"]]},
        # Late but not listed as given back (nothing wrote that, but the CHECK would refuse it): a place
        # given back late was given back.
        c: {"late_cancelled": [ids["late_only"]]},
    }
    for job_id, matching in lists.items():
        connection.execute(job_table.update().where(job_table.c.id == job_id).values(matching=matching))
    return ids


def test_0009_moves_the_offer_facts_into_columns_and_back(at_0008: Connection):
    connection = at_0008
    ids = _market_at_0008(connection)

    migrate.upgrade(connection=connection, revision="0009")

    facts = _offer_facts(connection)
    # The time each fact became true was never kept: the offer's answer time stands in, else the job's.
    assert facts[ids["given_back"]] == (T0 + timedelta(hours=1), False, False, T0 + timedelta(hours=1))
    assert facts[ids["given_back_late"]] == (JOB_UPDATED, True, False, None)
    assert facts[ids["uninsured"]] == (None, False, True, None)
    assert facts[ids["told"]] == (None, False, False, T0 + timedelta(hours=3))
    assert facts[ids["plain"]] == (None, False, False, None)
    assert facts[ids["other_job"]] == (None, False, False, None)
    assert facts[ids["late_only"]] == (T0 + timedelta(hours=4), True, False, None)
    matching = _matching(connection)
    assert matching[ids["a"]] == {"seed": 7, "waves": WAVES, "employer_notice_due": DUE}
    assert matching[ids["b"]] == {"seed": 3}
    assert matching[ids["c"]] == {}

    migrate.downgrade(connection=connection, revision="0008")

    columns = {column["name"] for column in inspect(connection).get_columns("offer")}
    assert not columns & {"given_back_at", "cancelled_late", "uninsured", "employer_told_at"}
    matching = _matching(connection)
    assert matching[ids["a"]] == {
        "seed": 7,
        "waves": WAVES,
        "employer_notice_due": DUE,
        "given_back": [ids["given_back"], ids["given_back_late"]],
        "late_cancelled": [ids["given_back_late"]],
        "uninsured": [ids["uninsured"]],
        "employer_told": [ids["given_back"], ids["told"]],
    }
    assert matching[ids["b"]] == {"seed": 3}
    assert matching[ids["c"]] == {"given_back": [ids["late_only"]], "late_cancelled": [ids["late_only"]]}


def test_0009_a_late_cancellation_needs_a_place_given_back_in_the_database(at_0008: Connection):
    """The CHECK is in the migrated schema of both databases, not only in the models."""
    connection = at_0008
    ids = _market_at_0008(connection)
    migrate.upgrade(connection=connection, revision="0009")
    offer = Table("offer", MetaData(), autoload_with=connection)

    with pytest.raises(IntegrityError, match="ck_offer_cancelled_late_given_back"), connection.begin_nested():
        connection.execute(offer.update().where(offer.c.id == ids["plain"]).values(cancelled_late=True))
    with connection.begin_nested():  # given back and late: allowed
        connection.execute(
            offer.update().where(offer.c.id == ids["plain"]).values(given_back_at=T0, cancelled_late=True)
        )
