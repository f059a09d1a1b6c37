"""The synthetic market and its people: drawn from the seed alone, and speaking the service's language
(every SMS job request reads back as the job meant; the voice menu's keys are the job's)."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy.orm import Session

from dispatch.jobs.request_parser import parse_request, strip_keyword
from dispatch.phones import try_e164
from dispatch.simulation.market import Market, build_market
from dispatch.simulation.people import acceptance, ivr_keys, sms_request
from tests.simulation.places import seeded_places

DAY = date(2026, 6, 10)


def _market(session: Session, seed: int = 7, jobs: int = 40) -> Market:
    sites, trades = seeded_places(session)
    return build_market(
        seed,
        workers=50,
        employers=6,
        jobs=jobs,
        day=DAY,
        timezone="Asia/Shanghai",
        sites=sites,
        trades=trades,
    )


def test_the_same_seed_draws_the_same_market_and_another_seed_another(session, seeded) -> None:
    first, again, other = _market(session), _market(session), _market(session, seed=8)
    assert first == again
    assert first.workers != other.workers and first.jobs != other.jobs
    phones = [w.phone for w in first.workers] + [e.phone for e in first.employers]
    assert len(set(phones)) == len(phones)
    assert all(try_e164(phone, "CN") == phone for phone in phones)
    assert [job.at for job in first.jobs] == sorted(job.at for job in first.jobs)


def test_every_sms_job_request_reads_back_as_the_job_it_means(session, seeded) -> None:
    market = _market(session, jobs=60)
    for job in market.jobs:
        text = sms_request(market, job)
        body = strip_keyword(text)
        assert body is not None, text
        parsed = parse_request(session, body, DAY)
        assert parsed.unknown == [], text
        assert (parsed.trade_id, parsed.headcount, parsed.days, parsed.pay, parsed.site_id) == (
            job.trade_id,
            job.headcount,
            job.days,
            job.pay,
            job.site_id,
        ), text
        assert (parsed.work_date - DAY).days == job.day_offset and parsed.hour == job.hour, text


def test_jobs_today_start_after_they_are_posted(session, seeded) -> None:
    market = _market(session, jobs=80)
    today = [job for job in market.jobs if job.day_offset == 0]
    assert today, "the market should post some jobs for the same afternoon"
    for job in today:
        posted = job.at.astimezone(market.local(time(0)).tzinfo)
        assert job.hour >= posted.hour + 2


def test_the_voice_menu_keys_are_the_jobs_own(session, seeded) -> None:
    market = _market(session)
    village = next(s for s in market.sites.values() if s.level == "village")
    town = market.sites[village.parent_id]
    job = next(job for job in market.jobs)
    job = type(job)(**{**job.__dict__, "site_id": village.id, "headcount": 3, "pay": 280})
    villages = sorted(s.id for s in market.sites.values() if s.parent_id == town.id)
    assert ivr_keys(market, job, "area") == str(town.number)
    assert ivr_keys(market, job, "village") == str(villages.index(village.id) + 1)
    assert (ivr_keys(market, job, "headcount"), ivr_keys(market, job, "pay")) == ("3", "280")
    assert ivr_keys(market, job, "date") == str(job.day_offset + 1)
    town_job = type(job)(**{**job.__dict__, "site_id": town.id})
    assert ivr_keys(market, town_job, "village") == "#"  # the town itself
    assert ivr_keys(market, job, "voicemail") is None  # not a step of posting a job


def test_workers_take_better_paid_and_nearer_offers_more_often() -> None:
    assert acceptance(300, 300, 0) < acceptance(360, 300, 0) < acceptance(450, 300, 0)
    assert acceptance(360, 300, 0) > acceptance(360, 300, 5) > acceptance(360, 300, 20)
    assert 0 < acceptance(300, 300, 20) < acceptance(600, 200, 0) <= 0.85
