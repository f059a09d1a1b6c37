"""Schema migrations with Alembic, configured in code (no alembic.ini to keep in step)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from dispatch.db import normalise_database_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str = "", connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if database_url:
        config.set_main_option("sqlalchemy.url", normalise_database_url(database_url).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(database_url: str = "", connection: Connection | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url, connection), revision)


def downgrade(database_url: str = "", connection: Connection | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url, connection), revision)
