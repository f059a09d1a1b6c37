"""Every text a person's page builds from a value exists (tests/console/test_texts.py holds Chinese and
English to the same keys, and checks the literal keys of every template)."""

from __future__ import annotations

import re
from pathlib import Path

from dispatch.console.people import services
from dispatch.i18n import CALL_FLOW, LANGUAGES, catalogue, label_key
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
        *(label_key(status) for status in WorkerStatus),
        *(label_key(status) for status in EmployerStatus),
        *(label_key(status) for status in JobStatus),
        *(label_key(status) for status in OfferStatus),
        *(label_key(status) for status in MessageStatus),
        *(label_key(via) for via in RegisteredVia),
        *(label_key(outcome) for outcome in CallOutcome),
        *(f"enum.{CALL_FLOW}.{flow}" for flow in ["menu", *(flow for flow, _ in FLOWS.values())]),
        *(f"people.call_status.{status}" for status in CALL_STATUSES),
        *(f"enum.language.{language}" for language in LANGUAGES),
        *(f"people.sms.refused.{refusal.value}" for refusal in services.SmsRefusal),
        *(f"people.sms.outcome.{outcome}" for outcome in SMS_OUTCOMES),
        *(f"people.action.refused.{key}" for key in refusals),
        *(f"people.action.done.{action.strip()}" for action in actions.group(1).split(",")),
    ]
    assert [key for key in built if key not in zh] == []
