"""Learned estimates from the stored record: Beta priors from the population, so a newcomer gets the
population's rates; a worker who never answers drops, one who always says yes in time rises; the pay,
distance and time-of-day bands move everyone's estimate as the population's record says."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dispatch.matching import config as matching_config
from dispatch.matching import estimates
from dispatch.models import Worker
from tests.factories import NOW, Market
from tests.matching.history import FILLED, NO, SILENT, YES, History

HOUR_OFFSET_S = 8 * 3600  # Asia/Shanghai


@pytest.fixture
def cfg(runtime):
    return matching_config.load(runtime.settings).adaptive


def rates(session, cfg, worker: Worker, bands: dict[str, int] | None = None) -> estimates.Estimate:
    people = estimates.population(session, cfg, NOW, HOUR_OFFSET_S)
    record = estimates.records(session, cfg, [worker.id], NOW).get(worker.id)
    return estimates.estimate(cfg, people, record, bands or {"pay": 2, "km": 0, "hour": 0, "wait": 1})


def test_a_newcomer_gets_the_populations_rates_and_the_record_moves_the_others(
    session, market: Market, cfg, clock
) -> None:
    history = History(session, market)
    keen = market.worker()
    silent = market.worker()
    for _ in range(6):  # the population: half yes, a quarter no, a quarter no answer
        history.offers(market.worker(), [YES, YES, NO, SILENT])
    history.offers(keen, [YES] * 8)
    history.offers(silent, [SILENT] * 8)
    newcomer = market.worker()

    fresh, never, always = (
        rates(session, cfg, newcomer),
        rates(session, cfg, silent),
        rates(session, cfg, keen),
    )
    assert fresh.offers == 0
    # the record: 40 offers, 26 answered in time, 20 of those answers a yes (the keen and the
    # silent worker in it too), one band for all: the population prior, unlifted
    m = cfg.prior_count
    assert fresh.answer == pytest.approx((26 + m * 0.75) / (40 + m))
    assert fresh.yes == pytest.approx((20 + m * 0.6) / (26 + m))
    assert never.offers == 8 and always.offers == 8
    # eight unanswered offers halve the chance; eight quick yeses raise it well above the newcomer's
    assert never.yes_in_time < fresh.yes_in_time / 2
    assert always.yes_in_time > fresh.yes_in_time * 1.4
    # the prior keeps both short of certainty either way
    assert never.yes_in_time > 0 and always.yes_in_time < 1


def test_offers_closed_because_the_job_filled_say_nothing(session, market: Market, cfg, clock) -> None:
    history = History(session, market)
    for _ in range(4):
        history.offers(market.worker(), [YES, NO, SILENT])
    crowded_out = market.worker()
    history.offers(crowded_out, [FILLED] * 6)
    newcomer = market.worker()
    assert rates(session, cfg, crowded_out) == rates(session, cfg, newcomer)


def test_offers_older_than_the_window_are_forgotten(session, market: Market, cfg, clock) -> None:
    history = History(session, market)
    for _ in range(4):
        history.offers(market.worker(), [YES, NO])
    once_silent = market.worker()
    history.offers(once_silent, [SILENT] * 6, sent=NOW - timedelta(days=cfg.window_days + 1))
    assert rates(session, cfg, once_silent).offers == 0
    assert rates(session, cfg, once_silent) == rates(session, cfg, market.worker())


def test_distance_and_pay_bands_move_the_estimate_as_the_population_answered(
    session, market: Market, cfg, clock
) -> None:
    history = History(session, market)
    for _ in range(8):
        worker = market.worker(pay=200)
        history.offers(worker, [YES, YES, YES, NO], km=0.5)  # next door: mostly yes
        history.offers(market.worker(pay=200), [NO, NO, NO, YES], km=12.0)  # far: mostly no
    newcomer = market.worker(pay=200)
    near = rates(session, cfg, newcomer, {"pay": 2, "km": estimates.km_band(0.5), "hour": 0})
    far = rates(session, cfg, newcomer, {"pay": 2, "km": estimates.km_band(12.0), "hour": 0})
    assert near.yes > 1.5 * far.yes
    assert near.answer == pytest.approx(far.answer)  # both answered every offer

    # pay: offers at the worker's floor went unanswered, well-paid ones were answered
    low_pay = History(session, market)
    for _ in range(8):
        low_pay.offers(market.worker(pay=300), [SILENT, SILENT, YES], pay=300)  # margin 0: band 0
    at_floor = rates(session, cfg, newcomer, {"pay": 0, "km": 0, "hour": 0})
    well_paid = rates(session, cfg, newcomer, {"pay": 2, "km": 0, "hour": 0})
    assert at_floor.answer < well_paid.answer


def test_bands() -> None:
    assert [estimates.pay_band(300, floor) for floor in (300, 280, 250, 200)] == [0, 0, 1, 2]
    assert [estimates.km_band(km) for km in (0.0, 0.99, 1.0, 2.5, 7.9, 8.0, 25.0, None)] == [
        0,
        0,
        1,
        1,
        2,
        3,
        3,
        3,
    ]
    assert [estimates.hour_band(hour) for hour in (5, 6, 10, 11, 16, 17, 20, 21, 23)] == [
        3,
        0,
        0,
        1,
        1,
        2,
        2,
        3,
        3,
    ]


def test_answering_in_time_is_read_per_wait_band(session, market: Market, cfg, clock) -> None:
    """The same people answer in 15 minutes: in time for an hour's offer, late for a same-day one's 10
    minutes. A newcomer's chance of a yes in time follows the time the offer gives."""
    history = History(session, market)
    for _ in range(8):
        worker = market.worker()
        history.offers(worker, [YES, NO], expiry=60, delay=15)
        history.offers(worker, [YES, NO], expiry=10, delay=15, pay=310)
    newcomer = market.worker()
    hour = rates(session, cfg, newcomer, {"pay": 2, "km": 0, "hour": 0, "wait": estimates.wait_band(60)})
    short = rates(session, cfg, newcomer, {"pay": 2, "km": 0, "hour": 0, "wait": estimates.wait_band(10)})
    assert estimates.wait_band(10) == 0 and estimates.wait_band(60) == 1
    assert short.in_time < 0.6 * hour.in_time
    assert short.answer == pytest.approx(hour.answer)  # everyone answered both
    # a lapsed short offer may still bring its yes: the late answer among those not in time
    assert short.late_yes > 0.3 and short.late_yes > hour.late_yes


