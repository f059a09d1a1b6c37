"""`dispatch insurance export --date D`: the insurer's CSV of one working day, run as the command runs,
against committed rows of the real database."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import select

from dispatch.cli import main
from dispatch.clock import utcnow
from dispatch.insurance import export
from dispatch.matching import rescue, services
from dispatch.models import InsuranceEnrolment, Job
from tests.factories import TOMORROW, Market

HEADER = (
    "reference,work_date,worker_name,worker_phone,trade_code,trade_name,high_risk,job_code,"
    "employer_name,site_code,site_name,daily_pay,enrolled_at"
)


@pytest.fixture
def placements(committed, monkeypatch) -> dict[str, Any]:
    """Three placements tomorrow: one insured (a two-day high-risk job), one the insurer refused (no
    name, an ordinary trade), one given back. Returns what the insured one's row must say."""
    runtime, _ = committed
    monkeypatch.setenv("DATABASE_URL", runtime.settings.DATABASE_URL)
    with runtime.db.transaction() as session:
        market = Market(session)
        insured = market.worker(name="张三")
        employer = market.employer(name="王老板")
        job = market.job(employer, work_date=TOMORROW, days=2, pay=350)
        nameless = market.worker(name="", trades=("porter",))
        porter_job = market.job(trade="porter", work_date=TOMORROW)
        quitter = market.worker(name="李四", trades=("cleaner",))
        cleaning = market.job(trade="cleaner", work_date=TOMORROW)
        now = utcnow()
        for worker, placed_on in ((insured, job), (nameless, porter_job), (quitter, cleaning)):
            outcome, offer = rescue.confirm_by_phone(session, runtime.settings, placed_on.id, worker.id, now)
            assert outcome == services.Outcome.PLACED
        services.give_back(session, runtime.settings, offer, None, now)
        enrolled = session.execute(
            select(InsuranceEnrolment.work_date, InsuranceEnrolment.reference).where(
                InsuranceEnrolment.job_id == job.id
            )
        )
        return {
            "references": {day.isoformat(): reference for day, reference in enrolled},
            "phone": insured.phone,
            "code": session.get(Job, job.id).code,
        }


def _expected_row(placed: dict[str, Any], day: str) -> str:
    return (
        f"{placed['references'][day]},{day},张三,\t{placed['phone']},plumber_electrician,水电工,1,"
        f"{placed['code']},王老板,LZ-TX,太行西街街道,350,2026-12-01 10:00:00"
    )


@pytest.mark.committed
def test_the_export_writes_the_days_enrolled_workers(placements, tmp_path) -> None:
    path = tmp_path / "insurer.csv"

    assert main(["insurance", "export", "--date", "2026-12-02", "--output", str(path)]) == 0

    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads the Chinese as UTF-8
    assert raw.decode("utf-8-sig").split("\r\n") == [HEADER, _expected_row(placements, "2026-12-02"), ""]


@pytest.mark.committed
def test_the_export_goes_to_standard_output_by_default(placements, capsys) -> None:
    assert main(["insurance", "export", "--date", "2026-12-03"]) == 0
    out, err = capsys.readouterr()
    assert out.split("\r\n") == ["\ufeff" + HEADER, _expected_row(placements, "2026-12-03"), ""]
    assert "1 enrolments for 2026-12-03" in err


@pytest.mark.committed
def test_a_day_without_enrolments_has_the_header_only(placements, tmp_path) -> None:
    path = tmp_path / "empty.csv"
    assert main(["insurance", "export", "--date", "2026-12-25", "--output", str(path)]) == 0
    assert path.read_bytes().decode("utf-8-sig") == HEADER + "\r\n"


@pytest.mark.parametrize("bad", ["2026-13-01", "tomorrow", "12/02/2026", ""])
def test_a_bad_date_exits_2_with_a_clear_message(bad: str, capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'never-opened.sqlite3'}")
    assert main(["insurance", "export", "--date", bad]) == 2
    _, err = capsys.readouterr()
    assert err.strip() == f"dispatch insurance export: --date {bad!r} is not a day (YYYY-MM-DD)"
    assert not (tmp_path / "never-opened.sqlite3").exists()


def test_what_a_spreadsheet_would_run_is_written_as_text(runtime, session, seeded) -> None:
    """A worker registered as `=1+2`, an employer as `@SUM(A1)`: Excel shows them as typed (a leading
    apostrophe), never runs them; the phone is written after a tab, which keeps Excel from turning
    +8613... into 8.6E+12 and leaves the E.164 number to any program that strips the cell."""
    market = Market(session)
    worker = market.worker(name="=1+2")
    employer = market.employer(name="@SUM(A1)")
    job = market.job(employer, work_date=TOMORROW)
    outcome, _ = rescue.confirm_by_phone(session, runtime.settings, job.id, worker.id, utcnow())
    assert outcome == services.Outcome.PLACED

    stream = io.StringIO()
    export.write_csv(export.rows(session, runtime.settings, TOMORROW), stream)

    [row] = list(csv.DictReader(io.StringIO(stream.getvalue().removeprefix("\ufeff"))))
    assert (row["worker_name"], row["employer_name"]) == ("'=1+2", "'@SUM(A1)")
    assert row["worker_phone"] == "\t" + worker.phone and row["worker_phone"].strip() == worker.phone
    assert all(not value.startswith(("=", "+", "-", "@")) for value in row.values())
    assert [export.cell(v) for v in ("-5", "+1", "\tx", "\rx", "张三", 350)] == [
        "'-5",
        "'+1",
        "'\tx",
        "'\rx",
        "张三",
        350,
    ]
