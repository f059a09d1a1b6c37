"""What Alibaba Cloud SMS pushes to us (MNS HTTP push): delivery reports (SmsReport) and replies (上行,
SmsUp), each a JSON array of objects. One transaction per item; used by the views and the spool's replay.

A reply becomes the form of a Twilio SMS webhook (From in E.164, Body, MessageSid "ALI" + the carrier's
sequence_id) and goes through the very same path (webhooks.receive_inbound: stored first, then the
router), so replies, registrations and opt-outs work unchanged and a reply pushed twice is stored once.
A report finds our message by its BizId, else by its OutId (our message id: the send's answer may not
be recorded yet, or a lookup adopted it under a stand-in id) and moves its status on, never back.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from dispatch.models import Direction, Message
from dispatch.runtime import Runtime
from dispatch.sms.services import MAX_ID, apply_status
from dispatch.spool.store import SpooledRequest

log = logging.getLogger(__name__)
REPORT = "sms.aliyun_report"  # the kind of spooled request a report leaves (a reply leaves sms.inbound)
UPLINK_SID_PREFIX = "ALI"
# A message a lookup found has no BizId (QuerySendDetails does not give it): it is kept under this
# stand-in until its report brings the BizId. Here, not in aliyun.py: this module must import without the SDK.
LOOKUP_SID_PREFIX = "ALIOUT-"
_MAINLAND_MOBILE = re.compile(r"(?:\+?86|0086)?(1[0-9]{10})")
_ID = re.compile(r"[0-9A-Za-z^_\-]{1,60}")


def _text(item: Mapping[str, Any], name: str) -> str:
    value = item.get(name)
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value).replace("\x00", "\ufffd")


def uplink_form(item: Any, sign_name: str) -> dict[str, str] | None:
    """A pushed reply as the form of a Twilio inbound SMS; None when it is not one we can take."""
    if not isinstance(item, dict):
        return None
    sequence_id = _text(item, "sequence_id").strip()
    number = _MAINLAND_MOBILE.fullmatch(_text(item, "phone_number").strip())
    if not _ID.fullmatch(sequence_id) or number is None:
        return None
    return {
        "MessageSid": UPLINK_SID_PREFIX + sequence_id,
        "From": "+86" + number.group(1),
        "To": f"aliyun:{_text(item, 'dest_code') or sign_name}"[:40],
        "Body": _text(item, "content"),
        "NumSegments": "1",
        # Kept with the message (Message.raw) for agents and audits.
        "AliyunSequenceId": sequence_id,
        "AliyunSendTime": _text(item, "send_time")[:32],
        "AliyunSignName": _text(item, "sign_name")[:64],
        "AliyunDestCode": _text(item, "dest_code")[:32],
    }


def report_form(item: Any) -> dict[str, str] | None:
    """A pushed delivery report's fields as strings; None when it names no message."""
    if not isinstance(item, dict):
        return None
    biz_id, out_id = _text(item, "biz_id").strip(), _text(item, "out_id").strip()
    if not (_ID.fullmatch(biz_id) or out_id):
        return None
    success = item.get("success")
    delivered = success is True or (isinstance(success, str) and success.lower() == "true")
    return {
        "biz_id": biz_id if _ID.fullmatch(biz_id) else "",
        "out_id": out_id[:20],
        "success": "true" if delivered else "false",
        "err_code": _text(item, "err_code")[:64],
        "err_msg": _text(item, "err_msg")[:200],
        "report_time": _text(item, "report_time")[:32],
    }


def receive_report(runtime: Runtime, form: Mapping[str, str]) -> None:
    """Apply one delivery report; a report pushed twice (or out of order) changes nothing more."""
    biz_id, out_id = form.get("biz_id", ""), form.get("out_id", "")
    delivered = form.get("success") == "true"
    with runtime.db.transaction() as session:
        message = None
        if biz_id:
            message = session.scalar(
                select(Message)
                .where(Message.provider_sid == biz_id, Message.direction == Direction.OUTBOUND)
                .with_for_update()
            )
        if message is None and out_id.isascii() and out_id.isdigit() and 0 < int(out_id) <= MAX_ID:
            candidate = session.get(Message, int(out_id), with_for_update=True)
            if (
                candidate is not None
                and candidate.direction == Direction.OUTBOUND
                and (candidate.provider_sid is None or candidate.provider_sid.startswith(LOOKUP_SID_PREFIX))
            ):
                message = candidate
                if biz_id:
                    message.provider_sid = biz_id  # the real id, for this report's repeats and the next
        if message is None:
            log.info("aliyun report for unknown message %s ignored", biz_id or out_id)
            return
        if not delivered:
            message.error_message = f"{form.get('err_code', '')}: {form.get('err_msg', '')}"[:500]
        apply_status(session, message, "delivered" if delivered else "undelivered", None)


def _replay_report(runtime: Runtime, request: SpooledRequest) -> None:
    receive_report(runtime, request.form)


REPLAYERS = {REPORT: _replay_report}
