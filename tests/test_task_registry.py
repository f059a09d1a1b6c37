"""The task registry: jobs are named by their function, the outbox keeps the stable dotted names that
rows already hold, an unknown name is a clear error that loses nothing, and the tasks modules stay
leaves of the import graph so that any service can import the tasks it defers."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from rq.job import Job as RqJob
from sqlalchemy import select

import dispatch
from dispatch import tasks
from dispatch.followup import tasks as followup_tasks
from dispatch.ivr import tasks as ivr_tasks
from dispatch.matching import tasks as matching_tasks
from dispatch.models import OutboxEvent
from dispatch.periodic import PERIODIC_TASKS
from dispatch.queue import TASK_MODULES, UnknownTask, defer, get_queue, relay, resolve, task_of
from dispatch.sms import tasks as sms_tasks
from dispatch.voice import tasks as voice_tasks
from dispatch.wages import tasks as wages_tasks
from tests.helpers import run_jobs

# The names outbox rows written before the registry hold: they must go on resolving to these tasks.
STORED_NAMES = {
    "dispatch.tasks.sweep_outbox": (tasks.sweep_outbox, "default"),
    "dispatch.tasks.recover_lost_jobs": (tasks.recover_lost_jobs, "default"),
    "dispatch.sms.tasks.send_message": (sms_tasks.send_message, "sms"),
    "dispatch.sms.tasks.reconcile_message": (sms_tasks.reconcile_message, "sms"),
    "dispatch.sms.tasks.requeue_stuck_messages": (sms_tasks.requeue_stuck_messages, "sms"),
    "dispatch.matching.tasks.match_job": (matching_tasks.match_job, "matching"),
    "dispatch.matching.tasks.send_wave": (matching_tasks.send_wave, "matching"),
    "dispatch.matching.tasks.refill_job": (matching_tasks.refill_job, "matching"),
    "dispatch.matching.tasks.notify_employer": (matching_tasks.notify_employer, "matching"),
    "dispatch.matching.tasks.sweep_offers": (matching_tasks.sweep_offers, "matching"),
    "dispatch.voice.tasks.call_follow_up": (voice_tasks.call_follow_up, "sms"),
    "dispatch.ivr.tasks.finish_stale_calls": (ivr_tasks.finish_stale_calls, "default"),
    "dispatch.followup.tasks.run_follow_ups": (followup_tasks.run_follow_ups, "default"),
    "dispatch.wages.tasks.expire_held_jobs": (wages_tasks.expire_held_jobs, "default"),
}


@pytest.mark.parametrize("name", sorted(STORED_NAMES))
def test_a_stored_name_resolves_to_its_task_and_queue(name):
    function, queue = STORED_NAMES[name]
    found = resolve(name)
    assert (found.name, found.function, found.queue) == (name, function, queue)
    assert task_of(function) == found


def test_a_job_is_named_by_its_function_and_runs_on_the_tasks_queue(runtime):
    with runtime.db.transaction() as session:
        event = defer(session, matching_tasks.sweep_offers)
    assert (event.task, event.queue) == ("dispatch.matching.tasks.sweep_offers", "matching")
    job = RqJob.fetch(f"outbox-{event.id}", connection=runtime.redis)
    assert job.func_name == "dispatch.matching.tasks.sweep_offers"  # what RQ imports
    assert get_queue("matching", runtime.redis).job_ids == [job.id]


def test_a_row_written_under_the_old_string_still_runs(runtime, session):
    with runtime.db.transaction() as work:  # as the code before the registry wrote it
        work.add(OutboxEvent(task="dispatch.tasks.sweep_outbox", args=[], queue="default"))
    assert relay(runtime) == 1
    [event] = session.scalars(select(OutboxEvent)).all()
    run_jobs(runtime)
    job = RqJob.fetch(event.job_id, connection=runtime.redis)
    assert (job.func_name, job.get_status(), job.return_value()) == (
        "dispatch.tasks.sweep_outbox",
        "finished",
        {"relayed": 0},
    )


def not_a_task(job_id: int) -> dict[str, int]:
    return {}


def test_a_function_without_the_decorator_is_refused_at_once(runtime):
    refused = r"tests\.test_task_registry\.not_a_task is not a task"
    with pytest.raises(UnknownTask, match=refused), runtime.db.transaction() as session:
        defer(session, not_a_task, 1)


def test_a_row_naming_no_task_is_a_clear_error_and_is_kept_while_the_rest_is_relayed(
    runtime, session, caplog
):
    with pytest.raises(UnknownTask, match=r"no task is named 'dispatch\.sms\.tasks\.send_text'"):
        resolve("dispatch.sms.tasks.send_text")
    with runtime.db.transaction() as work:  # e.g. written by a newer deploy, or a task renamed
        work.add(OutboxEvent(task="dispatch.sms.tasks.send_text", args=[1], queue="sms"))
        work.add(OutboxEvent(task="dispatch.tasks.sweep_outbox", args=[], queue="default"))
    with caplog.at_level(logging.ERROR, logger="dispatch.queue"):
        assert relay(runtime) == 1
    unknown, known = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
    assert unknown.relayed_at is None and unknown.job_id is None  # left for code that knows it
    assert known.relayed_at is not None
    assert (
        f"outbox row {unknown.id} not relayed: no task is named 'dispatch.sms.tasks.send_text'" in caplog.text
    )
    assert get_queue("sms", runtime.redis).count == 0


def test_every_periodic_entry_is_a_registered_task():
    for periodic in PERIODIC_TASKS:
        assert task_of(periodic.task).queue == periodic.queue


def test_the_registry_lists_every_tasks_module():
    root = Path(dispatch.__file__).parent
    on_disk = {
        ".".join(("dispatch", *path.relative_to(root).with_suffix("").parts))
        for path in root.rglob("tasks.py")
    }
    assert on_disk == set(TASK_MODULES)


# Prints the dispatch modules (not packages) that importing {module} first, alone, loaded.
LEAF_CHECK = """
import json, sys
import {module}
modules = [name for name in sys.modules if name.startswith("dispatch.")]
print(json.dumps(sorted(name for name in modules if not hasattr(sys.modules[name], "__path__"))))
"""
# What a tasks module may load when imported first: the queue, the runtime, the models and what they
# stand on. Services come in inside the tasks: one imported at the top could import the module back.
LEAVES = {
    "dispatch.clock",
    "dispatch.db",
    "dispatch.queue",
    "dispatch.quiet_hours",
    "dispatch.runtime",
    "dispatch.settings",
    "dispatch.sms.gateway",
    "dispatch.sms.rate_limit",
    "dispatch.voice.gateway",
    # The language layer the settings stand on (the market's time zone); it imports nothing of ours.
    "dispatch.i18n.catalogue",
    "dispatch.i18n.labels",
    "dispatch.i18n.languages",
    "dispatch.i18n.templates",
    "dispatch.i18n.zone",
}


@pytest.mark.parametrize("module", TASK_MODULES)
def test_a_tasks_module_imports_no_service_at_the_top(module):
    run = subprocess.run(
        [sys.executable, "-c", LEAF_CHECK.format(module=module)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    loaded = {name for name in json.loads(run.stdout) if not name.startswith("dispatch.models.")}
    assert loaded - LEAVES - {module} == set(), f"{module} imports a service at the top"
