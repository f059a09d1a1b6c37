"""Process plumbing: free ports, polling with a deadline, process groups read from /proc, managed children.

Every child the suite starts runs in a session (and so a process group) of its own, so that a fault can
kill "the worker" the way the kernel or systemd would (the whole group) and teardown can leave nothing
behind, whatever the child forked meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tests.faults.privacy import mask_text

T = TypeVar("T")
POLL_SECONDS = 0.15
# The twilio client logs every request's headers at INFO: noise in a tail, where the request line and the
# answer's status say what happened.
_NOISE = re.compile(r"twilio\.http_client: (Headers:|[A-Za-z-]+ : |-- (BEGIN|END) Twilio|Response Headers)")


class DeadlineExceeded(AssertionError):
    """A condition the suite waited for did not come true in time."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    predicate: Callable[[], T],
    timeout: float,
    what: str,
    interval: float = POLL_SECONDS,
    explain: Callable[[], str] | None = None,
    abort: Callable[[], str | None] | None = None,
) -> T:
    """Poll `predicate` until it returns something truthy (returned), or fail naming `what` at the deadline.

    Exceptions from the predicate count as "not yet" (a server still starting refuses connections); the
    last one is quoted in the failure. `abort` returns a reason to give up at once (a child that died).
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        if abort is not None and (reason := abort()):
            extra = f"\n{explain()}" if explain is not None else ""
            raise DeadlineExceeded(mask_text(f"gave up waiting for {what}: {reason}{extra}"))
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:
            last_error = exc
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error!r})" if last_error is not None else ""
            extra = f"\n{explain()}" if explain is not None else ""
            raise DeadlineExceeded(
                mask_text(f"timed out after {timeout:.0f} s waiting for {what}{detail}{extra}")
            )
        time.sleep(interval)


def proc_stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, pgid) of a live process from /proc/<pid>/stat, or None once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # the command name may hold spaces and parentheses
    return fields[0], int(fields[1]), int(fields[2])


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def group_members(pgid: int) -> list[int]:
    """Processes of group `pgid` that still run (zombies are dead: they only wait to be reaped)."""
    members = []
    for pid in _all_pids():
        stat = proc_stat(pid)
        if stat is not None and stat[2] == pgid and stat[0] != "Z":
            members.append(pid)
    return members


def children_of(parent: int) -> list[int]:
    return [pid for pid in _all_pids() if (stat := proc_stat(pid)) is not None and stat[1] == parent]


def signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def tail(path: Path, lines: int = 40) -> str:
    """The last `lines` lines of a log file, phone numbers masked."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64_000))
            text = handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return f"({path.name}: no log)"
    kept = [line for line in text.splitlines() if not _NOISE.search(line)]
    return mask_text("\n".join(kept[-lines:]))


class Managed:
    """A child process in a session of its own, its stdout and stderr appended to one log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], cwd: Path, log_path: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.log_path = log_path
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Managed:
        with self.log_path.open("ab") as log:
            log.write(f"----- {self.name} starting at {time.strftime('%H:%M:%S')}\n".encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None, f"{self.name} was never started"
        return self.popen.pid

    @property
    def pgid(self) -> int:
        return self.pid  # start_new_session: the child leads its own group

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self.popen is None else self.popen.poll()

    def send(self, sig: signal.Signals) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def wait_exit(self, timeout: float) -> bool:
        """True if the process exited (and was reaped) within `timeout` seconds."""
        if self.popen is None:
            return True
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def kill_group(self) -> None:
        """SIGKILL the whole group, as the OOM killer or `systemctl kill -s KILL` would; reap the leader."""
        if self.popen is None:
            return
        signal_group(self.pgid, signal.SIGKILL)
        self.wait_exit(10)

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the group, then SIGKILL whatever of it is left after `grace` seconds."""
        if self.popen is None:
            return
        if self.alive():
            signal_group(self.pgid, signal.SIGTERM)
            self.wait_exit(grace)
        signal_group(self.pgid, signal.SIGKILL)
        self.wait_exit(10)

    def tail(self, lines: int = 40) -> str:
        return tail(self.log_path, lines)
