"""The suite's own Redis server and PostgreSQL cluster on free ports of 127.0.0.1, with their faults.

Redis keeps nothing on disk (as the machine's Redis): killed and started again, it comes back empty.
PostgreSQL is a throw-away cluster (fsync off) that can be stopped and started on the same port and data,
or hung: every process of the cluster stopped with SIGSTOP, so connections open but nothing answers.
initdb refuses to run as root, so as root the cluster belongs to (and runs as) the `postgres` user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
from pathlib import Path

import psycopg
from redis import Redis

from tests.faults.procs import Managed, children_of, proc_stat, tail, wait_until


def redis_binary() -> str | None:
    return shutil.which("redis-server")


def postgres_bindir() -> Path | None:
    """The newest Debian PostgreSQL's bin/ (initdb, pg_ctl, postgres), else the one on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


class RedisServer:
    def __init__(self, workdir: Path, port: int, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.port = port
        self.env = env
        self.process: Managed | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> Redis:
        return Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1, socket_timeout=3)

    def running(self) -> bool:
        return self.process is not None and self.process.alive()

    def start(self) -> None:
        argv = [
            str(redis_binary()),
            *("--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
            *("--daemonize", "no", "--dir", str(self.workdir), "--maxmemory-policy", "noeviction"),
        ]
        self.process = Managed("redis", argv, self.env, self.workdir, self.workdir / "redis.log").start()
        wait_until(self._pong, 15, f"redis-server on port {self.port}", explain=lambda: tail(self.log_path))

    def _pong(self) -> bool:
        if self.process is not None and not self.process.alive():
            raise RuntimeError(f"redis-server exited with {self.process.returncode}")
        client = self.client()
        try:
            return bool(client.ping())
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL: everything in it is lost, as when the machine's Redis dies."""
        if self.process is not None:
            self.process.kill_group()

    @property
    def log_path(self) -> Path:
        return self.workdir / "redis.log"


class PostgresCluster:
    def __init__(self, root: Path, port: int, bindir: Path) -> None:
        self.root = root  # owned by the cluster's user; holds data/, the socket and the logs
        self.port = port
        self.bindir = bindir
        self.data = root / "data"
        self.log_path = root / "postgres.log"
        self.ctl_log = root / "pg_ctl.log"
        self.hung: list[int] = []
        self.owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None

    def url(self, database: str = "dispatch") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    # -- life cycle ---------------------------------------------------------------------------------

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.owner is not None:
            os.chown(self.root, self.owner.pw_uid, self.owner.pw_gid)
        self.root.chmod(0o700)
        self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale"
        )
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.root}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# the fault suite's throw-away cluster\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log_path), "-w", "-t", "60", "start")
        wait_until(self.accepts, 30, f"PostgreSQL on port {self.port}", explain=lambda: tail(self.log_path))

    def stop(self) -> None:
        """A clean fast shutdown (`pg_ctl stop -m fast`): clients are disconnected, the port closes."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def create_database(self, name: str) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')

    def accepts(self, database: str = "postgres") -> bool:
        with psycopg.connect(self.url(database), connect_timeout=2) as connection:
            return connection.execute("SELECT 1").fetchone() == (1,)

    def postmaster_pid(self) -> int | None:
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None
        return pid if proc_stat(pid) is not None else None

    def running(self) -> bool:
        return self.postmaster_pid() is not None

    # -- hanging ------------------------------------------------------------------------------------

    def hang(self) -> None:
        """SIGSTOP the postmaster (first, so it forks nothing new) and every process of the cluster."""
        postmaster = self.postmaster_pid()
        assert postmaster is not None, "PostgreSQL is not running: nothing to hang"
        os.kill(postmaster, signal.SIGSTOP)
        self.hung = [postmaster]
        for _ in range(2):  # a child forked just before the postmaster stopped shows up on the second look
            for pid in children_of(postmaster):
                if pid not in self.hung:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGSTOP)
                    self.hung.append(pid)

    def resume(self) -> None:
        """SIGCONT every process `hang` stopped, children first, the postmaster last."""
        for pid in reversed(self.hung):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self.hung = []

    def destroy(self) -> None:
        """Stop the cluster whatever its state (hung, stopped, running) and leave no process behind."""
        self.resume()
        postmaster = self.postmaster_pid()
        if postmaster is None:
            return
        with contextlib.suppress(subprocess.SubprocessError, RuntimeError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "20", "stop")
        if (postmaster := self.postmaster_pid()) is not None:
            for pid in [*children_of(postmaster), postmaster]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def _run(self, program: str, *args: str) -> None:
        argv = [str(self.bindir / program), *args]
        if self.owner is not None:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        # Output to a file, not a pipe: the postmaster that pg_ctl starts must not hold our pipe open.
        with self.ctl_log.open("ab") as log:
            result = subprocess.run(
                argv, env=env, cwd="/", stdin=subprocess.DEVNULL, stdout=log, stderr=log, timeout=120
            )
        if result.returncode != 0:
            raise RuntimeError(
                f"{program} {' '.join(args)} failed ({result.returncode}):\n{tail(self.ctl_log)}"
            )
