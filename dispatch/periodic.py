"""The periodic jobs: one table with fixed ids, and the ticker that enqueues the due ones.

Each entry names its task by the function (see the registry in dispatch/queue.py) and runs on that
task's queue. Every `dispatch worker` ticks, so a Redis lock per entry keeps each to once an interval.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

from dispatch import tasks
from dispatch.callcenter import tasks as callcenter_tasks
from dispatch.followup import tasks as followup_tasks
from dispatch.ivr import tasks as ivr_tasks
from dispatch.matching import tasks as matching_tasks
from dispatch.queue import get_queue, task_of
from dispatch.runtime import Runtime
from dispatch.sms import tasks as sms_tasks
from dispatch.tickets import tasks as tickets_tasks
from dispatch.wages import tasks as wages_tasks

log = logging.getLogger(__name__)

# The recovery sweeps run this often: lost work is found within a lease plus this.
RECOVERY_SWEEP_SECONDS = 15
# A held job is over once its last day begins; an agent's release checks that too, so a few minutes'
# lag only keeps it on the employer's list of active jobs that much longer.
HELD_JOB_EXPIRY_SECONDS = 300
# Agents whose console went quiet are set away within CONSOLE_IDLE_SECONDS plus this.
IDLE_AGENTS_SECONDS = 30
# Reminders go at most this long after they are due.
REMINDER_SWEEP_SECONDS = 120
# A caller reserved by an agent whose softphone never connected waits again within ~60 s plus this.
STUCK_CALLS_SECONDS = 20
# A ticket whose subject is over (a job's days passed, a caller served) leaves the queue within this.
CLOSE_TICKETS_SECONDS = 300


@dataclass(frozen=True)
class PeriodicTask:
    id: str
    task: Callable[..., Any]
    every_seconds: Callable[[Runtime], int]

    @property
    def queue(self) -> str:
        return task_of(self.task).queue


PERIODIC_TASKS: tuple[PeriodicTask, ...] = (
    PeriodicTask(
        id="sweep-outbox",
        task=tasks.sweep_outbox,
        every_seconds=lambda runtime: runtime.settings.OUTBOX_SWEEP_SECONDS,
    ),
    PeriodicTask(
        # Relayed jobs that Redis lost (a restart, a flush) or whose worker died: relayed again.
        id="recover-lost-jobs",
        task=tasks.recover_lost_jobs,
        every_seconds=lambda runtime: RECOVERY_SWEEP_SECONDS,
    ),
    PeriodicTask(
        # Sends whose worker died during the provider call (reconciled), or whose job vanished.
        id="requeue-stuck-sms",
        task=sms_tasks.requeue_stuck_messages,
        every_seconds=lambda runtime: RECOVERY_SWEEP_SECONDS,
    ),
    PeriodicTask(
        id="sweep-offers",
        task=matching_tasks.sweep_offers,
        every_seconds=lambda runtime: 60,
    ),
    PeriodicTask(
        # Held jobs nobody released before their last day began: over (else "active" for good).
        id="expire-held-jobs",
        task=wages_tasks.expire_held_jobs,
        every_seconds=lambda runtime: HELD_JOB_EXPIRY_SECONDS,
    ),
    PeriodicTask(
        # Hang-ups whose status callback never came still leave a call-back ticket.
        id="finish-stale-calls",
        task=ivr_tasks.finish_stale_calls,
        every_seconds=lambda runtime: 600,
    ),
    PeriodicTask(
        # Placed workers reminded of their job the evening before and shortly before it starts: at
        # most this late (REMINDER_EVENING_TIME, REMINDER_BEFORE_MINUTES).
        id="send-reminders",
        task=matching_tasks.send_reminders,
        every_seconds=lambda runtime: REMINDER_SWEEP_SECONDS,
    ),
    PeriodicTask(
        # Follow-ups of placements that ended, reminders, and tickets for the silent.
        id="run-follow-ups",
        task=followup_tasks.run_follow_ups,
        every_seconds=lambda runtime: 300,
    ),
    PeriodicTask(
        # Agents whose console was closed or left idle are offered no caller.
        id="set-idle-agents-away",
        task=callcenter_tasks.set_idle_agents_away,
        every_seconds=lambda runtime: IDLE_AGENTS_SECONDS,
    ),
    PeriodicTask(
        # Callers reserved for a softphone that never connected wait again; silent busy agents away.
        id="release-stuck-calls",
        task=callcenter_tasks.release_stuck_calls,
        every_seconds=lambda runtime: STUCK_CALLS_SECONDS,
    ),
    PeriodicTask(
        # Escalated jobs past their days expire; tickets whose subject is over are resolved.
        id="close-over-tickets",
        task=tickets_tasks.close_over_tickets,
        every_seconds=lambda runtime: CLOSE_TICKETS_SECONDS,
    ),
)


def enqueue_due_periodic_tasks(runtime: Runtime) -> list[str]:
    """Enqueue each periodic task whose interval has passed; a non-blocking Redis lock per task
    (SET NX EX) means that however many workers tick, each task runs once per interval."""
    started = []
    for periodic in PERIODIC_TASKS:
        interval = max(1, periodic.every_seconds(runtime))
        try:
            if not runtime.redis.set(f"dispatch:periodic:{periodic.id}", "1", nx=True, ex=interval):
                continue
            get_queue(periodic.queue, runtime.redis).enqueue(
                periodic.task, job_id=f"periodic-{periodic.id}", result_ttl=interval * 2
            )
        except RedisError as exc:
            log.warning("periodic task %s not enqueued: %s", periodic.id, exc)
            continue
        started.append(periodic.id)
    return started
