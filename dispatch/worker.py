"""Running RQ workers: `dispatch worker` (a process of its own) and the embedded worker thread.

`dispatch worker` outlives Redis: RQ's work loop gives up on some connection errors (and a worker that
exited stayed down until somebody restarted it), so it runs inside a loop that waits for Redis with a
short backoff, says so in the log, and starts working again within seconds of Redis's return.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from types import FrameType
from typing import Any

from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.timeouts import TimerDeathPenalty

from dispatch.db import can_wait
from dispatch.periodic import enqueue_due_periodic_tasks
from dispatch.queue import QUEUE_NAMES, get_queue, relay_all
from dispatch.runtime import Runtime
from dispatch.scheduler import InThreadScheduler

log = logging.getLogger(__name__)

# Waiting for Redis: first retry after this, doubling up to REDIS_RETRY_MAX (so work resumes within
# about that long of its return).
REDIS_RETRY_FIRST = 0.25
REDIS_RETRY_MAX = 2.0
# While Redis stays away, a reminder in the log this often.
REDIS_DOWN_REMINDER_SECONDS = 30.0


class DispatchWorker(SimpleWorker):
    """A SimpleWorker (no fork per job: about 4x the throughput on short jobs), tuned to stop and to
    survive Redis outages promptly.

    - No pub/sub command thread: we send workers no RQ commands, and with redis-py 8.2 stopping that
      thread waits out its 60 s read (rq 3.0 stops it without a timeout), so every shutdown stalled.
    - The blocking dequeue waits less than the client's socket timeout (else every idle wait ends in a
      TimeoutError, which RQ answers with a growing pause of up to 60 s before it listens again).
    - RQ's own retry of a lost connection is capped at REDIS_RETRY_MAX seconds.
    - A job that failed because the database or Redis was unavailable is not a bug: instead of waiting
      in RQ's failed registry it is forgotten, and the lost-job sweep (dispatch/recovery.py) runs it
      again once things are back.
    """

    max_connection_wait_time = REDIS_RETRY_MAX

    def __init__(self, *args: Any, stop_event: threading.Event | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("worker_ttl", 18)  # dequeue timeout = worker_ttl - 15 = 3 s < socket timeout 5 s
        super().__init__(*args, **kwargs)
        self.stop_event = stop_event
        self._failed_on_outage = False

    def handle_exception(self, job: Job, *exc_info: Any) -> None:
        error = exc_info[1] if len(exc_info) > 1 else None
        self._failed_on_outage = error is not None and (can_wait(error) or isinstance(error, RedisError))
        if self._failed_on_outage:
            log.warning("job %s stopped by an outage (%s); it will run again", job.id, type(error).__name__)
            return
        super().handle_exception(job, *exc_info)

    def handle_job_failure(self, job: Job, queue: Queue, *args: Any, **kwargs: Any) -> None:
        super().handle_job_failure(job, queue, *args, **kwargs)
        if self._failed_on_outage:
            self._failed_on_outage = False
            with contextlib.suppress(RedisError):  # Redis is the outage: the job's hash goes stale instead
                job.delete()

    def subscribe(self) -> None:
        pass

    def _install_signal_handlers(self) -> None:
        super()._install_signal_handlers()
        # A SIGTERM that came while RQ was still starting (before its handlers) set only our event.
        if self.stop_event is not None and self.stop_event.is_set():
            self._stop_requested = True

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_event is not None:
            self.stop_event.set()
        super().request_stop(signum, frame)


class ThreadWorker(DispatchWorker):
    """A worker that can run outside the main thread: no signal handlers, timer-based timeouts."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        pass


class RedisWatch:
    """Logs Redis going away once (loudly), a reminder now and then, and its return once."""

    def __init__(self) -> None:
        self.down_since: float | None = None
        self._reminded_at = 0.0

    def failed(self, error: BaseException) -> None:
        now = time.monotonic()
        if self.down_since is None:
            self.down_since = self._reminded_at = now
            log.error("REDIS UNAVAILABLE (%s): no jobs run until it is back; retrying", error)
        elif now - self._reminded_at >= REDIS_DOWN_REMINDER_SECONDS:
            self._reminded_at = now
            log.error("REDIS STILL UNAVAILABLE after %.0f s (%s); retrying", now - self.down_since, error)

    def succeeded(self) -> bool:
        """True when this success ends an outage."""
        if self.down_since is None:
            return False
        log.warning("Redis is back after %.1f s; working again", time.monotonic() - self.down_since)
        self.down_since = None
        return True


