"""The adaptive policy end to end through real wave jobs (RQ, a controlled clock): each wave sized
from the learned estimates, wider for a job starting soon than for one next week, the sizing kept for
the job page, each offer carrying the chance it was sent on."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest

from dispatch.matching import config as matching_config
from dispatch.models import OfferStatus
from tests.factories import NOW, Market, commit
from tests.helpers import fresh, offers_of, run_jobs
from tests.matching.history import NO, SILENT, YES, History


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"MATCHING_POLICY": "adaptive"}


def start(runtime, session, market: Market, **job_options):
    job = market.job(**job_options)
    commit(runtime, session)
    run_jobs(runtime)
    return fresh(session, job)


def test_a_job_next_week_gets_a_narrow_wave_and_one_starting_soon_a_wide_one(
    runtime, session, market: Market, clock
) -> None:
    for _ in range(20):
        market.worker(site="LZ-TX")
    later = start(runtime, session, market, headcount=2, work_date=NOW.date() + timedelta(days=7))
    soon = start(runtime, session, market, headcount=2, work_date=NOW.date(), start=time(12, 30))

    narrow, wide = offers_of(session, later), offers_of(session, soon)
    [later_wave] = later.matching["waves"]
    [soon_wave] = soon.matching["waves"]
    # next week: many waves fit, so this one aims low (min_wave_target); 2.5 hours ahead: higher at once
    cfg = matching_config.load(runtime.settings).adaptive
    assert cfg.min_wave_target < cfg.soon_wave_target
    assert later_wave["sizing"]["waves_left"] > 50  # a week of waves outside quiet hours
    assert later_wave["sizing"]["target"] == pytest.approx(cfg.min_wave_target)
    assert soon_wave["sizing"]["target"] == pytest.approx(cfg.soon_wave_target)
    assert len(narrow) < len(wide) <= 30
    for wave, offers in ((later_wave, narrow), (soon_wave, wide)):
        sizing = wave["sizing"]
        assert sizing["offers"] == len(offers) == wave["offers"]
        assert sizing["chance"] >= sizing["target"] and not sizing["capped"]
        # the expected yeses are the sum of the offers' chances, each kept on its offer
        chances = [offer.explanation["estimate"]["p"] for offer in offers]
        assert sizing["expected_yes"] == pytest.approx(sum(chances), abs=0.01 * len(offers))
        assert {offer.status for offer in offers} == {OfferStatus.SENT}


def test_a_worker_who_never_answers_is_asked_last(runtime, session, market: Market, clock) -> None:
    history = History(session, market)
    silent = market.worker(rating=(50, 10), years=10)  # the best by the score, but never answers
    history.offers(silent, [SILENT] * 10)
    others = [market.worker() for _ in range(3)]
    for worker in others:
        history.offers(worker, [YES, NO])
    job = start(runtime, session, market, headcount=1)
    offered = [offer.worker_id for offer in offers_of(session, job)]
    assert silent.id not in offered and set(offered) <= {worker.id for worker in others}


def test_a_worker_whose_record_says_they_never_answer_is_not_asked_but_a_newcomer_is(
    runtime, session, market: Market, clock
) -> None:
    """Four places for today and not enough likely workers to reach the aim: the wave asks everyone
    who may make a difference, not the three whose twenty offers all lapsed unanswered (each would
    add a place with a chance under `min_marginal_yes`). A newcomer, with nothing on record, is
    asked: the population's guess is all there is until they are."""
    history = History(session, market)
    silent = [market.worker() for _ in range(3)]
    for worker in silent:
        history.offers(worker, [SILENT] * 20)
    answering = [market.worker() for _ in range(6)]
    for worker in answering:
        history.offers(worker, [YES, NO])
    newcomer = market.worker()
    job = start(runtime, session, market, headcount=4, work_date=NOW.date(), start=time(12, 30))
    offered = {offer.worker_id for offer in offers_of(session, job)}
    assert offered == {worker.id for worker in (*answering, newcomer)}
    [wave] = job.matching["waves"]
    assert wave["sizing"]["capped"] and wave["sizing"]["passed_over"] == len(silent)
    cfg = matching_config.load(runtime.settings).adaptive
    assert cfg.min_marginal_yes > 0


def test_a_thin_market_widens_the_radius_at_once_when_no_later_wave_fits(
    runtime, session, market: Market, clock
) -> None:
    near = market.worker(site="LZ-TX")  # the only worker within 1 km
    town = [market.worker(site=site) for site in ("LZ-XJ", "LZ-CQ") * 2]  # within 3 km
    market.worker(site="LZ-LDS")  # 6.7 km: not needed
    # starting 15 minutes past the lead: one 10-minute wave fits before it
    starts = NOW + timedelta(minutes=runtime.settings.MIN_LEAD_MINUTES + 15)
    job = start(runtime, session, market, headcount=1, work_date=NOW.date(), start=starts.time())
    [wave] = job.matching["waves"]
    # one place, one wave: it must reach the whole 90% target; five 39% chances make 92%
    assert wave["sizing"]["waves_left"] == 1 and wave["sizing"]["target"] == pytest.approx(0.9)
    assert wave["radius_km"] == 3.0 and wave["wave"] == 2
    assert {offer.worker_id for offer in offers_of(session, job)} == {near.id, *(w.id for w in town)}


