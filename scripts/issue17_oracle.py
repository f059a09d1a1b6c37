"""Issue 17: how low can offers per filled place go? An oracle bound from the simulator.

Runs `dispatch simulate --days N` for each policy asked for, reads the run's jobs and offers before its
database is dropped (a wrapper around days.measure_run, as the report reads them), and works out from
the population's TRUE behaviour (the simulation's WorkerSpec objects, which no policy sees) each
offer's true chance of a yes in time:

    (1 - opt_out_rate) x answer_rate x P(delay <= the offer's expiry) x acceptance(pay, floor, km, taste)

with the delay lognormal around the worker's median (people.WorkerAgent._delay, capped at 240 min).

Then an oracle that knows those chances fills the same jobs (in posting order, a Monte Carlo of
--draws runs): each job's eligible workers (run_report.Eligibility: the trade, a floor the pay meets, a
home within the widest radius; minus anyone the oracle already placed on an overlapping day) ordered
by true chance, offered best first, one at a time or in waves, no time limit, until the places fill or
nobody is left. Reported: expected offers per filled place, fill, Gini of offers over the eligible
workers, and the same with a fairness cap (no worker offered more than the fair policy's busiest was).

    PYTHONPATH=. python scripts/issue17_oracle.py [--behaviour FILE] [--workers N --employers N
        --jobs N --days N --seed S] [--policies fair,adaptive] [--draws R] [--dump FILE | --load FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import random
import statistics
import sys
from collections import Counter, defaultdict
from datetime import date
from typing import Any

POLICIES = ("fair", "greedy", "lottery", "adaptive")
MAX_DELAY_MINUTES = 240.0
ANSWERED = ("accepted", "declined", "expired")
FLOORS = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6)


def in_time(median: float, spread: float, minutes: float) -> float:
    """P(a lognormal delay around `median` with sigma `spread`, capped at 240 min, is <= minutes)."""
    if minutes >= MAX_DELAY_MINUTES:
        return 1.0
    z = math.log(minutes / median) / spread
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def capture(policy: str, argv: list[str]) -> dict[str, Any]:
    """One `dispatch simulate` run of the policy; its rows and each pair's true chances."""
    from sqlalchemy import select

    import dispatch.simulation.days as days
    from dispatch.cli import main
    from dispatch.i18n import zone
    from dispatch.matching import config as matching_config
    from dispatch.models import Job, Offer, Worker
    from dispatch.simulation.market import km_between
    from dispatch.simulation.people import acceptance
    from dispatch.simulation.run_report import Eligibility

    captured: dict[str, Any] = {}
    measure = days.measure_run

    def wrapped(timeline: Any, windows: Any, radius: float) -> Any:
        market, settings = timeline.market, timeline.runtime.settings
        cfg = matching_config.load(settings)
        local = zone(market.timezone)
        with timeline.runtime.db.transaction() as session:
            jobs = list(session.scalars(select(Job).order_by(Job.created_at, Job.id)))
            ids = {w.phone: w.id for w in session.scalars(select(Worker))}
            eligible = Eligibility(market, ids, jobs, radius)
            specs = eligible.specs
            rows = []
            for job in jobs:
                same_day = job.work_date == job.created_at.astimezone(local).date()
                window = cfg.expiry_same_day_minutes if same_day else cfg.expiry_later_minutes
                chances = {}
                for worker_id, spec in specs.items():
                    km = km_between(market.sites[spec.site_id], market.sites[job.site_id])
                    accept = acceptance(job.daily_pay, spec.min_pay, km, spec.taste)
                    # What the service can know of the yes: pay, floor and distance on the
                    # population's usual curve (the worker's own taste is hidden).
                    known = acceptance(job.daily_pay, spec.min_pay, km)
                    answers = (1 - spec.opt_out_rate) * spec.answer_rate
                    timely = in_time(spec.median_delay_minutes, spec.taste.delay_spread, window)
                    # (a yes in time, a yes at all, and the parts of the first)
                    chances[worker_id] = (
                        answers * timely * accept,
                        answers * accept,
                        answers,
                        timely,
                        accept,
                        known,
                    )
                candidates = [w for w, jobs_of in eligible.jobs.items() if job.id in jobs_of]
                offers = []
                for offer in session.scalars(select(Offer).where(Offer.job_id == job.id).order_by(Offer.id)):
                    minutes = window
                    if offer.sent_at is not None and offer.expires_at is not None:
                        minutes = (offer.expires_at - offer.sent_at).total_seconds() / 60
                    spec = specs.get(offer.worker_id)
                    true = None
                    if spec is not None:
                        km = km_between(market.sites[spec.site_id], market.sites[job.site_id])
                        true = (
                            (1 - spec.opt_out_rate)
                            * spec.answer_rate
                            * in_time(spec.median_delay_minutes, spec.taste.delay_spread, max(minutes, 0.01))
                            * acceptance(job.daily_pay, spec.min_pay, km, spec.taste)
                        )
                    offers.append(
                        {
                            "worker": offer.worker_id,
                            "status": str(
                                offer.status.value if hasattr(offer.status, "value") else offer.status
                            ),
                            "sent": offer.sent_at is not None,
                            "true": true,
                            "learned": ((offer.explanation or {}).get("estimate") or {}).get("p"),
                        }
                    )
                rows.append(
                    {
                        "id": job.id,
                        "headcount": job.headcount,
                        "filled": job.filled,
                        "work_date": job.work_date.isoformat(),
                        "end_date": job.end_date.isoformat(),
                        "same_day": same_day,
                        "candidates": {str(w): chances[w] for w in candidates},
                        "offers": offers,
                    }
                )
        captured.update(policy=policy, jobs=rows, wave=[cfg.overfill, cfg.acceptance, cfg.max_size])
        return measure(timeline, windows, radius)

    days.measure_run = wrapped
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            main(["simulate", "--policy", policy, "--json", *argv])
    finally:
        days.measure_run = measure
    try:
        report = json.loads(out.getvalue())
        captured["report"] = report
    except ValueError:
        captured["report"] = None
    return captured


