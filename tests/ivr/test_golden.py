"""Golden TwiML: every step's answer, in Chinese and in English, against the expected files.

Regenerate after a deliberate change with `UPDATE_GOLDEN=1 pytest tests/ivr/test_golden.py`, then read
the diff of tests/ivr/golden/ before committing it.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import select

from dispatch.clock import utcnow
from dispatch.jobs.services import JobRequest, create_job
from dispatch.models import (
    Contact,
    Employer,
    Job,
    JobSource,
    JobStatus,
    Offer,
    OfferStatus,
    RegisteredVia,
    Site,
    Trade,
    Worker,
    WorkerStatus,
    WorkerTrade,
)
from tests.ivr.conftest import Caller

GOLDEN = Path(__file__).parent / "golden"
VOICE_GOLDEN = Path(__file__).parent.parent / "voice" / "golden"  # the market's own calls
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

Action = Callable[[Caller], object]


def press(digits: str) -> Action:
    return lambda caller: caller.press(digits)


def silence(caller: Caller) -> object:
    return caller.silence()


def speak(caller: Caller) -> object:
    return caller.speak("https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1")


def skip(caller: Caller) -> object:
    return caller.skip_recording()


def hold(caller: Caller) -> object:
    waiting = caller.root.find("Enqueue")
    assert waiting is not None
    return caller._post(waiting.get("waitUrl", ""), caller.params(QueuePosition="1", QueueTime="5"))


JOB = [press("1"), press("4"), press("2"), press("2"), press("7"), press("3"), press("300"), press("8")]
REGISTER = [press("2"), press("4"), press("8"), press("#"), press("200")]
# Each golden file: who calls (a stranger, or an employer with a job behind them), and the keys to get there.
SCENARIOS: dict[str, tuple[str, list[Action]]] = {
    "voice": ("stranger", []),
    "voice_known_employer": ("employer", []),
    "menu_repeat": ("stranger", [press("9")]),
    "menu_invalid": ("stranger", [press("8")]),
    "menu_no_input": ("stranger", [silence]),
    "trade": ("stranger", JOB[:1]),
    "trade_more": ("stranger", [*JOB[:1], press("0")]),
    "headcount": ("stranger", JOB[:2]),
    "date": ("stranger", JOB[:3]),
    "hour": ("stranger", JOB[:4]),
    "days": ("stranger", JOB[:5]),
    "pay": ("stranger", JOB[:6]),
    "area": ("stranger", JOB[:7]),
    "area_known_employer": ("employer", JOB[:7]),
    "village": ("stranger", JOB),
    "describe": ("stranger", [*JOB, press("#")]),
    "review": ("stranger", [*JOB, press("#"), speak]),
    # 7 * # is half past seven: no extra step, read back as 7点半 / 7:30.
    "review_half_past": ("stranger", [*JOB[:4], press("7*"), *JOB[5:], press("#"), speak]),
    "change": ("stranger", [*JOB, press("#"), skip, press("2")]),
    "change_pay": ("stranger", [*JOB, press("#"), skip, press("2"), press("6")]),
    "job_done": ("stranger", [*JOB, press("#"), skip, press("1")]),
    "register_trade": ("stranger", REGISTER[:1]),
    "register_area": ("stranger", REGISTER[:2]),
    "min_pay": ("stranger", REGISTER[:4]),
    "name": ("stranger", REGISTER),
    "reg_review": ("stranger", [*REGISTER, speak]),
    "reg_done": ("stranger", [*REGISTER, speak, press("1")]),
    "no_jobs": ("stranger", [press("3")]),
    "jobs": ("employer", [press("3")]),
    "cancel_confirm": ("employer", [press("3"), press("1")]),
    "cancelled": ("employer", [press("3"), press("1"), press("1")]),
    # 王师傅's job of today: 赵六 has not come (the list's first job, the soonest).
    "job_day": ("employer_today", [press("3"), press("1")]),
    "no_show_list": ("employer_today", [press("3"), press("1"), press("1")]),
    "no_show_noted": ("employer_today", [press("3"), press("1"), press("1"), press("1")]),
    "to_agent": ("stranger", [press("0")]),
    "hold": ("stranger", [press("0"), hold]),
    "queue_full": ("stranger", [press("0"), lambda caller: caller.leave_queue("queue-full")]),
    "agent_after_three_misses": ("stranger", [press("1"), silence, press("*"), silence]),
    "voicemail_thanks": ("stranger", [press("0"), lambda caller: caller.leave_queue("queue-full"), speak]),
    # The worker line: 李四, offered 王师傅's job 777, calls.
    "worker_menu": ("worker", []),
    "worker_offer": ("worker", [press("1")]),
    "worker_offer_invalid": ("worker", [press("1"), press("5")]),
    "worker_offer_taken": ("worker", [press("1"), press("1")]),
    "worker_offer_declined": ("worker", [press("1"), press("2")]),
    "worker_bookings": ("worker", [press("1"), press("1"), press("2")]),
    "worker_no_bookings": ("worker", [press("2")]),
    "worker_busy": ("worker", [press("3")]),
    "worker_free": ("worker", [press("3"), press("3")]),
    "worker_to_agent": ("worker", [press("0")]),
    # The screen's "call and press the code": 7, then job 777's code (李四 holds its offer), or a code
    # that is no job.
    "worker_job_code": ("worker", [press("7")]),
    "worker_job_code_read": ("worker", [press("7"), press("777")]),
    "worker_job_code_unknown": ("worker", [press("7"), press("999")]),
    "policy": ("stranger", [press("6")]),
    "policy_topic": ("stranger", [press("6"), press("1")]),
    "worker_policy_back": ("worker", [press("6"), press("0")]),
    "worker_wage_claim": ("worker", [press("8")]),
    "worker_wage_claim_unknown": ("worker", [press("8"), press("777")]),
    # 王师傅 also works: he chooses first.
    "who": ("both", []),
    "who_worker": ("both", [press("1")]),
    "who_employer": ("both", [press("2")]),
}
WORKER_PHONE = "+8613900139000"


def _employer(session) -> Employer:
    """王师傅, who asked for two plumbers in 太西 before; his job's code is fixed for the golden files."""
    employer = Employer(phone="+8613700137000", name="王师傅")
    session.add(employer)
    session.flush()
    plumber = session.scalars(select(Trade).where(Trade.code == "plumber_electrician")).one()
    taixi = session.scalars(select(Site).where(Site.code == "LZ-TX")).one()
    request = JobRequest(plumber.id, 2, date(2026, 12, 5), time(7), 3, 300, taixi.id)
    job = create_job(session, employer, request, JobSource.IVR)
    job.code = "777"
    session.flush()
    return employer


