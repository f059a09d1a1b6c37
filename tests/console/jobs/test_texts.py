"""Every text the job pages build from a value exists (in both languages: tests/console/test_texts.py
holds Chinese and English to the same keys)."""

from __future__ import annotations

import re
from pathlib import Path

from dispatch.console.jobs import queries
from dispatch.i18n import catalogue, label_key
from dispatch.matching.config import FACTORS, POLICIES
from dispatch.matching.rescue import Refusal
from dispatch.matching.services import Outcome
from dispatch.models import JobSource, JobStatus, OfferStatus

# What `matching.services.accept` answers other than PLACED (the job page tells the agent which).
ACCEPT_MISSES = (
    Outcome.ALREADY,
    Outcome.FULL,
    Outcome.OVERLAP,
    Outcome.CLOSED,
    Outcome.REFUSED,
    Outcome.UNINSURED,
)
SERVICES = Path(queries.__file__).with_name("services.py")


def test_every_built_key_exists() -> None:
    zh = catalogue("zh")
    refusals_in_services = re.findall(r'JobActionRefused\(\s*"(\w+)"', SERVICES.read_text(encoding="utf-8"))
    assert refusals_in_services  # the pattern still finds them
    built = [
        *(label_key(status) for status in JobStatus),
        *(label_key(status) for status in OfferStatus),
        *(label_key(source) for source in JobSource),
        *(f"jobs.factor.{name}" for name in FACTORS),
        *(f"jobs.policy.{name}" for name in POLICIES),
        *(f"jobs.refused.{refusal.value}" for refusal in Refusal),
        *(f"jobs.refused.outcome_{outcome.value}" for outcome in ACCEPT_MISSES),
        *(f"jobs.refused.{key}" for key in refusals_in_services),
        *("jobs.explain.by_agent", "jobs.explain.by_phone"),
    ]
    assert [key for key in built if key not in zh] == []


def test_the_list_has_a_tab_for_every_status() -> None:
    assert {status.value for status in JobStatus} <= set(queries.FILTERS)
