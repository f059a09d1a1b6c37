"""Prometheus metrics for `/metrics` (text format, prometheus_client).

Two kinds:
- Counts and ages read from the database, Redis and the spool at scrape time (gauges): texts by kind
  and status, offers, placements, unsent texts, queue depths, workers. Texts are sent by `dispatch
  worker` processes, which serve no HTTP and may run on other machines, so counters kept in the send
  path could not be scraped; the database holds the truth for every process at once, and these
  numbers survive restarts.
- The webhook latency histogram, observed in the web process that answered. Under gunicorn each worker
  process keeps its own, so prometheus_client's multiprocess mode adds them up: with
  PROMETHEUS_MULTIPROC_DIR set (by config/gunicorn.conf.py, in the master, before any worker starts),
  each process writes its samples to a file there and any process's `/metrics` reads them all.

prometheus_client chooses between in-process and multiprocess values when it is first imported, so
it must not be imported before PROMETHEUS_MULTIPROC_DIR is set: nothing imports this module at the
top of `dispatch` (create_app imports it inside).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator
from datetime import timedelta

from flask import Flask, g, request
from prometheus_client import CollectorRegistry, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from dispatch.clock import utcnow
from dispatch.models import Direction, Message, Offer, OfferStatus
from dispatch.ops import probes
from dispatch.ops.errors import first_line
from dispatch.runtime import Runtime

log = logging.getLogger(__name__)

WEBHOOK_PREFIXES = ("/sms/", "/ivr/")
# Twilio waits 15 s for a webhook's answer; most take milliseconds.
WEBHOOK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)
WINDOW = timedelta(hours=24)

WEBHOOK_LATENCY = Histogram(
    "dispatch_webhook_duration_seconds",
    "Time to answer a Twilio webhook, by route (e.g. /sms/inbound, /ivr/step/<step>)",
    ["endpoint"],
    buckets=WEBHOOK_BUCKETS,
    registry=None,  # collected explicitly in render(): in-process, or from every process's files
)


_failed_once: list[bool] = []


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def observe_webhooks(app: Flask) -> None:
    """Time every request to a webhook route, from the first before-request hook to teardown."""
    if "gunicorn.arbiter" in sys.modules and not multiprocess_dir():
        log.warning(
            "PROMETHEUS_MULTIPROC_DIR is not set: under gunicorn, /metrics counts only the webhooks of the "
            "worker process that answers it (set it in config/gunicorn.conf.py; docs/operations.md)"
        )

    @app.before_request
    def start_timer() -> None:
        g.dispatch_request_started = time.perf_counter()

    @app.teardown_request
    def observe(_error: BaseException | None) -> None:
        started = g.pop("dispatch_request_started", None)
        rule = request.url_rule
        if started is None or rule is None or not rule.rule.startswith(WEBHOOK_PREFIXES):
            return
        try:
            WEBHOOK_LATENCY.labels(endpoint=rule.rule).observe(time.perf_counter() - started)
        except Exception as exc:  # a metric must never cost a webhook (say, PROMETHEUS_MULTIPROC_DIR is gone)
            if not _failed_once:
                _failed_once.append(True)
                log.warning(
                    "webhook latency not recorded (%s: %s); further failures not logged",
                    type(exc).__name__,
                    exc,
                )


def render(runtime: Runtime) -> bytes:
    """The text exposition of every metric; the service's state is read now, and an outage of the
    database or Redis shows as dispatch_up{component=...} 0 instead of an error."""
    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_dir()
    if directory and not os.path.isdir(directory):
        # Cleaned away under a running service (a tmp cleaner): the latencies are lost, not the page.
        log.error(
            "PROMETHEUS_MULTIPROC_DIR %s is gone: webhook latencies left out; restart gunicorn", directory
        )
    elif directory:
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(WEBHOOK_LATENCY)
    registry.register(StateCollector(runtime))
    return generate_latest(registry)


class StateCollector(Collector):
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "dispatch_up", "1 when the component answered this scrape", labels=["component"]
        )
        database_up = True
        try:
            metrics = list(self._database())
        except SQLAlchemyError as exc:
            log.warning("metrics: database unavailable: %s", first_line(exc))
            database_up, metrics = False, []
        up.add_metric(["database"], 1.0 if database_up else 0.0)
        yield from metrics

        redis_up = probes.redis_error(self.runtime) is None
        if redis_up:
            try:
                metrics = list(self._redis())
            except Exception as exc:  # Redis went away during the scrape
                log.warning("metrics: redis unavailable: %s", first_line(exc))
                redis_up, metrics = False, []
            yield from metrics
        up.add_metric(["redis"], 1.0 if redis_up else 0.0)
        yield up
        yield from self._spool()

    def _database(self) -> Iterator[Metric]:
        since = utcnow() - WINDOW
        with probes.probe_session(self.runtime) as session:
            sms = GaugeMetricFamily(
                "dispatch_sms_outbound_24h",
                "Outbound texts created in the last 24 h, by kind and current status",
                labels=["kind", "status"],
            )
            rows = session.execute(
                select(Message.kind, Message.status, func.count())
                .where(Message.direction == Direction.OUTBOUND, Message.created_at >= since)
                .group_by(Message.kind, Message.status)
            )
            for kind, status, count in rows:
                sms.add_metric([kind or "", str(status)], float(count))
            yield sms

            unsent = probes.unsent(session)
            yield GaugeMetricFamily(
                "dispatch_sms_unsent",
                "Outbound texts due and not yet handed to the provider",
                value=unsent.count,
            )
            yield GaugeMetricFamily(
                "dispatch_sms_oldest_unsent_seconds",
                "How long the oldest unsent text has been due (0: none)",
                value=unsent.oldest_seconds or 0.0,
            )

            offers = GaugeMetricFamily(
                "dispatch_offers_24h", "Offers made in the last 24 h, by current status", labels=["status"]
            )
            by_status = session.execute(
                select(Offer.status, func.count()).where(Offer.created_at >= since).group_by(Offer.status)
            )
            for offer_status, count in by_status:
                offers.add_metric([str(offer_status)], float(count))
            yield offers

            placements = session.scalar(
                select(func.count()).where(Offer.status == OfferStatus.ACCEPTED, Offer.responded_at >= since)
            )
            yield GaugeMetricFamily(
                "dispatch_placements_24h",
                "Places taken (offers accepted and still held) in the last 24 h",
                value=float(placements or 0),
            )

    def _redis(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("dispatch_queue_jobs", "Jobs waiting in each RQ queue", labels=["queue"])
        failed = GaugeMetricFamily(
            "dispatch_queue_failed_jobs", "Jobs in each RQ queue's failed registry (bugs)", labels=["queue"]
        )
        for name, (waiting, failures) in probes.queue_depths(self.runtime.redis).items():
            depth.add_metric([name], float(waiting))
            failed.add_metric([name], float(failures))
        yield depth
        yield failed
        if self.runtime.settings.embedded_redis:
            return  # the embedded worker registers only while it runs a burst
        workers = probes.workers(self.runtime.redis)
        yield GaugeMetricFamily("dispatch_workers", "RQ workers registered", value=workers.count)
        if workers.heartbeat_seconds is not None:
            yield GaugeMetricFamily(
                "dispatch_worker_heartbeat_age_seconds",
                "Seconds since the newest heartbeat of any RQ worker",
                value=workers.heartbeat_seconds,
            )

    def _spool(self) -> Iterator[Metric]:
        try:
            spool = probes.spool_state(self.runtime.spool)
        except OSError as exc:
            log.warning("metrics: spool unreadable: %s", exc)
            return
        yield GaugeMetricFamily(
            "dispatch_spool_pending", "Webhooks waiting in the spool", value=spool.pending
        )
        yield GaugeMetricFamily(
            "dispatch_spool_oldest_seconds",
            "Age of the oldest webhook waiting in the spool (0: none)",
            value=spool.oldest_seconds or 0.0,
        )
        yield GaugeMetricFamily(
            "dispatch_spool_failed", "Webhooks in the spool's failed/ (need an operator)", value=spool.failed
        )
