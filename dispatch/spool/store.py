"""The spool directory: one JSON file per request, named so that names sort in arrival order.

Layout under SPOOL_DIR: `tmp/` (being written), `pending/` (durable, waiting for replay), `failed/`
(could not be replayed for a reason other than the database: kept for an operator), `replay.lock`.
A file reaches `pending/` only by a rename after its contents and then the directory are fsynced, so
a crash leaves either no file or a whole one.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import logging
import os
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
FORMAT_VERSION = 1
SPOOLED_NAME = re.compile(r"[0-9]{20}-[0-9]+-[0-9]+\.json")


@dataclass(frozen=True)
class SpooledRequest:
    """What a webhook needs to be done again: its kind, form, query arguments and arrival time."""

    kind: str
    form: dict[str, str]
    args: dict[str, str] = field(default_factory=dict)
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def to_json(self) -> str:
        return json.dumps(
            {
                "v": FORMAT_VERSION,
                "kind": self.kind,
                "form": self.form,
                "args": self.args,
                "received_at": self.received_at.isoformat(),
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> SpooledRequest:
        data = json.loads(text)
        return cls(
            kind=str(data["kind"]),
            form={str(k): str(v) for k, v in data["form"].items()},
            args={str(k): str(v) for k, v in data.get("args", {}).items()},
            received_at=datetime.fromisoformat(data["received_at"]),
        )


class Spool:
    def __init__(self, directory: str | Path) -> None:
        self.root = Path(directory)
        self.tmp = self.root / "tmp"
        self.pending_dir = self.root / "pending"
        self.failed_dir = self.root / "failed"
        self._counter = itertools.count()
        self._counter_lock = threading.Lock()
        self._ready = False

    def _ensure(self) -> None:
        if not self._ready:
            for directory in (self.tmp, self.pending_dir, self.failed_dir):
                directory.mkdir(parents=True, exist_ok=True)
            self._ready = True

    def write(self, request: SpooledRequest) -> Path:
        """Keep `request` durably; returns the pending file. Raises OSError if the disk will not."""
        self._ensure()
        with self._counter_lock:
            sequence = next(self._counter)
        # The arrival time first, in nanoseconds: names sort in arrival order across the processes sharing
        # the directory, even when a request that waited on a hung database is written after later ones.
        arrived_ns = int(request.received_at.timestamp() * 1_000_000) * 1000
        name = f"{arrived_ns:020d}-{os.getpid():07d}-{sequence:06d}.json"
        temporary, final = self.tmp / name, self.pending_dir / name
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(request.to_json())
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(temporary, final)
        _fsync_directory(self.pending_dir)
        return final

    def has_pending(self) -> bool:
        """Anything waiting? One directory read, cheap enough to ask on every webhook."""
        try:
            with os.scandir(self.pending_dir) as entries:
                return any(SPOOLED_NAME.fullmatch(entry.name) for entry in entries)
        except FileNotFoundError:
            return False

    def pending(self) -> list[Path]:
        """The waiting files, oldest first."""
        try:
            # Only files this spool named (a hand-edited copy left here would not sort, nor say when).
            return sorted(path for path in self.pending_dir.iterdir() if SPOOLED_NAME.fullmatch(path.name))
        except FileNotFoundError:
            return []

    @staticmethod
    def arrived(path: Path) -> float:
        """When the request in `path` arrived, in seconds since the epoch (its name says)."""
        return int(path.name.split("-", 1)[0]) / 1e9

    def read(self, path: Path) -> SpooledRequest:
        return SpooledRequest.from_json(path.read_text(encoding="utf-8"))

    def done(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    def fail(self, path: Path) -> None:
        self._ensure()
        os.replace(path, self.failed_dir / path.name)

    @contextmanager
    def replaying(self) -> Iterator[bool]:
        """An exclusive, non-blocking claim on replaying (one process at a time, per machine):
        yields False when another process holds it."""
        self._ensure()
        with open(self.root / "replay.lock", "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def describe(form: Mapping[str, Any]) -> str:
    """A log-safe description of a spooled request: its Sid, never the number or the text."""
    return str(form.get("MessageSid") or form.get("CallSid") or form.get("SmsSid") or "?")[:64]