# -- the oracle --------------------------------------------------------------------------------


def gini(values: list[float]) -> float:
    ordered = sorted(values)
    total = sum(ordered)
    if not ordered or total <= 0:
        return 0.0
    n = len(ordered)
    return 2 * sum(rank * v for rank, v in enumerate(ordered, 1)) / (n * total) - (n + 1) / n


def oracle(
    run: dict[str, Any],
    *,
    sizing: str,
    chance: int,
    cap: int | None,
    draws: int,
    seed: int,
    floor: float = 0.0,
    bookings: bool = True,
    order: str = "true",
) -> dict[str, float]:
    """Expected figures of the oracle over `draws` Monte Carlo runs. sizing: "one" (one offer at a
    time), "policy" (waves of ceil(left x overfill / acceptance), capped, best first) or "true"
    (the fewest best whose true chances add up to the places left). chance: 0 a yes in time, 1 a yes
    at all. cap: most offers one worker may get over the run (None: no cap). floor: nobody whose
    chance is below it is offered (fewer offers, less fill: the frontier). bookings False: a worker
    placed on one job may still take any other (no competition between jobs for the best: best
    first is then the fewest offers each job can get its yeses with, a bound for any assignment).
    order: "true" (by the true chance), "known" (by the yes part the service can work out: pay,
    floor, distance on the population's usual curve) or "known+answers" (that times the worker's
    true answer rate and pace, which the record shows)."""
    overfill, accept_share, max_size = run["wave"]
    jobs = run["jobs"]
    eligible = sorted({w for job in jobs for w in job["candidates"]})
    rng = random.Random(seed)
    totals = Counter[str]()
    ginis = []
    for _ in range(draws):
        booked: dict[str, list[tuple[date, date]]] = defaultdict(list)
        offered = Counter[str]()
        sent = filled = places = 0
        for job in jobs:
            start, end = date.fromisoformat(job["work_date"]), date.fromisoformat(job["end_date"])
            places += job["headcount"]
            pool = [
                (_key(p, order, chance), p[chance], w)
                for w, p in job["candidates"].items()
                if _key(p, order, chance) >= floor
                and not any(s <= end and start <= e for s, e in booked[w])
                and (cap is None or offered[w] < cap)
            ]
            pool.sort(reverse=True)
            left, at = job["headcount"], 0
            while left > 0 and at < len(pool):
                if sizing == "one":
                    size = 1
                elif sizing == "policy":
                    size = min(max_size, math.ceil(left * overfill / accept_share - 1e-9))
                else:
                    size, expected = 0, 0.0
                    while at + size < len(pool) and expected < left:
                        expected += pool[at + size][1]
                        size += 1
                wave = pool[at : at + size]
                at += len(wave)
                for _, p, w in wave:
                    sent += 1
                    offered[w] += 1
                    if left > 0 and rng.random() < p:
                        left -= 1
                        filled += 1
                        if bookings:
                            booked[w].append((start, end))
        totals.update(sent=sent, filled=filled, places=places)
        ginis.append(gini([offered.get(w, 0) for w in eligible]))
    return {
        "offers_per_filled_place": totals["sent"] / totals["filled"] if totals["filled"] else float("nan"),
        "fill_rate": totals["filled"] / totals["places"],
        "offers": totals["sent"] / draws,
        "filled": totals["filled"] / draws,
        "gini_offers": statistics.fmean(ginis),
    }