def _worker(session, phone: str, language: str) -> Worker:
    """李四, a plumber of 太西, offered job 777 until 11:00 (market time) of the day before it."""
    plumber = session.scalars(select(Trade).where(Trade.code == "plumber_electrician")).one()
    taixi = session.scalars(select(Site).where(Site.code == "LZ-TX")).one()
    worker = Worker(
        phone=phone,
        name="李四",
        home_site_id=taixi.id,
        min_daily_pay=200,
        status=WorkerStatus.ACTIVE,
        consent_at=utcnow(),
        registered_via=RegisteredVia.COUNTER,
    )
    worker.trades = [WorkerTrade(trade_id=plumber.id, years_experience=3)]
    session.add(worker)
    session.flush()
    job = session.scalars(select(Job).where(Job.code == "777")).one()
    expires = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    session.add(
        Offer(
            job_id=job.id, worker_id=worker.id, status=OfferStatus.SENT, sent_at=utcnow(), expires_at=expires
        )
    )
    session.flush()
    return worker


def _placed_today(session, employer: Employer) -> None:
    """A porter's job of today (2026-12-04, 08:00) whose one place 赵六 holds and has not arrived at."""
    porter = session.scalars(select(Trade).where(Trade.code == "porter")).one()
    taixi = session.scalars(select(Site).where(Site.code == "LZ-TX")).one()
    request = JobRequest(porter.id, 1, date(2026, 12, 4), time(8), 1, 260, taixi.id)
    job = create_job(session, employer, request, JobSource.IVR)
    worker = Worker(
        phone="+8613900139111",
        name="赵六",
        home_site_id=taixi.id,
        min_daily_pay=200,
        status=WorkerStatus.ACTIVE,
        consent_at=utcnow(),
        registered_via=RegisteredVia.COUNTER,
    )
    session.add(worker)
    session.flush()
    session.add(Offer(job_id=job.id, worker_id=worker.id, status=OfferStatus.ACCEPTED, responded_at=utcnow()))
    job.filled, job.status = 1, JobStatus.FILLED
    session.flush()


def _canonical(xml: str) -> str:
    root = ET.fromstring(xml)
    for element in root.iter():
        element.text = element.text.strip() if element.text and element.text.strip() else element.text
        if element.text is not None and not element.text.strip():
            element.text = None
        element.tail = None
    return ET.canonicalize(ET.tostring(root, encoding="unicode"))


def _pretty(xml: str) -> str:
    root = ET.fromstring(xml)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_golden_twiml(client, session, seeded, market_open, agent_on_duty, name: str, language: str) -> None:
    who, actions = SCENARIOS[name]
    employer_phone = "+8613700137000"
    phone = {"employer": employer_phone, "employer_today": employer_phone, "both": employer_phone}.get(
        who, WORKER_PHONE if who == "worker" else "+8613800138000"
    )
    if who in ("employer", "employer_today", "worker", "both"):
        employer = _employer(session)
        if who == "employer_today":
            _placed_today(session, employer)
        # He reads his texts in English, if the case is English: his calls start in English too.
        session.add(Contact(phone=phone, language=language))
        session.flush()
        if who in ("worker", "both"):
            _worker(session, phone, language)
        session.commit()
    caller = Caller(client, phone=phone, sid="CA" + "5" * 32)
    caller.dial()
    if language == "en" and who == "stranger":
        caller.press("*")
    for action in actions:
        action(caller)
    twiml = caller.twiml
    job = session.scalars(select(Job).where(Job.code != "777").order_by(Job.id.desc())).first()
    if job is not None and job.code:  # a new job's code comes from a sequence: the file says 1 0 1
        twiml = twiml.replace(" ".join(job.code), "1 0 1")
    path = GOLDEN / language / f"{name}.xml"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_pretty(twiml), encoding="utf-8")
    assert path.exists(), f"no golden file {path}: run with UPDATE_GOLDEN=1"
    assert _canonical(twiml) == _canonical(path.read_text(encoding="utf-8"))


def test_every_step_has_a_golden_file() -> None:
    """Each step of the state machine is in at least one golden file (by its action URL)."""
    from dispatch.ivr.flows import STEPS

    seen: set[str] = set()
    for path in [*GOLDEN.glob("*/*.xml"), *VOICE_GOLDEN.glob("*/*.xml")]:
        seen |= set(re.findall(r"/ivr/step/([a-z_]+)\?", path.read_text(encoding="utf-8")))
    assert set(STEPS) - {"done"} <= seen, set(STEPS) - seen
