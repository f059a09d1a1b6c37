"""`dispatch check`: is this machine's configuration ready to run the service? A pass/fail list.

Run it as the service's user, with the service's environment (e.g. `set -a; . /etc/dispatch.env`):
it reads and connects, writes only a probe file into SPOOL_DIR, and never calls Twilio.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

import phonenumbers
from redis.exceptions import RedisError
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from dispatch.config_files import SITES_FILE, TRADES_FILE, SeedError, read_sites, read_trades
from dispatch.db import Database, Timeouts
from dispatch.ops import probes
from dispatch.ops.errors import OperatorError, check_database_url, check_redis_url, first_line, mask_url
from dispatch.settings import Settings
from dispatch.spool.store import Spool

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"
ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
MESSAGING_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
AUTH_TOKEN = re.compile(r"[0-9a-fA-F]{32}")
# Nothing should wait in the spool longer than this once the database is up (see docs/operations.md).
SPOOL_PENDING_MAX_SECONDS = 60
# Redis policies that may drop keys under memory pressure, RQ's queues among them.
EVICTING = re.compile(r"allkeys-|volatile-")


@dataclass(frozen=True)
class Result:
    status: str
    name: str
    detail: str


class Checks:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.database: Database | None = None

    def run(self) -> Iterator[Result]:
        yield Result(
            PASS,
            "settings",
            f"DISPATCH_ENV={self.settings.DISPATCH_ENV}, SMS_TRANSPORT={self.settings.SMS_TRANSPORT}",
        )
        database = self.check_database()
        yield database
        if database.status == PASS:
            yield self.check_migrations()
            yield self.check_seeded()
        else:
            yield Result(SKIP, "migrations", "the database is not reachable")
            yield Result(SKIP, "seeded", "the database is not reachable")
        if self.database is not None:
            self.database.engine.dispose()
        yield self.check_redis()
        yield from self.check_config()
        yield self.check_twilio()
        yield self.check_public_url()
        yield self.check_spool()

    # -- database ------------------------------------------------------------------------------------
    def check_database(self) -> Result:
        url = self.settings.DATABASE_URL
        try:
            check_database_url(url)
            self.database = Database(url, timeouts=Timeouts.from_settings(self.settings))
            with self.database.engine.connect() as connection:
                version = connection.execute(
                    text(
                        "SELECT version()"
                        if connection.dialect.name == "postgresql"
                        else "SELECT sqlite_version()"
                    )
                ).scalar_one()
        except OperatorError as exc:
            return Result(FAIL, "database", str(exc))
        except SQLAlchemyError as exc:
            return Result(FAIL, "database", f"{mask_url(url)} (DATABASE_URL): {first_line(exc)}")
        name = " ".join(str(version).split()[:2]) if "PostgreSQL" in str(version) else f"SQLite {version}"
        return Result(PASS, "database", f"{mask_url(url)}: {name}")

    def check_migrations(self) -> Result:
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        from dispatch.migrate import alembic_config

        script = ScriptDirectory.from_config(alembic_config())
        heads = set(script.get_heads())
        assert self.database is not None
        try:
            with self.database.engine.connect() as connection:
                current = set(MigrationContext.configure(connection).get_current_heads())
        except SQLAlchemyError as exc:
            return Result(FAIL, "migrations", first_line(exc))
        if current == heads:
            return Result(PASS, "migrations", f"at head {', '.join(sorted(heads))}")
        if not current:
            return Result(FAIL, "migrations", "the database has no schema: run `dispatch db upgrade`")
        known = {revision.revision for revision in script.walk_revisions()}
        unknown = current - known
        if unknown:
            return Result(
                FAIL,
                "migrations",
                f"the database is at {', '.join(sorted(unknown))}, which this code does not know "
                "(written by a newer release?)",
            )
        return Result(
            FAIL,
            "migrations",
            f"the database is at {', '.join(sorted(current))}, the code at {', '.join(sorted(heads))}: "
            "run `dispatch db upgrade`",
        )

    def check_seeded(self) -> Result:
        from dispatch.models import Site, Trade

        assert self.database is not None
        try:
            with self.database.sessionmaker() as session:
                sites = session.scalar(select(func.count()).select_from(Site)) or 0
                trades = session.scalar(select(func.count()).select_from(Trade)) or 0
        except SQLAlchemyError as exc:
            return Result(SKIP, "seeded", f"cannot count sites and trades: {first_line(exc)}")
        if not sites or not trades:
            return Result(FAIL, "seeded", f"{sites} sites, {trades} trades: run `dispatch seed`")
        return Result(PASS, "seeded", f"{sites} sites, {trades} trades")

    # -- Redis ---------------------------------------------------------------------------------------
    def check_redis(self) -> Result:
        url = self.settings.REDIS_URL
        if self.settings.embedded_redis:
            return Result(PASS, "redis", "embedded (in-process, inside `dispatch serve`): for a trial only")
        try:
            check_redis_url(url)
        except OperatorError as exc:
            return Result(FAIL, "redis", str(exc))
        from dispatch.runtime import connect_redis

        redis = connect_redis(url)
        try:
            redis.ping()
        except RedisError as exc:
            return Result(FAIL, "redis", f"{mask_url(url)} (REDIS_URL): {first_line(exc)}; is Redis running?")
        try:
            policy = str(redis.config_get("maxmemory-policy").get("maxmemory-policy", ""))
        except RedisError:  # CONFIG is often disabled on a managed Redis
            policy = ""
        finally:
            redis.close()
        if EVICTING.match(policy):
            return Result(
                FAIL,
                "redis",
                f"{mask_url(url)}: maxmemory-policy is {policy}: set noeviction (jobs could be dropped)",
            )
        return Result(PASS, "redis", f"{mask_url(url)}" + (f", maxmemory-policy {policy}" if policy else ""))

    # -- config files --------------------------------------------------------------------------------
    def check_config(self) -> Iterator[Result]:
        from dispatch.matching import config as matching_config

        directory = Path(self.settings.CONFIG_DIR)
        readers: list[tuple[str, Callable[[], str]]] = [
            (SITES_FILE, lambda: f"{len(read_sites(directory / SITES_FILE))} sites"),
            (TRADES_FILE, lambda: f"{len(read_trades(directory / TRADES_FILE))} trades"),
            (
                matching_config.FILE_NAME,
                lambda: f"{len(matching_config.load(self.settings).radius_km)} waves",
            ),
        ]
        for name, read in readers:
            path = directory / name
            try:
                summary = read()
            except (SeedError, matching_config.MatchingConfigError) as exc:
                yield Result(FAIL, name, str(exc))
            except tomllib.TOMLDecodeError as exc:
                yield Result(FAIL, name, f"{path}: not valid TOML: {exc}")
            except OSError as exc:
                yield Result(FAIL, name, f"{path}: {exc.strerror or exc} (CONFIG_DIR={directory})")
            else:
                yield Result(PASS, name, f"{path}: {summary}")

    # -- Twilio --------------------------------------------------------------------------------------
    def check_twilio(self) -> Result:
        settings = self.settings
        if settings.SMS_TRANSPORT == "aliyun":
            return Result(PASS, "twilio", "SMS_TRANSPORT=aliyun: texts go through Alibaba Cloud SMS")
        if not settings.sends_with_twilio:
            return Result(
                PASS, "twilio", f"SMS_TRANSPORT={settings.SMS_TRANSPORT}: texts are recorded, not sent"
            )
        problems = []
        if not ACCOUNT_SID.fullmatch(settings.TWILIO_ACCOUNT_SID):
            problems.append("TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits")
        if not AUTH_TOKEN.fullmatch(settings.TWILIO_AUTH_TOKEN):
            problems.append("TWILIO_AUTH_TOKEN must be 32 hex digits")
        service = settings.TWILIO_MESSAGING_SERVICE_SID
        if service and not MESSAGING_SERVICE_SID.fullmatch(service):
            problems.append("TWILIO_MESSAGING_SERVICE_SID must be MG followed by 32 hex digits")
        sender = settings.TWILIO_FROM_NUMBER
        if sender and not _is_e164(sender):
            problems.append("TWILIO_FROM_NUMBER must be a number in E.164 form, like +8610690000")
        if problems:
            return Result(FAIL, "twilio", "; ".join(problems) + " (copy them from the Twilio console)")
        sender_text = f"messaging service {service}" if service else f"from {sender}"
        return Result(
            PASS, "twilio", f"account {settings.TWILIO_ACCOUNT_SID[:6]}…, {sender_text} (format only)"
        )

    def check_public_url(self) -> Result:
        url = self.settings.PUBLIC_BASE_URL
        production = self.settings.is_production
        if not url:
            if production:
                return Result(FAIL, "public-url", "PUBLIC_BASE_URL is not set: Twilio's callbacks need it")
            return Result(PASS, "public-url", "PUBLIC_BASE_URL not set: not reachable by Twilio (a trial)")
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 -- raises ValueError on a bad port
        except ValueError as exc:
            return Result(FAIL, "public-url", f"PUBLIC_BASE_URL {url!r} is not a URL: {exc}")
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            return Result(
                FAIL, "public-url", f"PUBLIC_BASE_URL {url!r} must look like https://dispatch.example.org"
            )
        if production and parts.scheme != "https":
            return Result(FAIL, "public-url", f"PUBLIC_BASE_URL {url!r} must be https in production")
        if parts.query or parts.fragment or parts.username or parts.password:
            return Result(
                FAIL, "public-url", f"PUBLIC_BASE_URL {url!r} must have no user, query or #fragment"
            )
        path = parts.path.rstrip("/")
        if re.search(r"/(sms|ivr|console)(/|$)", path):
            return Result(
                FAIL,
                "public-url",
                f"PUBLIC_BASE_URL {url!r} ends in a route of the app: set only where the app is mounted, "
                f"like {parts.scheme}://{parts.netloc}",
            )
        note = f" (the app under the prefix {path}: the proxy must pass it on)" if path else ""
        return Result(PASS, "public-url", f"{parts.scheme}://{parts.netloc}{path}{note}")

    # -- spool ---------------------------------------------------------------------------------------
    def check_spool(self) -> Result:
        root = Path(self.settings.SPOOL_DIR)
        as_root = " (checked as root: run `dispatch check` as the service's user)" if _is_root() else ""
        if not root.exists():
            parent = next((p for p in root.parents if p.exists()), None)
            if parent is None or not os.access(parent, os.W_OK | os.X_OK):
                return Result(
                    FAIL, "spool", f"SPOOL_DIR {root} does not exist and cannot be created{as_root}"
                )
            return Result(PASS, "spool", f"{root}: not there yet, will be created{as_root}")
        try:
            with tempfile.NamedTemporaryFile(dir=root, prefix=".check-"):
                pass
        except OSError as exc:
            return Result(FAIL, "spool", f"SPOOL_DIR {root} is not writable: {exc.strerror or exc}{as_root}")
        state = probes.spool_state(Spool(root))
        if state.oldest_seconds is not None and state.oldest_seconds > SPOOL_PENDING_MAX_SECONDS:
            return Result(
                FAIL,
                "spool",
                f"{state.pending} webhooks in {root}/pending, the oldest {state.oldest_seconds:.0f} s old: "
                "is the database up, and a web or worker process running to replay them?",
            )
        if state.failed:
            return Result(
                FAIL,
                "spool",
                f"{state.failed} webhooks in {root}/failed: read the logs for why, move them back to "
                "pending/ once fixed (docs/operations.md)",
            )
        return Result(PASS, "spool", f"{root}: writable, {state.pending} pending, none failed{as_root}")


def _is_e164(number: str) -> bool:
    try:
        return number.startswith("+") and phonenumbers.is_possible_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return False


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def run(settings: Settings | None, settings_error: str | None = None, out: TextIO | None = None) -> int:
    """Print one line per check; 0 when all pass, 1 when any fails."""
    out = out or sys.stdout
    if settings is None:
        results = [
            Result(FAIL, "settings", settings_error or "the settings did not load"),
            Result(SKIP, "the-rest", "fix the settings first"),
        ]
    else:
        results = list(Checks(settings).run())
    width = max(len(result.name) for result in results)
    for result in results:
        print(f"{result.status}  {result.name:<{width}}  {result.detail}", file=out)
    failed = sum(result.status == FAIL for result in results)
    passed = sum(result.status == PASS for result in results)
    skipped = len(results) - failed - passed
    print(f"{passed} passed, {failed} failed, {skipped} skipped", file=out)
    return 1 if failed else 0
