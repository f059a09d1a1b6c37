"""Printing simulated days: a text table (one column per policy), or JSON."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from typing import Any

from dispatch.simulation import carrier_day, channels_report
from dispatch.simulation.day import NEXT_MORNING_ENDS, DayResult
from dispatch.simulation.days import RunResult

# (report key, label, format); None as a key starts a section.
ROWS: tuple[tuple[str | None, str, str], ...] = (
    ("jobs_posted", "jobs posted", "{}"),
    ("places_posted", "places posted", "{}"),
    ("places_filled", "places filled", "{}"),
    ("fill_rate", "fill rate", "{:.1%}"),
    ("jobs_filled", "jobs filled (every place)", "{}"),
    ("time_to_fill_median_min", "time to fill, median (min)", "{:.1f}"),
    ("time_to_fill_p90_min", "time to fill, p90 (min)", "{:.1f}"),
    ("sms_sent", "SMS sent", "{}"),
    ("sms_per_filled_place", "SMS per filled place", "{:.2f}"),
    ("offers", "offers", "{}"),
    ("offers_accepted", "  accepted", "{}"),
    ("offers_declined", "  declined", "{}"),
    ("offers_expired", "  expired (no answer in time)", "{}"),
    ("eligible_workers", "eligible workers", "{}"),
    ("gini_offers", "Gini of offers", "{:.3f}"),
    ("gini_placements", "Gini of placements", "{:.3f}"),
    ("unfilled_job_tickets", "unfilled-job tickets for agents", "{}"),
    ("quiet_hours_held", "texts held for quiet hours", "{}"),
    ("late_jobs_posted", "jobs posted evening or night", "{}"),
    ("urgent_texts_in_quiet_hours", "urgent texts in quiet hours", "{}"),
    ("reminders_sent", "reminders sent by midnight", "{}"),
    (None, "what the people did", ""),
    ("people_calls", "  jobs phoned in (IVR)", "{}"),
    ("people_calls_not_posted", "    calls that posted nothing", "{}"),
    ("people_sms_requests", "  jobs texted in (SMS)", "{}"),
    ("people_sms_requests_not_posted", "    requests not posted", "{}"),
    ("people_yes_replies", "  yes replies", "{}"),
    ("people_no_replies", "  no replies", "{}"),
    ("people_offers_ignored", "  offers never answered", "{}"),
    ("people_cancellations", "  places given back (取消)", "{}"),
    ("people_opt_outs", "  opt-outs (退订)", "{}"),
    (None, "the next morning: follow-ups (回访)", ""),
    ("follow_ups_due", "  placements due a follow-up", "{}"),
    ("follow_ups_asked", "  placements asked", "{}"),
    ("follow_up_first_asked", "  first asked at (market time)", "{}"),
    ("follow_up_texts_sent", "  follow-up texts sent", "{}"),
    ("worker_follow_ups_answered", "  answered by the worker", "{:.1%}"),
    ("employer_follow_ups_answered", "  answered by the employer", "{:.1%}"),
    ("wage_cases_opened", "  wage cases opened (2/3)", "{}"),
    ("stars_for_employers", "  stars for employers, mean", "{:.2f}"),
    ("stars_for_workers", "  stars for workers who came", "{:.2f}"),
    ("no_shows_reported", "  did not come (0)", "{}"),
    ("people_followup_answers", "  workers' answers sent", "{}"),
    ("people_followup_steps", "    of them step by step", "{}"),
    ("people_followup_unpaid", "    not paid in full (2/3)", "{}"),
    ("people_followup_silent_workers", "  workers who never answer", "{}"),
    ("people_followup_ratings", "  employers' ratings sent", "{}"),
    ("people_followup_silent_employers", "  ratings never sent", "{}"),
    ("people_followup_not_understood", "  answers not understood", "{}"),
    (None, "invariants (must be 0)", ""),
    ("invariants.overbooked", "  overbooked places", "{}"),
    ("invariants.sent_after_opt_out", "  texts to opted-out workers", "{}"),
    ("invariants.quiet_hours_sends", "  non-reply texts in quiet hours", "{}"),
    ("invariants.offers_after_start", "  offers sent after their start", "{}"),
    ("invariants.lost_inbound", "  lost inbound messages", "{}"),
    ("invariants.webhook_errors", "  webhooks not answered 200", "{}"),
    ("invariants.failed_jobs", "  queued jobs that failed", "{}"),
    ("invariants.follow_ups_missing", "  placements not followed up", "{}"),
    ("invariants.follow_ups_unwarranted", "  follow-ups owed nothing/early", "{}"),
    ("invariants.follow_up_answers_lost", "  follow-up answers not recorded", "{}"),
)


def _with_channels(rows: tuple[tuple[str | None, str, str], ...]) -> tuple[tuple[str | None, str, str], ...]:
    """The by-channel section (channels_report.py) just before the invariants."""
    at = next(i for i, (key, label, _) in enumerate(rows) if key is None and label.startswith("invariants"))
    return rows[:at] + channels_report.ROWS + rows[at:]


ROWS = _with_channels(ROWS)

# Printed only for a day with --announcement (announcement.py).
ANNOUNCEMENT_ROWS: tuple[tuple[str | None, str, str], ...] = (
    (None, "announcement (a training, 报名 <n>)", ""),
    ("announcement.capacity", "  places", "{}"),
    ("announcement.recipients", "  recipients", "{}"),
    ("announcement.texts_sent", "  texts sent", "{}"),
    ("announcement.texts_held_for_quiet_hours", "    held for quiet hours", "{}"),
    ("announcement.second_send_capped", "  2nd send held by the weekly cap", "{}"),
    ("announcement.second_send_sent", "  2nd send texts sent", "{}"),
    ("announcement.sign_ups", "  sign-ups", "{}"),
    ("announcement.booked", "    with a place", "{}"),
    ("announcement.waiting", "    on the waiting list", "{}"),
    ("announcement.put_on_waiting_list", "  put on the waiting list", "{}"),
    ("announcement.cancelled", "  cancelled (取消报名)", "{}"),
    ("announcement.moved_up", "  moved up from the waiting list", "{}"),
    ("announcement.opted_out_of_announcements", "  opted out of events (退订活动)", "{}"),
    ("announcement.offered_jobs_after_opting_out", "    offered jobs after", "{}"),
    ("invariants.announcement_over_capacity", "  invariant: over capacity", "{}"),
    ("invariants.announcement_texted_twice", "  invariant: texted twice", "{}"),
    ("invariants.announcement_in_quiet_hours", "  invariant: sent in quiet hours", "{}"),
    ("invariants.announcement_after_opt_out", "  invariant: sent after 退订活动", "{}"),
    ("invariants.events_opt_out_stopped_offers", "  invariant: 退订活动 stopped offers", "{}"),
)


def _value(report: dict[str, Any], key: str) -> Any:
    for part in key.split("."):
        report = report.get(part) if isinstance(report, dict) else None  # type: ignore[assignment]
    return report


def _pad(text: str, width: int) -> str:
    """Left-aligned in `width` columns of a terminal, where a Chinese character takes two."""
    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - shown)


def table(results: Sequence[DayResult]) -> str:
    first = results[0].options
    carried = any(r.report.get("transport") == "carrier" for r in results)
    title = (
        f"Simulated market day {first.day.isoformat()}: {first.workers} workers, {first.employers} "
        f"employers, {first.jobs} jobs, seed {first.seed}, SMS {first.send_rate:g}/s"
        + (f", next morning to {NEXT_MORNING_ENDS:%H:%M}" if first.next_morning else "")
        + (f", behaviour {first.behaviour.name}" if first.behaviour.name != "default" else "")
        + (f", on the carrier (limit {first.carrier_limit or 'default'})" if carried else "")
    )
    width = 34
    lines = [title, "", " " * width + "".join(f"{r.options.policy:>10}" for r in results)]
    announced = ANNOUNCEMENT_ROWS if any("announcement" in r.report for r in results) else ()
    for key, label, shape in ROWS + (carrier_day.ROWS if carried else ()) + announced:
        if key is None:
            lines.append(label)
            continue
        cells = []
        for result in results:
            value = _value(result.report, key)
            cells.append(f"{'-' if value is None else shape.format(value):>10}")
        lines.append(_pad(label, width) + "".join(cells))
    lines.append(
        f"{'simulated in (s, real time)':<{width}}" + "".join(f"{r.seconds:>10.1f}" for r in results)
    )
    return "\n".join(lines)


def as_json(results: Sequence[DayResult]) -> str:
    days = {r.options.policy: {**r.report, "run_seconds": round(r.seconds, 1)} for r in results}
    return json.dumps(days if len(results) > 1 else next(iter(days.values())), ensure_ascii=False, indent=2)


def violations(results: Sequence[DayResult]) -> int:
    return sum(sum(r.report["invariants"].values()) for r in results)


# -- runs of days (days.py) ------------------------------------------------------------------------

DAY_ROWS: tuple[tuple[str | None, str, str], ...] = (
    ("jobs_posted", "jobs posted", "{}"),
    ("places_posted", "places posted", "{}"),
    ("places_filled", "places filled", "{}"),
    ("fill_rate", "fill rate", "{:.1%}"),
    ("offers", "offers", "{}"),
    ("offers_per_filled_place", "offers per filled place", "{:.2f}"),
    ("sms_sent", "SMS sent", "{}"),
    ("sms_per_filled_place", "SMS per filled place", "{:.2f}"),
    ("time_to_fill_same_day_median_min", "time to fill, same-day jobs (min)", "{:.1f}"),
    ("time_to_fill_later_median_min", "time to fill, later jobs (min)", "{:.1f}"),
    ("eligible_workers", "eligible workers", "{}"),
    ("gini_offers", "Gini of offers", "{:.3f}"),
    ("gini_placements", "Gini of placements", "{:.3f}"),
)
# Over the run, besides DAY_ROWS: the workers left out, and a one-day report's people, follow-ups
# and invariants.
RUN_ROWS = (
    *DAY_ROWS,
    ("eligible_left_out", "eligible, no offer while peers had", "{}"),
    ("left_out_window_days", "  over any stretch of (days)", "{}"),
    *ROWS[next(i for i, row in enumerate(ROWS) if row[0] is None) :],
)


def _cells(
    reports: Sequence[dict[str, Any]], rows: Sequence[tuple[str | None, str, str]], width: int
) -> list[str]:
    lines = []
    for key, label, shape in rows:
        if key is None:
            lines.append(label)
            continue
        values = [_value(report, key) for report in reports]
        if key.startswith("follow") and all(value is None for value in values):
            continue  # no next morning
        cells = "".join(f"{'-' if value is None else shape.format(value):>10}" for value in values)
        lines.append(_pad(label, width) + cells)
    return lines


def runs_table(runs: Sequence[RunResult]) -> str:
    """The run's figures, policies side by side, then each policy's days side by side."""
    first = runs[0].options
    width = 36
    lines = [
        f"Simulated {first.days} market days from {first.day.isoformat()}: {first.workers} workers, "
        f"{first.employers} employers, {first.jobs} jobs a day (+{first.late_job_count} late), seed "
        f"{first.seed}, behaviour {first.behaviour.name}"
        + (f", to {NEXT_MORNING_ENDS:%H:%M} after the last day" if first.next_morning else ""),
        "",
        "over the run" + " " * (width - 12) + "".join(f"{r.options.policy:>10}" for r in runs),
    ]
    lines += _cells([r.run for r in runs], RUN_ROWS, width)
    lines.append(_pad("simulated in (s, real time)", width) + "".join(f"{r.seconds:>10.1f}" for r in runs))
    lines.append(
        _pad("  a day, mean (s)", width)
        + "".join(f"{sum(r.day_seconds) / len(r.day_seconds):>10.1f}" for r in runs)
    )
    for run in runs:
        lines += ["", f"{run.options.policy}, day by day" + " " * (width - len(run.options.policy) - 12)]
        lines[-1] += "".join(f"{'day ' + str(day['day']):>10}" for day in run.days)
        lines += _cells(run.days, DAY_ROWS, width)
        lines.append(_pad("simulated in (s)", width) + "".join(f"{s:>10.1f}" for s in run.day_seconds))
    return "\n".join(lines)


def runs_json(runs: Sequence[RunResult]) -> str:
    shown = {
        r.options.policy: {
            "run": r.run,
            "days": r.days,
            "run_seconds": round(r.seconds, 1),
            "day_seconds": [round(s, 1) for s in r.day_seconds],
        }
        for r in runs
    }
    return json.dumps(shown if len(runs) > 1 else next(iter(shown.values())), ensure_ascii=False, indent=2)


def run_violations(runs: Sequence[RunResult]) -> int:
    return sum(sum(r.run["invariants"].values()) for r in runs)