def _key(p: list[float], order: str, chance: int) -> float:
    if order == "true" or len(p) < 6:
        return p[chance]
    if order == "known":
        return p[5]
    return p[5] * p[2] * (p[3] if chance == 0 else 1.0)


def sent_chances(run: dict[str, Any]) -> dict[str, Any]:
    """The mean true chance of a yes in time of the offers the policy sent, by outcome."""
    by: dict[str, list[float]] = defaultdict(list)
    learned: dict[str, list[float]] = defaultdict(list)
    for job in run["jobs"]:
        for offer in job["offers"]:
            if offer["sent"] and offer["true"] is not None:
                by[offer["status"]].append(offer["true"])
                by["all"].append(offer["true"])
                if isinstance(offer["learned"], int | float):
                    learned[offer["status"]].append(offer["learned"])
                    learned["all"].append(offer["learned"])
    return {
        key: (len(values), statistics.fmean(values), statistics.fmean(learned[key]) if learned[key] else None)
        for key, values in sorted(by.items())
    }


def best_available(run: dict[str, Any]) -> float:
    """The mean, over jobs, of the true chance of the job's best eligible worker (nobody booked)."""
    best = [max(p[0] for p in job["candidates"].values()) for job in run["jobs"] if job["candidates"]]
    return statistics.fmean(best)


def parts(pairs: list[list[float]]) -> str:
    """Mean answering (and not opting out), answering within the expiry, saying yes, and their product."""
    if not pairs or len(pairs[0]) < 5:
        return "-"
    answer, timely, accept = (statistics.fmean(p[i] for p in pairs) for i in (2, 3, 4))
    whole = statistics.fmean(p[0] for p in pairs)
    return f"answers {answer:.3f} x in time {timely:.3f} x yes {accept:.3f}: chance {whole:.3f}"