def test_the_next_wave_counts_the_offers_still_out(runtime, session, market: Market, clock) -> None:
    for _ in range(12):
        market.worker()
    job = start(runtime, session, market, headcount=3, work_date=NOW.date() + timedelta(days=3))
    first = len(offers_of(session, job))
    # the wave lapses unanswered: the next wave asks again, sized anew (no offers left out)
    clock.shift(timedelta(minutes=60))
    run_jobs(runtime, with_scheduler=True)
    job = fresh(session, job)
    offers = offers_of(session, job)
    assert {o.status for o in offers[:first]} == {OfferStatus.EXPIRED}
    assert len(offers) > first and job.wave == 2
    assert job.matching["waves"][-1]["sizing"]["still_open"] == 0


def test_offers_lapsed_lately_are_counted_on_for_a_late_yes(runtime, session, market: Market, clock) -> None:
    """These workers say yes, half the time a quarter of an hour after a same-day offer's 10 minutes: a
    lapsed offer still takes a place that is left, so the next wave waits for them rather than asking
    more people who would find the job full; `late_minutes` after the lapse they stop counting."""
    history = History(session, market)
    for _ in range(30):
        worker = market.worker()
        history.offers(worker, [YES], expiry=10, delay=5)
        history.offers(worker, [YES], expiry=10, delay=15, pay=310)
    job = start(runtime, session, market, headcount=1, work_date=NOW.date(), start=time(14, 0))
    first = offers_of(session, job)
    assert 0 < len(first) < 30

    clock.shift(timedelta(minutes=10))
    run_jobs(runtime, with_scheduler=True)
    offers = offers_of(session, job)
    assert len(offers) == len(first) and {o.status for o in offers} == {OfferStatus.EXPIRED}
    assert len(fresh(session, job).matching["waves"]) == 1  # nobody new asked

    late = matching_config.load(runtime.settings).adaptive.late_minutes
    clock.shift(timedelta(minutes=late))
    run_jobs(runtime, with_scheduler=True)
    job = fresh(session, job)
    assert len(offers_of(session, job)) > len(first)
    assert job.matching["waves"][-1]["sizing"]["lapsed"] == 0


def test_lapsed_offers_count_for_as_long_as_the_records_late_answers_take(
    runtime, session, market: Market, clock
) -> None:
    """These workers' late yeses came 90 minutes after the lapse, past `late_minutes`: a lapsed
    offer is counted on for the record's 90 minutes (at most `late_minutes_max`), so nobody new is
    asked an hour after the lapse; after 90 minutes the next wave goes."""
    history = History(session, market)
    for _ in range(30):
        worker = market.worker()
        history.offers(worker, [YES], expiry=10, delay=5)
        history.offers(worker, [YES], expiry=10, delay=100, pay=310)
    cfg = matching_config.load(runtime.settings).adaptive
    assert cfg.late_minutes < 60 < 90 <= cfg.late_minutes_max
    job = start(runtime, session, market, headcount=1, work_date=NOW.date(), start=time(17, 0))
    first = offers_of(session, job)
    assert 0 < len(first) < 30

    clock.shift(timedelta(minutes=10 + 60))
    run_jobs(runtime, with_scheduler=True)
    offers = offers_of(session, job)
    assert len(offers) == len(first) and {o.status for o in offers} == {OfferStatus.EXPIRED}

    clock.shift(timedelta(minutes=31))
    run_jobs(runtime, with_scheduler=True)
    assert len(offers_of(session, job)) > len(first)


QUIET = {"MATCHING_POLICY": "adaptive", "QUIET_HOURS": "21:00-08:00"}


@pytest.mark.parametrize("settings_overrides", [QUIET])
def test_a_job_for_today_aims_high_however_late_it_starts(runtime, session, market: Market, clock) -> None:
    """Seven hours ahead is past `soon_hours`, but the same day: its waves aim at `soon_wave_target`
    (how fast today's jobs fill is what the market measures); tomorrow's 08:00 start has the day's
    waves before quiet hours, and aims at its share of the target over them."""
    for _ in range(20):
        market.worker(site="LZ-TX")
    cfg = matching_config.load(runtime.settings).adaptive
    today = start(runtime, session, market, headcount=1, work_date=NOW.date(), start=time(17, 0))
    tomorrow = start(runtime, session, market, headcount=1, work_date=NOW.date() + timedelta(days=1))
    [today_wave], [tomorrow_wave] = today.matching["waves"], tomorrow.matching["waves"]
    assert cfg.soon_hours < 7
    assert today_wave["sizing"]["target"] == pytest.approx(cfg.soon_wave_target)
    # 10:00 to 21:00, an hour a wave (quiet hours hold the rest past the 07:30 lead): 11 waves
    assert tomorrow_wave["sizing"]["waves_left"] == 11
    share = max(cfg.min_wave_target, 1 - (1 - cfg.target_fill) ** (1 / 11))
    assert tomorrow_wave["sizing"]["target"] == pytest.approx(share, abs=1e-3)
    assert tomorrow_wave["offers"] < today_wave["offers"]
