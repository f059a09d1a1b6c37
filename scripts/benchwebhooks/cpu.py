"""Where the machine's CPU went during a run: our app, its database backends, the load generator,
interrupts, steal, and everything else (other people's work), read from /proc."""

from __future__ import annotations

import contextlib
import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _process_cpu(pid: int | str) -> float:
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS
    return 0.0


def tree_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its live children (gunicorn's master and workers)."""
    pids: list[int | str] = [pid]
    with contextlib.suppress(OSError):
        pids += Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return sum(_process_cpu(one) for one in pids)


def database_cpu(database: str) -> float:
    """CPU seconds of the PostgreSQL backends serving `database` (read from /proc; others' are left out)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            command = (entry / "cmdline").read_bytes()
            if command.startswith(b"postgres: ") and f" {database} ".encode() in command:
                total += _process_cpu(entry.name)
    return total


def machine_cpu() -> tuple[float, float, float, float]:
    """(busy, interrupts, steal, elapsed) CPU seconds of the whole machine so far (all cores), from
    /proc/stat: busy includes the interrupt time (much of it the network stack, not charged to any
    process) and the steal time (a hypervisor giving our virtual cores to someone else)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = values
    busy = user + nice + system + irq + softirq + steal
    return busy / TICKS, (irq + softirq) / TICKS, steal / TICKS, (busy + idle + iowait) / TICKS


@dataclass
class CpuSnapshot:
    """Where the machine's CPU went: our web app, our database backends, our load generator
    (waited-for children), interrupts, steal, and everything else (Redis, PostgreSQL's own
    processes, other people's work)."""

    app: float
    database: float
    client: float
    busy: float
    interrupts: float
    steal: float
    elapsed: float

    @classmethod
    def take(cls, app_pid: int | None, database: str) -> CpuSnapshot:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy, interrupts, steal, elapsed = machine_cpu()
        return cls(
            app=tree_cpu(app_pid) if app_pid else 0.0,
            database=database_cpu(database),
            client=children.ru_utime + children.ru_stime,
            busy=busy,
            interrupts=interrupts,
            steal=steal,
            elapsed=elapsed,
        )

    def since(self, before: CpuSnapshot, wall: float) -> dict[str, float]:
        """CPU used between the two snapshots, in cores (1.0 = one core busy all along)."""
        app, database = self.app - before.app, self.database - before.database
        client, busy = self.client - before.client, self.busy - before.busy
        interrupts, steal = self.interrupts - before.interrupts, self.steal - before.steal
        return {
            "app_cores": app / wall,
            "database_cores": database / wall,
            "client_cores": client / wall,
            "interrupt_cores": interrupts / wall,
            "steal_cores": steal / wall,
            "other_cores": max(0.0, busy - app - database - client - interrupts - steal) / wall,
            "machine_busy": busy / max(1e-9, self.elapsed - before.elapsed),
            "app_cpu_s": app,
            "database_cpu_s": database,
        }


def background_load(database_url: str, seconds: float) -> float:
    """Cores busy while nothing of ours runs: what other people's work leaves us."""
    database = database_url.rsplit("/", 1)[-1]
    before, started = CpuSnapshot.take(None, database), time.perf_counter()
    time.sleep(seconds)
    wall = time.perf_counter() - started
    cores = CpuSnapshot.take(None, database).since(before, wall)
    return cores["machine_busy"] * (os.cpu_count() or 1)
