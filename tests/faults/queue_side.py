"""Reaching into RQ's Redis keys: losing a queued job, and telling which worker holds the scheduler.

RQ 3 keys: a job is the hash `rq:job:<id>` and its id in the list `rq:queue:<name>`; the scheduler's
lock is `rq:scheduler-lock:<queue>`. The relay names a job `outbox-<outbox_event.id>` today (see
`dispatch.queue._enqueue`); should that change, the job is found by its description, which names the
task and its arguments.
"""

from __future__ import annotations

from redis import Redis

from tests.faults.procs import Managed, proc_stat


def lose_send_job(client: Redis, event_id: int, message_id: int, queue: str = "sms") -> str | None:
    """Delete the queued job that would send `message_id` (relayed from outbox row `event_id`) as if
    Redis had lost it: the job's hash and its place in the queue. Returns the job id, None if not found."""
    job_id = f"outbox-{event_id}"
    if not client.exists(f"rq:job:{job_id}"):
        job_id = ""
        for key in client.scan_iter(match="rq:job:*", count=500):
            description = client.hget(key, "description") or b""
            if f"send_message({message_id})".encode() in description:
                job_id = key.decode().removeprefix("rq:job:")
                break
        if not job_id:
            return None
    client.lrem(f"rq:queue:{queue}", 0, job_id)
    client.delete(f"rq:job:{job_id}")
    return job_id


def scheduler_holder(client: Redis, workers: list[Managed], queue: str = "sms") -> Managed | None:
    """The worker whose process holds the scheduler lock of `queue`, or None if no lock is held.

    The lock's value names the holder: `...-<pid>` (dispatch's own scheduler), or the name of an RQ
    scheduler whose hash `rq:scheduler:<name>` holds the pid of the scheduler (a forked child of its
    worker, so in the worker's process group). Raises LookupError if the holder is none of `workers`.
    """
    raw = client.get(f"rq:scheduler-lock:{queue}")
    if not raw:
        return None
    holder = raw.decode()
    for worker in workers:
        if holder.endswith(f"-{worker.pid}"):
            return worker
    pid = client.hget(f"rq:scheduler:{holder}", "pid")
    stat = proc_stat(int(pid)) if pid else None
    for worker in workers:
        if stat is not None and stat[2] == worker.pgid:
            return worker
    raise LookupError(f"cannot tell which worker holds the scheduler lock of {queue} (value {holder!r})")
