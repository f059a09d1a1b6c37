"""The first run's demo data: a few hundred varied, active workers, some employers and a demo agent,
added idempotently, and never in production or where texts could really be sent."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest
from sqlalchemy import func, select

from dispatch.console.auth import authenticate
from dispatch.demo import (
    AGENT_PASSWORD,
    AGENT_USERNAME,
    DemoRefused,
    employer_phones,
    seed_demo,
    worker_phones,
)
from dispatch.models import (
    Agent,
    AgentRole,
    AuditEvent,
    Employer,
    SiteLevel,
    Worker,
    WorkerStatus,
    WorkerTrade,
)
from tests.helpers import first_run_env, run_dispatch


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_the_demo_adds_a_varied_market_of_active_workers(session, seeded, runtime) -> None:
    counts = seed_demo(session, runtime.settings)
    assert counts == {
        "workers_created": 300,
        "workers_existing": 0,
        "employers_created": 12,
        "employers_existing": 0,
        "agent_created": 1,
    }
    workers = list(session.scalars(select(Worker)))
    assert len(workers) == 300 and {w.phone for w in workers} == set(worker_phones())
    assert all(w.status == WorkerStatus.ACTIVE and w.consent_at is not None and w.name for w in workers)
    assert all(w.home_site is not None and w.home_site.level != SiteLevel.DISTRICT for w in workers)
    assert all(1 <= len(w.trades) <= 3 for w in workers)
    # Varied: every trade, most places, a spread of pay.
    trades = Counter(wt.trade.code for wt in session.scalars(select(WorkerTrade)))
    assert len(trades) == 12 and trades.most_common(1)[0][0] in {"general_labourer", "porter", "cleaner"}
    assert len({w.home_site_id for w in workers}) >= 25
    pays = sorted(w.min_daily_pay for w in workers)
    assert pays[0] <= 150 and pays[-1] >= 300 and all(pay % 10 == 0 for pay in pays)
    employers = list(session.scalars(select(Employer)))
    assert {e.phone for e in employers} == set(employer_phones()) and all(
        e.site_id and e.name for e in employers
    )
    # The demo agent signs in with the printed password, as an admin of the district.
    agent = authenticate(session, AGENT_USERNAME, AGENT_PASSWORD)
    assert agent is not None and agent.role == AgentRole.ADMIN and agent.site.code == "LZ"


def test_seeding_again_changes_nothing(session, seeded, runtime) -> None:
    seed_demo(session, runtime.settings, workers=40, employers=4)
    first = {w.phone: (w.name, w.min_daily_pay, w.home_site_id) for w in session.scalars(select(Worker))}
    agent_hash = session.scalar(select(Agent.password_hash))
    audits = count(session, AuditEvent)

    again = seed_demo(session, runtime.settings, workers=40, employers=4)
    assert again == {
        "workers_created": 0,
        "workers_existing": 40,
        "employers_created": 0,
        "employers_existing": 4,
        "agent_created": 0,
    }
    session.expire_all()
    assert {
        w.phone: (w.name, w.min_daily_pay, w.home_site_id) for w in session.scalars(select(Worker))
    } == first
    assert (count(session, Employer), count(session, Agent), count(session, AuditEvent)) == (4, 1, audits)
    assert session.scalar(select(Agent.password_hash)) == agent_hash

    # A bigger demo adds the missing workers only; the first 40 are the same people as before.
    more = seed_demo(session, runtime.settings, workers=60, employers=4)
    assert (more["workers_created"], more["workers_existing"]) == (20, 40)
    session.expire_all()
    now = {w.phone: (w.name, w.min_daily_pay, w.home_site_id) for w in session.scalars(select(Worker))}
    assert {phone: now[phone] for phone in first} == first


@pytest.mark.parametrize(
    "change",
    [
        {"DISPATCH_ENV": "production"},
        {"SMS_TRANSPORT": "twilio"},
        {"PUBLIC_BASE_URL": "https://jobs.example.cn"},
    ],
    ids=["production", "twilio", "reachable"],
)
def test_the_demo_refuses_where_texts_could_really_go(session, seeded, runtime, change) -> None:
    settings = dataclasses.replace(runtime.settings, **change)
    with pytest.raises(DemoRefused):
        seed_demo(session, settings)
    assert (count(session, Worker), count(session, Employer), count(session, Agent)) == (0, 0, 0)


def test_the_demo_command_on_a_first_run_database(tmp_path) -> None:
    env = first_run_env(tmp_path / "dispatch.sqlite3")
    for args in (("db", "upgrade"), ("seed",)):
        assert run_dispatch(env, *args).returncode == 0
    first = run_dispatch(env, "demo", "--workers", "50")
    assert first.returncode == 0, first.stderr
    assert (
        "workers_created 50" in first.stdout
        and f"demo agent: {AGENT_USERNAME} / {AGENT_PASSWORD}" in first.stdout
    )
    again = run_dispatch(env, "demo", "--workers", "50")
    assert again.returncode == 0 and "workers_created 0, workers_existing 50" in again.stdout

    production = {
        **env,
        "DISPATCH_ENV": "production",
        "SECRET_KEY": "s",
        "TWILIO_AUTH_TOKEN": "t",
        "REDIS_URL": "redis://127.0.0.1:6379/6",
    }
    refused = run_dispatch(production, "demo")
    assert refused.returncode == 2 and "production" in refused.stderr
