"""Every text a person's page builds from a value exists (tests/console/test_texts.py holds Chinese and
English to the same keys, and checks the literal keys of every template)."""

from __future__ import annotations

import re
from pathlib import Path

from dispatch.console.i18n import catalogue
from dispatch.console.people import services
from dispatch.ivr.menu import FLOWS
from dispatch.models import (
    CallOutcome,
    EmployerStatus,
    JobStatus,
    MessageStatus,
    OfferStatus,
    RegisteredVia,
    WorkerStatus,
)
from dispatch.sms.texts import LANGUAGES

SERVICES = Path(services.__file__)
VIEWS = SERVICES.with_name("views.py")
# What services.sms_outcome answers.
SMS_OUTCOMES = ("queued", "held", "opted_out", "undeliverable")
# What Twilio reports as CallStatus.
CALL_STATUSES = (
    "queued",
    "initiated",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "no-answer",
    "failed",
    "canceled",
)


def test_every_built_key_exists() -> None:
    zh = catalogue("zh")
    refusals = re.findall(r'ActionRefused\("(\w+)"\)', SERVICES.read_text(encoding="utf-8"))
    actions = re.search(r"<any\(([\w, ]+)\):action>", VIEWS.read_text(encoding="utf-8"))
    assert refusals and actions  # the patterns still find them
    built = [
        *(f"people.worker_status.{status.value}" for status in WorkerStatus),
        *(f"people.employer_status.{status.value}" for status in EmployerStatus),
        *(f"people.job_status.{status.value}" for status in JobStatus),
        *(f"people.offer_status.{status.value}" for status in OfferStatus),
        *(f"people.message_status.{status.value}" for status in MessageStatus),
        *(f"people.registered_via.{via.value}" for via in RegisteredVia),
        *(f"people.call_outcome.{outcome.value}" for outcome in CallOutcome),
        *(f"people.call_flow.{flow}" for flow in ["menu", *(flow for flow, _ in FLOWS.values())]),
        *(f"people.call_status.{status}" for status in CALL_STATUSES),
        *(f"people.language_name.{language}" for language in LANGUAGES),
        *(f"people.sms.refused.{refusal.value}" for refusal in services.SmsRefusal),
        *(f"people.sms.outcome.{outcome}" for outcome in SMS_OUTCOMES),
        *(f"people.action.refused.{key}" for key in refusals),
        *(f"people.action.done.{action.strip()}" for action in actions.group(1).split(",")),
    ]
    assert [key for key in built if key not in zh] == []