def policy_report(run: dict[str, Any]) -> None:
    jobs = run["jobs"]
    places = sum(j["headcount"] for j in jobs)
    filled = sum(j["filled"] for j in jobs)
    offers = sum(1 for j in jobs for o in j["offers"] if o["sent"])
    per_worker = Counter(str(o["worker"]) for j in jobs for o in j["offers"] if o["sent"])
    eligible = sorted({w for job in jobs for w in job["candidates"]})
    print(f"\n== {run['policy']}: {len(jobs)} jobs, {places} places, {len(eligible)} eligible workers")
    print(
        f"policy: {filled} filled ({filled / places:.1%}), {offers} offers, "
        f"{offers / filled:.2f} offers per filled place, Gini of offers "
        f"{gini([per_worker.get(w, 0) for w in eligible]):.3f}, most offers to one worker "
        f"{max(per_worker.values(), default=0)}"
    )
    print("true chance of a yes in time of the offers sent, by outcome (n, true mean, learned mean):")
    for status, (n, mean, learned) in sent_chances(run).items():
        shown = "-" if learned is None else f"{learned:.3f}"
        print(f"  {status:<12} {n:>5}  {mean:.3f}  {shown}")
    sent = [
        job["candidates"][str(o["worker"])]
        for job in jobs
        for o in job["offers"]
        if o["sent"] and str(o["worker"]) in job["candidates"]
    ]
    print(f"  its parts, offers sent to eligible workers: {parts(sent)}")
    # A check of the chance model against the run: of the offers that were accepted, declined or
    # lapsed (not those withdrawn when the job filled, nor the yeses after it filled: a withdrawn
    # offer is kept only when it brought a yes), the places taken against what the chances expect.
    kept = [
        job["candidates"][str(o["worker"])]
        for job in jobs
        for o in job["offers"]
        if o["sent"] and o["status"] in ANSWERED and str(o["worker"]) in job["candidates"]
    ]
    taken = sum(1 for j in jobs for o in j["offers"] if o["sent"] and o["status"] == "accepted")
    print(
        f"  accepted {taken} of {len(kept)} accepted, declined or lapsed; their true chances expect "
        f"{sum(p[0] for p in kept):.1f} in time, {sum(p[1] for p in kept):.1f} at all"
    )


def oracle_report(run: dict[str, Any], draws: int, seed: int, cap: int) -> None:
    """The oracle: the same for every policy (the same jobs, the same eligible workers). cap: the most
    offers one worker may get (the fair policy's busiest worker's, when it ran)."""
    jobs = run["jobs"]
    pairs = [p for job in jobs for p in job["candidates"].values()]
    best = [max(job["candidates"].values()) for job in jobs if job["candidates"]]
    print(f"\n== the oracle ({len(jobs)} jobs, {sum(j['headcount'] for j in jobs)} places)")
    print(
        f"eligible per job: median {statistics.median(len(j['candidates']) for j in jobs)}, "
        f"none for {sum(1 for j in jobs if not j['candidates'])} jobs"
    )
    print(f"  every eligible pair: {parts(pairs)}")
    print(f"  each job's best:     {parts(best)}")
    for threshold in (0.3, 0.4, 0.5):
        good = statistics.fmean(sum(1 for p in j["candidates"].values() if p[0] >= threshold) for j in jobs)
        print(f"  eligible workers per job with a chance of at least {threshold}: {good:.1f} (mean)")
    print("best first by true chance, no time limit; expected over draws (cap: see above):")
    print(f"  {'offers':<22} {'chance':<8} {'cap':>4}  {'offers/place':>12} {'fill':>7} {'Gini':>6}")
    label = {"one": "one at a time", "true": "waves sized on truth", "policy": "policy-size waves"}
    for sizing in ("one", "true", "policy"):
        for chance in (0, 1):
            for limit in (None, cap):
                if chance == 1 and limit is not None:
                    continue
                got = oracle(run, sizing=sizing, chance=chance, cap=limit, draws=draws, seed=seed)
                print(
                    f"  {label[sizing]:<22} {('in time', 'at all')[chance]:<8} {limit or '-':>4}  "
                    f"{got['offers_per_filled_place']:>12.2f} {got['fill_rate']:>7.1%} "
                    f"{got['gini_offers']:>6.3f}"
                )
    for chance in (0, 1):
        free = oracle(run, sizing="one", chance=chance, cap=None, draws=draws, seed=seed, bookings=False)
        print(
            f"  {'one at a time, unbooked':<22} {('in time', 'at all')[chance]:<8} {'-':>4}  "
            f"{free['offers_per_filled_place']:>12.2f} {free['fill_rate']:>7.1%} {free['gini_offers']:>6.3f}"
            "  (a worker may take every job: no competition between jobs)"
        )
    for order in ("known", "known+answers"):
        got = oracle(run, sizing="one", chance=0, cap=None, draws=draws, seed=seed, order=order)
        print(
            f"  {'one at a time':<22} {'in time':<8} {'-':>4}  {got['offers_per_filled_place']:>12.2f} "
            f"{got['fill_rate']:>7.1%} {got['gini_offers']:>6.3f}  ordered by {order} "
            f"(known: pay, floor, km on the usual curve; answers: the worker's answer rate and pace)"
        )
    print("frontier: one at a time, nobody below a floor of true chance offered")
    print("  (in time; in time with no competition between jobs; a yes at all)")
    print(
        f"  {'floor':>5}  {'offers/place':>12} {'fill':>7} {'Gini':>6}   "
        f"{'unbooked':>8} {'fill':>7}   {'at all':>6} {'fill':>7}"
    )
    for floor in FLOORS:
        got = oracle(run, sizing="one", chance=0, cap=None, draws=draws, seed=seed, floor=floor)
        free = oracle(
            run, sizing="one", chance=0, cap=None, draws=draws, seed=seed, floor=floor, bookings=False
        )
        late = oracle(run, sizing="one", chance=1, cap=None, draws=draws, seed=seed, floor=floor)
        print(
            f"  {floor:>5.2f}  {got['offers_per_filled_place']:>12.2f} {got['fill_rate']:>7.1%} "
            f"{got['gini_offers']:>6.3f}   "
            f"{free['offers_per_filled_place']:>8.2f} {free['fill_rate']:>7.1%}   "
            f"{late['offers_per_filled_place']:>6.2f} {late['fill_rate']:>7.1%}"
        )


