"""Operator errors: a bad setting, config file or service, told in one line that names it and what to do.

The CLI catches these few exception types at the command boundary (tracebacks only with `--debug`);
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from redis import exceptions as redis_errors
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from dispatch.config_files import SeedError
from dispatch.db import is_database_unavailable, normalise_database_url
from dispatch.settings import SettingsError

if TYPE_CHECKING:
    from dispatch.settings import Settings

DATABASE_EXAMPLE = "postgresql://user:password@host:5432/dispatch"
REDIS_EXAMPLE = "redis://host:6379/0"
# The drivers installed with dispatch: psycopg 3 (what postgresql:// means here) and the stdlib's sqlite3.
SUPPORTED_DRIVERS = frozenset({"postgresql+psycopg", "sqlite", "sqlite+pysqlite"})
UNDEFINED_TABLE = "42P01"


class OperatorError(RuntimeError):
    """Something the operator must fix (a setting, a file, a service); the message says what and how."""


def mask_url(url: str) -> str:
    """The URL with its password replaced by ***, for messages and logs."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.rsplit("@", 1)[1]
        user = parts.username or ""
        return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))
    except ValueError:
        return "(unparsable)"


def check_database_url(url: str) -> None:
    """Raise OperatorError unless DATABASE_URL is a URL of a database dispatch can use."""
    try:
        parsed = make_url(normalise_database_url(url))
    except (sa_exc.ArgumentError, ValueError) as exc:
        raise OperatorError(
            f"DATABASE_URL is not a database URL ({exc}): set it like {DATABASE_EXAMPLE}"
        ) from None
    if parsed.drivername not in SUPPORTED_DRIVERS:
        backend = parsed.get_backend_name()
        if backend == "postgresql":
            hint = f"write postgresql:// (dispatch uses psycopg 3), like {DATABASE_EXAMPLE}"
        else:
            hint = f"dispatch runs on PostgreSQL: set it like {DATABASE_EXAMPLE} (sqlite:///path for a trial)"
        raise OperatorError(
            f"DATABASE_URL uses {parsed.drivername}://, which dispatch does not support; {hint}"
        )


def check_redis_url(url: str) -> None:
    """Raise OperatorError unless REDIS_URL is `embedded` or a URL redis-py can parse."""
    if url == "embedded":
        return
    from redis.connection import parse_url

    try:
        parse_url(url)
    except ValueError as exc:
        raise OperatorError(
            f"REDIS_URL is not a Redis URL ({exc}): set it like {REDIS_EXAMPLE} (or `embedded` for a trial)"
        ) from None


def first_line(error: BaseException, limit: int = 200) -> str:
    """The first line of an error's message, without SQLAlchemy's prefixes and links."""
    source = getattr(error, "orig", None) or error
    text = (str(source).strip().splitlines() or [type(error).__name__])[0].strip()
    text = text.removeprefix("connection failed: ").rstrip(". ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(error: BaseException, settings: Settings | None) -> str | None:
    """The one line an operator is shown for `error`, or None when it is a bug (shown with its traceback)."""
    database = mask_url(settings.DATABASE_URL) if settings else "DATABASE_URL"
    if isinstance(error, OperatorError | SettingsError):
        return str(error)
    if isinstance(error, SeedError) or _is_matching_config_error(error):
        return f"{error} (fix the file, or set CONFIG_DIR to the directory holding the right one)"
    if isinstance(error, tomllib.TOMLDecodeError):
        return f"a config file under CONFIG_DIR is not valid TOML: {error}"
    if isinstance(error, sa_exc.NoSuchModuleError):  # (an ArgumentError is a bug: the URL was checked)
        return f"DATABASE_URL cannot be used ({first_line(error)}): set it like {DATABASE_EXAMPLE}"
    if isinstance(error, sa_exc.DBAPIError) and _is_missing_table(error):
        return (
            f"the database at {database} has no tables yet ({first_line(error)}): run `dispatch db upgrade`"
        )
    if isinstance(error, sa_exc.DBAPIError) and is_database_unavailable(error):
        hint = _database_hint(error)
        return f"cannot use the database at {database} (DATABASE_URL): {first_line(error)}; {hint}"
    if isinstance(error, redis_errors.ConnectionError | redis_errors.TimeoutError):
        redis = mask_url(settings.REDIS_URL) if settings else "REDIS_URL"
        return f"cannot reach Redis at {redis} (REDIS_URL): {first_line(error)}; is Redis running?"
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror or error}{_setting_of(str(error.filename), settings)}"
    if _is_alembic_error(error):
        return f"{error} (see `dispatch db --help`)"
    return None


def _is_missing_table(error: sa_exc.DBAPIError) -> bool:
    # PostgreSQL says so by its SQLSTATE; SQLite only in words.
    state = getattr(error.orig, "sqlstate", None)
    return state == UNDEFINED_TABLE or (state is None and "no such table" in str(error.orig))


def _database_hint(error: BaseException) -> str:
    text = str(getattr(error, "orig", error))
    if "does not exist" in text:
        return "create it (createdb NAME) or fix the name in DATABASE_URL"
    if "authentication" in text or "password" in text:
        return "fix the user or password in DATABASE_URL"
    return "is PostgreSQL running there, and is the URL right?"


def _setting_of(filename: str, settings: Settings | None) -> str:
    """Which directory setting a path falls under, as a hint."""
    if settings is None:
        return ""
    path = Path(filename)
    for name in ("CONFIG_DIR", "SPOOL_DIR", "PROMPTS_DIR"):
        root = Path(getattr(settings, name))
        if path == root or root in path.parents:
            return f" (under {name}={root}: set {name}, or fix the file or its permissions)"
    return ""


def _is_matching_config_error(error: BaseException) -> bool:
    from dispatch.matching.config import MatchingConfigError

    return isinstance(error, MatchingConfigError)


def _is_alembic_error(error: BaseException) -> bool:
    from alembic.util.exc import CommandError

    return isinstance(error, CommandError)
