"""The phone simulator's carrier mode (SIM_CARRIER on a first run): a mainland mobile's texts go in as
the carrier pushes replies (上行) and the texts it took come back as delivered, through the carrier's
own endpoints (dispatch/sim/carrier.py plays the carrier; views.py calls these)."""

from __future__ import annotations

import logging
import secrets

from flask import current_app

from dispatch.clock import utcnow
from dispatch.sim import carrier, pages
from dispatch.sms.gateway import mask_phone

log = logging.getLogger(__name__)
MAX_SEQUENCE = 10**15  # the carrier's sequence ids are long integers


def carried(phone: str) -> bool:
    """Does this phone's text go through the carrier (carrier mode, a mainland mobile)?"""
    return pages.runtime().settings.sim_carrier and carrier.mainland(phone) is not None


def reply(phone: str, body: str) -> bool:
    """The phone's text as the carrier pushes it; False when the app did not take it."""
    settings = pages.runtime().settings
    sign_name = settings.ALIYUN_SMS_SIGN_NAME or settings.SMS_SIGNATURE_ZH
    item = carrier.uplink_item(phone, body, sign_name, secrets.randbelow(MAX_SEQUENCE), utcnow())
    status = carrier.push(current_app, settings, carrier.UPLINK, [item])
    if status != 200:
        log.warning("simulated carrier reply from %s answered %s", mask_phone(phone), status)
    return status == 200


def report_delivered(phone: str) -> None:
    """Push the delivery reports of the texts the carrier took for this phone (it shows them now)."""
    runtime = pages.runtime()
    now = utcnow()
    with runtime.db.transaction() as db:
        items = [carrier.report_item(message, now) for message in carrier.reports_due(db, phone)]
    carrier.push(current_app, runtime.settings, carrier.REPORT, items)