def report(runs: list[dict[str, Any]], draws: int, seed: int) -> None:
    for run in runs:
        policy_report(run)
    if runs:
        fair = next((run for run in runs if run["policy"] == "fair"), runs[0])
        offered = Counter(str(o["worker"]) for j in fair["jobs"] for o in j["offers"] if o["sent"])
        print(f"\ncap for the oracle: {fair['policy']}'s busiest worker's offers")
        oracle_report(runs[0], draws, seed, max(offered.values(), default=0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--behaviour", default=None, metavar="FILE")
    parser.add_argument("--workers", type=int, default=150)
    parser.add_argument("--employers", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=30)
    parser.add_argument("--days", type=int, default=2, help="at least 2 (default 2)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--policies", default="fair,adaptive", help="comma-separated (fair,greedy,lottery,adaptive)"
    )
    parser.add_argument("--draws", type=int, default=200, help="Monte Carlo runs of the oracle")
    parser.add_argument("--dump", default=None, metavar="FILE", help="write the captured rows (JSON)")
    parser.add_argument("--load", default=None, metavar="FILE", help="read captured rows: no simulation")
    args = parser.parse_args()
    if args.days < 2:
        parser.error("--days must be at least 2 (the run of days is what the script reads)")
    if args.load:
        with open(args.load) as f:
            runs = json.load(f)
    else:
        argv = ["--workers", str(args.workers), "--employers", str(args.employers), "--jobs", str(args.jobs)]
        argv += ["--days", str(args.days), "--seed", str(args.seed)]
        if args.behaviour:
            argv += ["--behaviour", args.behaviour]
        runs = []
        for policy in args.policies.split(","):
            if policy not in POLICIES:
                parser.error(f"unknown policy {policy}")
            print(f"simulating {policy} ...", file=sys.stderr)
            runs.append(capture(policy, argv))
        if args.dump:
            with open(args.dump, "w") as f:
                json.dump(runs, f)
    report(runs, args.draws, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