class Ticker:
    """Once a second, in a thread of the worker: move due scheduled jobs (when this worker holds the
    scheduler's lease) and enqueue the periodic jobs that are due. After a Redis outage it relays the
    outbox rows written meanwhile at once, instead of at the next outbox sweep."""

    def __init__(self, runtime: Runtime, queue_names: tuple[str, ...], stop: threading.Event) -> None:
        self.runtime = runtime
        self.stop = stop
        self.scheduler = InThreadScheduler(queue_names, runtime.redis)
        self.watch = RedisWatch()
        self.thread = threading.Thread(target=self._run, name="dispatch-ticker", daemon=True)

    def start(self) -> Ticker:
        self.thread.start()
        return self

    def tick(self) -> None:
        try:
            self.runtime.redis.ping()
            self.scheduler.tick()
        except RedisError as exc:
            self.watch.failed(exc)
            return
        if self.watch.succeeded():
            relay_all(self.runtime)
        enqueue_due_periodic_tasks(self.runtime)

    def _run(self) -> None:
        while not self.stop.wait(1.0):
            try:
                self.tick()
            except Exception:  # a bad tick must not stop scheduling for good
                log.exception("worker tick failed")

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=2)
        with contextlib.suppress(RedisError):  # else the lease runs out by itself
            self.scheduler.release()


def run_worker(runtime: Runtime, queue_names: tuple[str, ...] = QUEUE_NAMES, burst: bool = False) -> bool:
    """`dispatch worker`: work the queues until SIGTERM/SIGINT, whatever Redis does meanwhile.

    With `burst`, work what is queued (and due) once and return, as tests and one-off runs do."""
    queues = [get_queue(name, runtime.redis) for name in queue_names]
    if burst:
        return DispatchWorker(queues, connection=runtime.redis).work(burst=True, with_scheduler=True)
    stop = threading.Event()
    _stop_on_signals(stop)
    ticker = Ticker(runtime, queue_names, threading.Event()).start()
    replayer = _start_spool_replayer(runtime)
    worked = False
    try:
        while not stop.is_set():
            try:
                worker = DispatchWorker(queues, connection=runtime.redis, stop_event=stop)
                worked = worker.work(burst=False) or worked
            except RedisError as exc:
                ticker.watch.failed(exc)
            finally:
                _stop_on_signals(stop)  # RQ installed its own handlers for the loop's duration
            if not stop.is_set():
                _wait_for_redis(runtime, stop, ticker.watch)
    finally:
        ticker.close()
        if replayer is not None:
            replayer.close()
    log.info("worker stopped")
    return worked


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _wait_for_redis(runtime: Runtime, stop: threading.Event, watch: RedisWatch) -> None:
    delay = REDIS_RETRY_FIRST
    while not stop.is_set():
        try:
            runtime.redis.ping()
            return
        except RedisError as exc:
            watch.failed(exc)
        stop.wait(delay)
        delay = min(delay * 2, REDIS_RETRY_MAX)


def _start_spool_replayer(runtime: Runtime) -> Any:
    from dispatch.spool.replay import SpoolReplayer

    return SpoolReplayer(runtime).start()


class EmbeddedWorker:
    """The in-process queue worker of a first run (REDIS_URL=embedded): the web process runs the jobs.

    RQ's scheduler forks a process of its own, which an in-process fakeredis cannot share, so this
    loop runs the worker in burst mode, which enqueues due scheduled jobs inline, every `interval`.
    """

    def __init__(self, runtime: Runtime, interval: float = 0.5) -> None:
        self.runtime = runtime
        self.interval = interval
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="dispatch-embedded-worker", daemon=True)

    def start(self) -> EmbeddedWorker:
        self.thread.start()
        return self

    def _loop(self) -> None:
        queues = [get_queue(name, self.runtime.redis) for name in QUEUE_NAMES]
        while not self.stop.is_set():
            try:
                enqueue_due_periodic_tasks(self.runtime)
                ThreadWorker(queues, connection=self.runtime.redis).work(
                    burst=True, with_scheduler=True, logging_level="WARNING"
                )
            except Exception:
                log.exception("embedded worker loop failed; going on")
            time.sleep(self.interval)
