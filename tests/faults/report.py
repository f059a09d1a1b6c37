"""One row per fault: its figures, its bound, and what went wrong; collected for the session's table.

A test fills its row inside `fault_row(...)`; the row is recorded even when the test errors part-way, and
leaving the block asserts lost == 0, duplicated == 0, recovery <= bound and every problem the test noted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tests.faults.measure import Tally
from tests.faults.privacy import mask_text

ROWS: list[FaultRow] = []


@dataclass
class FaultRow:
    fault: str
    bound_seconds: float
    sent: int = 0
    stored: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    recovery_seconds: float | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # figures worth knowing that are not failures

    def take(self, figures: Tally) -> None:
        self.sent, self.stored, self.delivered = figures.sent, figures.stored, figures.delivered
        self.lost, self.duplicated = figures.lost, figures.duplicated

    def recovered(self, since: float, at: float | None) -> None:
        self.recovery_seconds = None if at is None else round(max(0.0, at - since), 2)

    def note(self, text: str) -> None:
        self.notes.append(mask_text(text))

    def expect(self, condition: bool, problem: str) -> None:
        if not condition:
            self.problems.append(mask_text(problem))

    @property
    def passed(self) -> bool:
        return not self.problems

    def finish(self) -> None:
        if self.recovery_seconds is None:
            if not self.problems:  # else the test said what did not happen
                self.expect(False, f"not recovered within the bound of {self.bound_seconds:.0f} s")
        else:
            self.expect(
                self.recovery_seconds <= self.bound_seconds,
                f"recovery took {self.recovery_seconds:.1f} s, bound {self.bound_seconds:.0f} s",
            )
        self.expect(self.lost == 0, f"{self.lost} of {self.sent} texts lost")
        self.expect(self.duplicated == 0, f"{self.duplicated} replies sent twice")

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data["passed"] = self.passed
        return data


def open_row(fault: str, bound_seconds: float) -> FaultRow:
    """A new row, recorded for the session's table at once (a test that errors still shows up)."""
    row = FaultRow(fault, bound_seconds)
    ROWS.append(row)
    return row


def assert_rows(rows: list[FaultRow]) -> None:
    """Apply the standard checks to every row, then fail naming each row that did not pass."""
    for row in rows:
        row.finish()
    failed = [row for row in rows if not row.passed]
    assert not failed, mask_text(
        "\n".join(f"fault '{row.fault}' failed:\n  - " + "\n  - ".join(row.problems) for row in failed)
    )


@contextmanager
def fault_rows() -> Iterator[list[FaultRow]]:
    """Rows a test opens (`open_row`) and appends here are checked when the block ends; an error inside is
    noted on each of them (so the table never shows a row as passed that was not measured) and raised."""
    rows: list[FaultRow] = []
    try:
        yield rows
    except BaseException as exc:
        for row in rows:
            row.problems.append(mask_text(f"test stopped: {type(exc).__name__}: {exc}".splitlines()[0]))
        raise
    assert_rows(rows)


@contextmanager
def fault_row(fault: str, bound_seconds: float) -> Iterator[FaultRow]:
    """One test, one row (see `fault_rows`)."""
    with fault_rows() as rows:
        rows.append(open_row(fault, bound_seconds))
        yield rows[0]


def table(rows: list[FaultRow]) -> str:
    columns = ("sent", 5), ("stored", 6), ("deliv", 5), ("lost", 4), ("dup", 4), ("recov s", 8), ("bound", 5)
    header = f"{'fault':<44} " + " ".join(f"{name:>{width}}" for name, width in columns) + "  ok"
    lines = [header, "-" * len(header)]
    for row in rows:
        recovery = "-" if row.recovery_seconds is None else f"{row.recovery_seconds:.1f}"
        lines.append(
            f"{row.fault[:44]:<44} {row.sent:>5} {row.stored:>6} {row.delivered:>5} {row.lost:>4} "
            f"{row.duplicated:>4} {recovery:>8} {row.bound_seconds:>5.0f}  {'yes' if row.passed else 'NO'}"
        )
        lines.extend(f"{'':<6}! {problem}" for problem in row.problems)
        lines.extend(f"{'':<6}· {note}" for note in row.notes)
    return "\n".join(lines)


def write_json(rows: list[FaultRow], path: Path) -> None:
    path.write_text(json.dumps([row.as_json() for row in rows], indent=2, ensure_ascii=False) + "\n")