def test_a_late_yes_is_answering_late_among_those_not_in_time() -> None:
    estimate = estimates.Estimate(answer=0.8, in_time=0.4, yes=0.5, offers=3)
    assert estimate.late_yes == pytest.approx((0.8 - 0.4) * 0.5 / 0.6)
    assert estimates.Estimate(answer=0.5, in_time=0.5, yes=0.9, offers=0).late_yes == 0
    assert estimates.Estimate(answer=1.0, in_time=1.0, yes=0.9, offers=0).late_yes == 0


def test_how_long_late_answers_take_is_learned_once_there_are_enough(
    session, market: Market, cfg, clock
) -> None:
    """16 late answers 30 minutes after the lapse and 4 after 90: 80 % came within 30 minutes. With
    19 on record the configured `late_minutes` stands (None here)."""
    history = History(session, market)
    worker = market.worker()
    history.offers(worker, [YES] * 15, expiry=10, delay=40)
    history.offers(worker, [NO] * 4, expiry=10, delay=100, pay=310)
    history.offers(market.worker(), [YES, NO, SILENT], expiry=10, delay=5)  # in time: not late answers
    assert estimates.population(session, cfg, NOW, HOUR_OFFSET_S).late_answer_minutes is None
    history.offers(market.worker(), [YES], expiry=10, delay=40)
    assert estimates.population(session, cfg, NOW, HOUR_OFFSET_S).late_answer_minutes == pytest.approx(30)
    history.offers(market.worker(), [NO] * 6, expiry=10, delay=100, pay=310)  # 10 of 26 now took 90
    assert estimates.population(session, cfg, NOW, HOUR_OFFSET_S).late_answer_minutes == pytest.approx(90)
