"""Migrations run on PostgreSQL (the session's `engine` is built by them) and on SQLite, both ways."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

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
