"""Fairness as a budget under the adaptive policy: a worker past their share of the trade's offers in
the window is asked after everyone within it, however well they rank; a worker left idle for
`idle_days` (or never offered) is boosted ahead of one offered lately (再服务)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from dispatch.matching import adaptive, budget, in_time
from dispatch.matching import config as matching_config
from tests.factories import NOW, Market, commit
from tests.helpers import offers_of, run_jobs
from tests.matching.history import NO, SILENT, YES, History


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"MATCHING_POLICY": "adaptive"}


def test_a_worker_past_the_band_is_asked_after_those_within_it(
    runtime, session, market: Market, clock
) -> None:
    cfg = matching_config.load(runtime.settings).adaptive
    history = History(session, market)
    busy = market.worker(rating=(50, 10), placements=20)  # the best rated, next door
    history.offers(busy, [YES, NO, SILENT, YES, NO, SILENT, YES, NO])  # 8 offers in the window
    others = [market.worker(site="LZ-TX") for _ in range(5)]
    for worker in others[:2]:
        history.offers(worker, [YES])
    # 10 offers over 6 workers of the trade: a fair share of 1.67, the band 1.5 x that + 2 = 4.5
    standing = budget.standings(session, cfg, busy.trades[0].trade_id, [busy.id, others[0].id], NOW)
    assert standing[busy.id].over and standing[busy.id].offers == 8
    assert standing[busy.id].fair_share == pytest.approx(10 / 6)
    assert not standing[others[0].id].over

    job = market.job(headcount=1)
    commit(runtime, session)
    run_jobs(runtime)
    offered = {offer.worker_id for offer in offers_of(session, job)}
    assert offered and busy.id not in offered and offered <= {worker.id for worker in others}
    assert all(offer.explanation["budget"]["over"] is False for offer in offers_of(session, job))


def test_over_budget_workers_are_still_asked_when_nobody_else_is_left(
    runtime, session, market: Market, clock
) -> None:
    history = History(session, market)
    busy = market.worker()
    history.offers(busy, [NO] * 8)
    for _ in range(4):  # in the trade, but not for a job at this pay: they share the window's offers
        market.worker(pay=500)
    job = market.job(headcount=1)
    commit(runtime, session)
    run_jobs(runtime)
    [offer] = offers_of(session, job)
    assert offer.worker_id == busy.id and offer.explanation["budget"]["over"] is True


def test_a_worker_left_idle_is_asked_first(runtime, session, market: Market, clock) -> None:
    cfg = matching_config.load(runtime.settings).adaptive
    long_ago = NOW - timedelta(days=cfg.idle_days + 1)
    # Better rated, more experienced, and with a record of saying yes, but offered yesterday: by
    # the chance of a yes and the score they would come first.
    history = History(session, market)
    lately = [
        market.worker(last_offered_at=NOW - timedelta(days=1), rating=(50, 10), years=10) for _ in range(4)
    ]
    for worker in lately:
        history.offers(worker, [YES, YES])
    idle = market.worker(last_offered_at=long_ago, years=1)
    never = market.worker(years=1)
    never.created_at = long_ago  # registered over a week ago, never offered anything
    newcomer = market.worker(years=1)  # registered today: not idle yet
    ids = [worker.id for worker in (*lately, idle, never, newcomer)]
    standing = budget.standings(session, cfg, idle.trades[0].trade_id, ids, NOW)
    assert standing[idle.id].idle and standing[never.id].idle
    assert not standing[newcomer.id].idle and not any(standing[worker.id].idle for worker in lately)

    job = market.job(headcount=1)
    commit(runtime, session)
    run_jobs(runtime)
    offers = offers_of(session, job)
    # a narrow wave (a job tomorrow): the idle come before everyone else
    assert offers and {offer.worker_id for offer in offers} <= {idle.id, never.id}
    assert all(offer.explanation["budget"]["idle"] for offer in offers)


def test_without_anyone_idle_the_likelier_come_first(runtime, session, market: Market, clock) -> None:
    history = History(session, market)
    keen = [market.worker(years=1) for _ in range(2)]
    for worker in keen:
        history.offers(worker, [YES, YES, YES])
    better_scored = [market.worker(rating=(50, 10), years=10) for _ in range(3)]
    for worker in better_scored:
        history.offers(worker, [SILENT, NO, SILENT])
    job = market.job(headcount=1)
    session.flush()
    config = matching_config.load(runtime.settings)
    timing = in_time.plan(runtime.settings, job, NOW)
    assert timing is not None
    choice = adaptive.choose(session, runtime.settings, config, job, 1.0, [], timing, 1, NOW)
    # the keen (a record of yeses) are enough for the wave's narrow aim: the silent are not asked
    assert choice.found and {c.worker_id for c in choice.found} <= {worker.id for worker in keen}
    assert not {c.worker_id for c in choice.found} & {worker.id for worker in better_scored}
