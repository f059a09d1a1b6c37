"""Candidate selection over random markets (hypothesis): exactly the eligible workers, never one who
is opted out, paused, unreachable, booked, too dear, too far, offered before or blocked; a fixed seed
gives a fixed order; each explanation sums to its score."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dispatch.matching import candidates
from dispatch.matching import config as matching_config
from dispatch.matching.distances import KM_PER_DEGREE, near_sites
from dispatch.models import (
    Contact,
    EmployerBlock,
    Job,
    JobSource,
    JobStatus,
    Offer,
    OfferStatus,
    Site,
    WorkerStatus,
)
from tests.factories import Market

PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
WORK_DATE = date(2026, 12, 3)  # a three-day job: the 3rd to the 5th
SITES = ["LZ", "LZ-TX", "LZ-TX-FHX", "LZ-XJ", "LZ-YA", "LZ-CB", "LZ-MC-MC", "LZ-XBT-XBT", None]
# Another job's days against the 3rd-5th: which of them make the worker unavailable.
BOOKINGS = {
    "none": None,
    "same_days": (date(2026, 12, 3), 3),
    "last_day": (date(2026, 12, 5), 1),
    "ends_on_first_day": (date(2026, 12, 1), 3),
    "before": (date(2026, 12, 1), 2),
    "after": (date(2026, 12, 6), 1),
}
OVERLAPPING = {"same_days", "last_day", "ends_on_first_day"}


# Each rule's way out is drawn about a quarter of the time, so that many workers pass all the others
# and an off-by-one in any single rule shows.
def mostly(usual, *others):  # type: ignore[no-untyped-def]
    return st.sampled_from([usual] * 3 * len(others) + list(others))


workers = st.fixed_dictionaries(
    {
        "status": mostly(WorkerStatus.ACTIVE, *(s for s in WorkerStatus if s != WorkerStatus.ACTIVE)),
        "site": st.sampled_from(SITES),
        "pay": mostly(250, 150, 300, 301, 400),
        "trade": mostly("plumber_electrician", "porter"),
        "contact": mostly("none", "ok", "opted_out", "undeliverable"),
        "booking": mostly("none", *(b for b in BOOKINGS if b != "none")),
        "booking_status": st.sampled_from(
            [OfferStatus.ACCEPTED, OfferStatus.CANCELLED, OfferStatus.DECLINED]
        ),
        "offered": mostly(False, True),
        "blocked": mostly(False, True),
        "stars": st.integers(0, 40),
        "reviews": st.integers(0, 10),
        "placements": st.integers(0, 30),
        "no_shows": st.integers(0, 5),
        "years": st.integers(0, 15),
        "offered_days_ago": st.one_of(st.none(), st.integers(0, 30)),
    }
)
markets = st.fixed_dictionaries(
    {
        "workers": st.lists(workers, max_size=24),
        "job_site": st.sampled_from([site for site in SITES if site]),
        "radius": mostly(20.0, 0.5, 1.5, 4.0),
        "policy": st.sampled_from(["fair", "greedy", "lottery"]),
        "seed": st.integers(0, 10**6),
    }
)


def km_between(a: Site, b: Site) -> float:
    """The documented equirectangular distance, computed here independently of the SQL."""
    dy = (a.lat - b.lat) * KM_PER_DEGREE
    dx = (a.lon - b.lon) * KM_PER_DEGREE * math.cos(math.radians(b.lat))
    return math.hypot(dx, dy)


def build(market: Market, spec: dict) -> tuple[Job, dict[int, bool]]:
    """Write the market; returns the job and, per worker, whether the rules say it is eligible."""
    session = market.session
    employer, other_employer = market.employer(), market.employer()
    job = _job(market, employer, spec["job_site"], WORK_DATE, days=3, pay=300)
    job_site = market.site(spec["job_site"])
    expected = {}
    for w in spec["workers"]:
        worker = market.worker(
            trades=(w["trade"],),
            site=w["site"],
            pay=w["pay"],
            status=w["status"],
            rating=(min(w["stars"], 5 * w["reviews"]), w["reviews"]),
            placements=w["placements"],
            no_shows=w["no_shows"],
            years=w["years"],
            last_offered_at=None
            if w["offered_days_ago"] is None
            else NOW - timedelta(days=w["offered_days_ago"]),
        )
        if w["contact"] != "none":
            session.add(
                Contact(
                    phone=worker.phone,
                    opted_out_at=NOW if w["contact"] == "opted_out" else None,
                    undeliverable_at=NOW if w["contact"] == "undeliverable" else None,
                )
            )
        booking = BOOKINGS[w["booking"]]
        if booking is not None:
            other = _job(market, other_employer, "LZ", booking[0], days=booking[1], pay=200)
            session.add(
                Offer(job_id=other.id, worker_id=worker.id, status=w["booking_status"], explanation={})
            )
        if w["offered"]:
            session.add(
                Offer(job_id=job.id, worker_id=worker.id, status=OfferStatus.DECLINED, explanation={})
            )
        if w["blocked"]:
            session.add(EmployerBlock(employer_id=employer.id, worker_id=worker.id))
        session.flush()
        site = market.site(w["site"]) if w["site"] else None
        expected[worker.id] = (
            w["status"] == WorkerStatus.ACTIVE
            and w["contact"] in {"none", "ok"}
            and w["trade"] == "plumber_electrician"
            and w["pay"] <= 300
            and site is not None
            and km_between(site, job_site) <= spec["radius"]
            and not (w["booking"] in OVERLAPPING and w["booking_status"] == OfferStatus.ACCEPTED)
            and not w["offered"]
            and not w["blocked"]
        )
    return job, expected


def _job(market: Market, employer, site: str, work_date: date, days: int, pay: int) -> Job:  # type: ignore[no-untyped-def]
    job = Job(
        employer_id=employer.id,
        trade_id=market.trade("plumber_electrician").id,
        headcount=2,
        filled=0,
        work_date=work_date,
        start_time=time(8),
        days=days,
        end_date=Job.last_day(work_date, days),
        daily_pay=pay,
        site_id=market.site(site).id,
        status=JobStatus.OPEN,
        source=JobSource.AGENT,
        matching={},
    )
    market.session.add(job)
    market.session.flush()
    job.code = str(100 + job.id)
    return job


BOUNDARIES = [
    # (what, worker options, booking, eligible)
    ("pay floor equal to the pay", {"pay": 300}, None, True),
    ("pay floor a yuan above", {"pay": 301}, None, False),
    ("paused", {"status": WorkerStatus.PAUSED}, None, False),
    ("pending", {"status": WorkerStatus.PENDING}, None, False),
    ("blocked by an agent", {"status": WorkerStatus.BLOCKED}, None, False),
    ("no home site", {"site": None}, None, False),
    ("other trade", {"trades": ("porter",)}, None, False),
    ("booked, ending the day this starts", {}, ("ends_on_first_day", OfferStatus.ACCEPTED), False),
    ("booked, starting the last day", {}, ("last_day", OfferStatus.ACCEPTED), False),
    ("booked the day before", {}, ("before", OfferStatus.ACCEPTED), True),
    ("booked the day after", {}, ("after", OfferStatus.ACCEPTED), True),
    ("a cancelled place on those days", {}, ("same_days", OfferStatus.CANCELLED), True),
    ("a declined offer on those days", {}, ("same_days", OfferStatus.DECLINED), True),
    ("on standby for those days", {}, ("same_days", OfferStatus.STANDBY), True),
]


@pytest.mark.parametrize(
    ("what", "options", "booking", "eligible"), BOUNDARIES, ids=[b[0] for b in BOUNDARIES]
)
def test_each_rule_at_its_edge(market: Market, runtime, what, options, booking, eligible) -> None:
    config = matching_config.load(runtime.settings)
    job = _job(market, market.employer(), "LZ-TX", WORK_DATE, days=3, pay=300)
    worker = market.worker(**{"site": "LZ-TX", "pay": 200, **options})
    if booking is not None:
        start, days = BOOKINGS[booking[0]]
        other = _job(market, market.employer(), "LZ", start, days=days, pay=200)
        market.session.add(Offer(job_id=other.id, worker_id=worker.id, status=booking[1], explanation={}))
        market.session.flush()
    found = candidates.rank(
        market.session, job, radius_km=1.5, limit=10, policy="fair", config=config, seed=1, now=NOW
    )
    assert [c.worker_id for c in found] == ([worker.id] if eligible else [])


@pytest.mark.parametrize("contact", ["opted_out", "undeliverable"])
def test_a_number_that_cannot_take_sms_is_never_a_candidate(market: Market, runtime, contact: str) -> None:
    """Even while the worker row still says active (e.g. STOP sent before a counter registration)."""
    config = matching_config.load(runtime.settings)
    job = market.job()
    worker = market.worker()
    market.session.add(Contact(phone=worker.phone, **{f"{contact}_at": NOW}))
    market.session.flush()
    assert worker.status == WorkerStatus.ACTIVE
    found = candidates.rank(
        market.session, job, radius_km=4, limit=10, policy="fair", config=config, seed=1, now=NOW
    )
    assert found == []


def test_radius_is_measured_from_the_job_site(market: Market, runtime) -> None:
    config = matching_config.load(runtime.settings)
    job = market.job(site="LZ-TX")  # Taihang West; Fenghuangxi village is 0.6 km away, Xijie 1.3 km
    here, village, xijie, far = (
        market.worker(site=code) for code in ("LZ-TX", "LZ-TX-FHX", "LZ-XJ", "LZ-XBT")
    )

    def within(radius: float) -> set[int]:
        found = candidates.rank(
            market.session, job, radius_km=radius, limit=10, policy="fair", config=config, seed=1, now=NOW
        )
        return {c.worker_id for c in found}

    assert within(0.5) == {here.id}
    assert within(1.0) == {here.id, village.id}
    assert within(1.5) == {here.id, village.id, xijie.id}
    assert within(20.0) == {here.id, village.id, xijie.id, far.id}


@PROPERTY_SETTINGS
@given(spec=markets)
def test_candidates_are_exactly_the_eligible_workers(market: Market, runtime, spec) -> None:
    config = matching_config.load(runtime.settings)
    with market.session.begin_nested() as savepoint:
        job, expected = build(market, spec)
        found = candidates.rank(
            market.session,
            job,
            radius_km=spec["radius"],
            limit=1000,
            policy=spec["policy"],
            config=config,
            seed=spec["seed"],
            now=NOW,
        )
        assert {c.worker_id for c in found} == {worker_id for worker_id, ok in expected.items() if ok}
        # Best first, and each explanation is the score split by factor.
        scores = [c.score for c in found]
        assert scores == sorted(scores, reverse=True)
        for candidate in found:
            assert sum(candidate.explanation.shares.values()) == pytest.approx(candidate.score, abs=1e-9)
            assert set(candidate.explanation.shares) == set(config.weights[spec["policy"]])
            assert all(0 <= value <= 1 + 1e-12 for value in candidate.explanation.factors.values())
        savepoint.rollback()


@PROPERTY_SETTINGS
@given(spec=markets, other_seed=st.integers(0, 10**6))
def test_ranking_is_fixed_by_the_seed(market: Market, runtime, spec, other_seed: int) -> None:
    config = matching_config.load(runtime.settings)
    with market.session.begin_nested() as savepoint:
        job, _ = build(market, spec)

        def ranked(seed: int) -> list[tuple[int, float]]:
            found = candidates.rank(
                market.session,
                job,
                radius_km=spec["radius"],
                limit=8,
                policy=spec["policy"],
                config=config,
                seed=seed,
                now=NOW,
            )
            return [(c.worker_id, c.score) for c in found]

        first = ranked(spec["seed"])
        assert ranked(spec["seed"]) == first
        if spec["policy"] != "lottery":
            # Another seed may only reorder equal scores.
            assert [score for _, score in ranked(other_seed)] == [score for _, score in first]
        savepoint.rollback()


def test_explain_matches_the_ranking(market: Market, runtime) -> None:
    config = matching_config.load(runtime.settings)
    job = market.job(pay=300)
    near = market.worker(site="LZ-TX", rating=(19, 4), placements=6, no_shows=1, years=12)
    far = market.worker(site="LZ-XJ", last_offered_at=NOW - timedelta(days=2))
    found = candidates.rank(
        market.session, job, radius_km=4.0, limit=5, policy="fair", config=config, seed=1, now=NOW
    )
    assert [c.worker_id for c in found] == [near.id, far.id]
    for candidate, worker in zip(found, (near, far), strict=True):
        explained = candidates.explain(
            market.session, job, worker, radius_km=4.0, policy="fair", config=config, seed=1, now=NOW
        )
        assert explained == candidate.explanation
    # The near worker's parts, by hand: 0 km; 19 stars from 4 reviews; 6 worked, 1 no-show; 12 years.
    shares = found[0].explanation.shares
    assert shares["distance"] == pytest.approx(0.30)
    assert shares["rating"] == pytest.approx(0.20 * ((19 + 3.5 * 5) / (4 + 5) - 1) / 4)
    assert shares["reliability"] == pytest.approx(0.20 * (6 + 0.9 * 5) / (6 + 1 + 5))
    assert shares["fairness"] == pytest.approx(0.20 * (0.5 + 0.3 + 0.2 / (1 + 6 / 10)))
    assert shares["experience"] == pytest.approx(0.10)
    assert found[0].explanation.km == 0


def test_explain_is_none_outside_the_trade(market: Market, runtime) -> None:
    config = matching_config.load(runtime.settings)
    job = market.job()
    porter = market.worker(trades=("porter",))
    assert (
        candidates.explain(
            market.session, job, porter, radius_km=4.0, policy="fair", config=config, seed=1, now=NOW
        )
        is None
    )


def test_unreachable_workers_near_the_top_do_not_shorten_the_wave(market: Market, runtime) -> None:
    """More opted-out-by-contact workers than the first look takes: the selection looks further."""
    config = matching_config.load(runtime.settings)
    job = market.job()
    for _ in range(30):
        worker = market.worker(site="LZ-TX", rating=(50, 10))  # the best, but their numbers said STOP
        market.session.add(Contact(phone=worker.phone, opted_out_at=NOW))
    wanted = {market.worker(site="LZ-TX").id for _ in range(3)}
    market.session.flush()
    found = candidates.rank(
        market.session, job, radius_km=4.0, limit=3, policy="fair", config=config, seed=1, now=NOW
    )
    assert {c.worker_id for c in found} == wanted


def test_near_sites_widen_with_the_radius(market: Market) -> None:
    session = market.session
    site = market.site("LZ-TX")
    widths = [len(near_sites(session, site, radius)) for radius in (0.1, 1.5, 4.0, 8.0, 20.0)]
    assert widths[0] == 1  # the job's own site
    assert widths == sorted(widths) and widths[-1] == len(list(session.scalars(select(Site.id))))
    km = near_sites(session, site, None)
    assert km[site.id] == 0
    assert km[market.site("LZ-TX-FHX").id] == pytest.approx(km_between(market.site("LZ-TX-FHX"), site))
