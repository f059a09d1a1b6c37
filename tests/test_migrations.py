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
