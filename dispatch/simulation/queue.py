"""Running the service's queued jobs in the simulation: real RQ SimpleWorker burst runs with RQ's
scheduler (as tests/helpers.run_jobs and the embedded worker do), plus the periodic jobs, whenever
something is due on the virtual clock.

Two things keep time by Redis's clock, which is the virtual one only for the in-process Redis, so the
simulation keeps them on its own clock (the same seed then gives the same day on a real Redis too):
- The send rate. The limiter hands out carrier slots and a send whose slot is ahead sleeps for it;
  on a virtual clock nobody would wait. So each send moves the clock on by the slot it took (1/rate
  a segment) and hands the slot back: a wave of 30 offers at 1 segment a second takes its minute of
  market time, and none of real time.
- The periodic jobs (dispatch.periodic.PERIODIC_TASKS), which a worker's ticker enqueues under a lock
  that expires after their interval: here they run when their interval has passed on the virtual
  clock, whenever the day wakes (the next morning also wakes for the follow-ups' run: see
  next_periodic), and at least every WAKE_AT_LEAST (timeline.py) so the lost-job sweep sees every
  finished job before RQ forgets it.
  A day may leave some out (`periodic_off`: what the day looks like without them).

The periodic jobs are called as the plain functions they are, not enqueued: the very task code a
worker would run, without RQ's enqueue, registries, execution and result records around it. They are
four jobs in five of a day and most find nothing to do, so that bookkeeping was most of a day's time
(docs/benchmarks.md "Simulation"). They run before the queued jobs of the same instant. One that
raises is logged and counted with RQ's failed jobs (the failed_jobs invariant), as a worker would.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from redis.client import Pipeline
from rq import Queue
from rq.job import Job as RqJob
from rq.scheduler import RQScheduler
from rq.utils import now as rq_now
from sqlalchemy import select

from dispatch.models import Message
from dispatch.periodic import PERIODIC_TASKS, PeriodicTask
from dispatch.queue import QUEUE_NAMES, get_queue, task_of
from dispatch.runtime import Runtime
from dispatch.simulation.clock import VirtualClock
from dispatch.simulation.command import TERMINATED, Terminated
from dispatch.sms.rate_limit import SendRateLimiter
from dispatch.sms.tasks import send_message
from dispatch.worker import DispatchWorker

log = logging.getLogger(__name__)
SEND_TASK = task_of(send_message).name  # what RQ records as the job's func_name
RATE_KEY = "dispatch:sms-rate:{sender}"  # dispatch.sms.rate_limit's key
SCHEDULER_INTERVAL = timedelta(seconds=1)  # RQ's scheduler looks for due jobs once a second
# Bursts at one instant before the clock is nudged on (on a real clock time would have moved).
MAX_BURSTS_AT_ONE_INSTANT = 50


class Carrier:
    """Moves the clock past the carrier slot a send took, and frees the limiter for the next send."""

    def __init__(self, runtime: Runtime, clock: VirtualClock) -> None:
        self.runtime = runtime
        self.clock = clock
        self.key = RATE_KEY.format(sender=runtime.transport.sender)
        self.slot_us = SendRateLimiter(runtime.redis, runtime.settings.SMS_SEND_RATE).interval_us

    def after_send(self, message_id: int) -> None:
        if not self.runtime.redis.delete(self.key):
            return  # the job reserved no slot (the text was held, suppressed or sent already)
        with self.runtime.db.transaction() as session:
            segments = session.scalar(select(Message.segments).where(Message.id == message_id)) or 1
        self.clock.advance(timedelta(microseconds=self.slot_us * max(1, segments)))


class SimulationWorker(DispatchWorker):
    """A SimpleWorker whose SMS sends pass their carrier slot on the virtual clock.

    It keeps no signal handlers: RQ's (installed at every burst) turn SIGTERM into "stop after this
    burst", so `dispatch simulate` went on to the next burst and ignored it (command.py stops the run).

    Nor does it report on itself: its heartbeats, its state (idle, busy) and the check for `rq suspend`
    are Redis commands on the worker's own key, a dozen a job (a fifth of a day's time on the
    in-process Redis), for monitors and an operator nobody has on a simulation's private Redis. The
    jobs' own bookkeeping (their hashes, registries, executions and results) is RQ's as ever.
    """

    carrier: Carrier | None = None

    def execute_job(self, job: RqJob, queue: Queue) -> None:
        super().execute_job(job, queue)
        if TERMINATED:  # the signal came during the job, and RQ took its exit for the job's failure
            raise Terminated(128 + TERMINATED[0])
        if self.carrier is not None and job.func_name == SEND_TASK:
            self.carrier.after_send(int(job.args[0]))

    def _install_signal_handlers(self) -> None:
        pass

    def heartbeat(self, timeout: int | None = None, pipeline: Pipeline | None = None) -> None:
        self.last_heartbeat = rq_now()

    def set_state(self, state: str, pipeline: Pipeline | None = None) -> None:
        self._state = state

    def check_for_suspension(self, burst: bool) -> None:
        pass


class QueueRunner:
    """One worker and one scheduler for the whole day, as a `dispatch worker` process has. The
    scheduler moves due `enqueue_at` jobs onto their queues at most once a second, as RQ's does (it
    keeps whole seconds, so a job may come up to a second early, and one that reschedules itself for
    its own due time waits for the next pass, not in a loop); the worker then works the queues empty.
    (A new worker per burst, as burst mode has, would clean RQ's registries every time.)"""

    def __init__(
        self, runtime: Runtime, clock: VirtualClock, periodic_off: frozenset[str] = frozenset()
    ) -> None:
        self.runtime = runtime
        self.clock = clock
        self.queues = [get_queue(name, runtime.redis) for name in QUEUE_NAMES]
        self.worker = SimulationWorker(self.queues, connection=runtime.redis)
        self.worker.carrier = Carrier(runtime, clock)
        self.scheduler = RQScheduler(self.queues, connection=runtime.redis)
        self.scheduler.prepare_registries(list(QUEUE_NAMES))
        self._last_pass: datetime | None = None
        self.periodic = [task for task in PERIODIC_TASKS if task.id not in periodic_off]
        self._periodic_due = {task.id: clock.now() for task in self.periodic}
        self.periodic_failed = 0

    def next_scheduled(self) -> datetime | None:
        """When the scheduler will next find an `enqueue_at` job due."""
        first = None
        for queue in self.queues:
            head = self.runtime.redis.zrange(queue.scheduled_job_registry.key, 0, 0, withscores=True)
            if head:
                moment = datetime.fromtimestamp(float(head[0][1]), UTC)
                first = moment if first is None else min(first, moment)
        if first is None or self._last_pass is None:
            return first
        return max(first, self._last_pass + SCHEDULER_INTERVAL)

    def next_periodic(self, ids: frozenset[str]) -> datetime | None:
        """When the next of these periodic jobs falls due (a worker's ticker would enqueue it then)."""
        return min((due for task_id, due in self._periodic_due.items() if task_id in ids), default=None)

    def _schedule(self) -> None:
        moment = self.next_scheduled()
        if moment is not None and moment <= self.clock.now():
            self.scheduler.enqueue_scheduled_jobs()
            self._last_pass = self.clock.now()

    def _tick(self) -> None:
        """Run each periodic job whose interval has passed, as the worker's ticker would have it run."""
        now = self.clock.now()
        for task in self.periodic:
            if self._periodic_due[task.id] <= now:
                interval = max(1, task.every_seconds(self.runtime))
                self._periodic_due[task.id] = now + timedelta(seconds=interval)
                self._run_periodic(task)

    def _run_periodic(self, task: PeriodicTask) -> None:
        try:  # SIGTERM (command.Terminated, a SystemExit) goes through: the run stops
            task.task()
        except Exception:  # a worker would log it and keep the job in its failed registry
            log.exception("periodic job %s failed", task.id)
            self.periodic_failed += 1

    def settle(self, after_burst: Callable[[], None]) -> None:
        """Run bursts until nothing is due at the clock's present; `after_burst` looks at what they did."""
        at_instant, instant = 0, self.clock.now()
        while True:
            self._tick()
            self._schedule()
            if not any(queue.count for queue in self.queues):
                return
            self.worker.work(burst=True, logging_level="ERROR")
            after_burst()
            if self.clock.now() != instant:
                at_instant, instant = 0, self.clock.now()
                continue
            at_instant += 1
            if at_instant >= MAX_BURSTS_AT_ONE_INSTANT:
                # Only a job that enqueues itself again at once could do this; a worker would spin too.
                log.warning("jobs keep coming back at %s: moving the clock on a second", instant)
                self.clock.advance(timedelta(seconds=1))

    def failed_jobs(self) -> int:
        return self.periodic_failed + sum(queue.failed_job_registry.count for queue in self.queues)
