"""The simulator's carrier (SIM_CARRIER on a first run): Alibaba Cloud SMS played in-process, so the
carrier's whole loop can be tried by hand (the /sim phones) and a simulated day run on it.

Sending, it takes what AliyunTransport sends (our signature, a template code, its variables, OutId)
and does what the carrier does with it: refuses a number outside mainland China, a text with no
approved template, a variable the carrier's rules refuse (carrier_rules), each with the error the real
one answers; otherwise it fills the template in, puts 【签名】 first, and answers a BizId. What the
handset shows is that filled-in text (`delivered_text`), not our body: the two agree only as long as
the registry does (tests/sms/test_carrier_registry.py).

It keeps no state of its own: the Message rows hold what it took (provider_sid is its BizId), so the
delivery reports still to push are the rows it took that no report has moved on (`reports_due`),
whichever process sent them. Replies and reports reach the app as the carrier's MNS push does: a JSON
array posted to /sms/aliyun/<ALIYUN_PUSH_SECRET>/uplink|report, from this machine's address.
"""

from __future__ import annotations

import itertools
import json
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.i18n import zone
from dispatch.models import Direction, Message, MessageStatus
from dispatch.settings import Settings
from dispatch.sms.carrier_rules import RULES
from dispatch.sms.carrier_templates import load_registry
from dispatch.sms.gateway import SendError, SendResult, SentMessage, Templated, mask_phone

log = logging.getLogger(__name__)
BEIJING = zone("Asia/Shanghai")  # the carrier's times are Beijing's
BIZ_ID_SUFFIX = "^0"  # the carrier's BizIds end so (one part of a batch)
PUSH_FROM = "127.0.0.1"  # the address the simulated pushes come from (ALIYUN_PUSH_ALLOW_FROM allows it)
UPLINK, REPORT = "uplink", "report"
# The carrier's refusals, mapped as aliyun.ERROR_CODES maps them (that module needs the carrier's SDK,
# which a first run may not have): an invalid number, content the carrier refuses.
INVALID_NUMBER = 21211
CONTENT_REFUSED = 30007


def beijing_time(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def mainland(phone: str) -> str | None:
    """+8613912345678 -> 13912345678; None for a number the carrier cannot text."""
    if phone.startswith("+861") and len(phone) == 14 and phone[1:].isdigit():
        return phone[3:]
    return None


@dataclass(frozen=True)
class Delivered:
    """What the carrier took: its BizId and the text the handset shows."""

    biz_id: str
    phone: str
    text: str


class SimulatedCarrier:
    """An SmsTransport answering as Alibaba Cloud SMS would (see the module's docstring)."""

    name = "aliyun"  # the provider it stands for: frequency limits and routing treat it as the carrier

    def __init__(self, settings: Settings) -> None:
        self.sign_name = settings.ALIYUN_SMS_SIGN_NAME or settings.SMS_SIGNATURE_ZH
        self.config_dir = settings.CONFIG_DIR
        self._numbers = itertools.count(1)
        self._prefix = str(secrets.randbelow(900_000) + 100_000)  # BizIds unique across restarts

    @property
    def sender(self) -> str:
        return f"aliyun:{self.sign_name}"

    def send_sms(
        self,
        to: str,
        body: str,
        status_callback: str | None = None,
        templated: Templated | None = None,
    ) -> SendResult:
        delivered = self.take(to, templated)
        log.info("simulated carrier: SMS to %s taken as %s", mask_phone(to), delivered.biz_id)
        return SendResult(provider_sid=delivered.biz_id, status="sent")

    def take(self, to: str, templated: Templated | None) -> Delivered:
        """The carrier's checks, then the text it would deliver; SendError as aliyun.error_for makes it."""
        phone = mainland(to)
        if phone is None:
            raise SendError("isv.MOBILE_NUMBER_ILLEGAL: 非法手机号", code=INVALID_NUMBER, http_status=200)
        if templated is None or templated.params is None:
            raise SendError("isv.SMS_TEMPLATE_ILLEGAL: 模板不合法", code=CONTENT_REFUSED, http_status=200)
        entry = load_registry(self.config_dir).get(templated.template, templated.language)
        carrier = entry.by_text(templated.carrier_text or "") if entry is not None else None
        if entry is None or carrier is None:
            raise SendError("isv.SMS_TEMPLATE_ILLEGAL: 模板不合法", code=CONTENT_REFUSED, http_status=200)
        params = templated.params
        for name in carrier.variables:
            rule = RULES.get(entry.rule_of(name))
            value = params.get(name, "")
            if rule is None or rule.problem(value) is not None:
                raise SendError(
                    f"isv.TEMPLATE_PARAMS_ILLEGAL: ${{{name}}}", code=CONTENT_REFUSED, http_status=200
                )
        biz_id = f"{self._prefix}{next(self._numbers):012d}{BIZ_ID_SUFFIX}"
        return Delivered(biz_id, phone, f"【{self.sign_name}】{carrier.fill(params)}")

    def find_sent(
        self, to: str, body: str, since: datetime, templated: Templated | None = None
    ) -> list[SentMessage]:
        # Every send answers at once, in-process: no attempt is ever left without its answer.
        return []


# -- what the carrier pushes ---------------------------------------------------------------------------


def uplink_item(phone: str, text: str, sign_name: str, sequence_id: int, now: datetime) -> dict[str, Any]:
    """A reply from `phone` as the carrier's SmsUp message carries it (None outside mainland China)."""
    return {
        "phone_number": mainland(phone) or phone,
        "content": text,
        "send_time": beijing_time(now),
        "sign_name": sign_name,
        "dest_code": "",
        "sequence_id": sequence_id,
    }


def report_item(message: Message, now: datetime) -> dict[str, Any]:
    """The delivery report for a text the carrier took: delivered to the handset."""
    return {
        "phone_number": mainland(message.phone) or message.phone,
        "send_time": beijing_time(message.sent_at or now),
        "report_time": beijing_time(now),
        "success": True,
        "err_code": "DELIVERED",
        "err_msg": "用户接收成功",
        "sms_size": str(message.segments),
        "biz_id": message.provider_sid or "",
        "out_id": str(message.id),
    }


def reports_due(session: Session, phone: str | None = None, limit: int = 500) -> list[Message]:
    """Texts the carrier took (a BizId) that no report has moved on yet, oldest first."""
    query = (
        select(Message)
        .where(
            Message.direction == Direction.OUTBOUND,
            Message.provider == SimulatedCarrier.name,
            Message.status == MessageStatus.SENT,
            Message.provider_sid.like(f"%{BIZ_ID_SUFFIX}"),
        )
        .order_by(Message.id)
        .limit(limit)
    )
    if phone is not None:
        query = query.where(Message.phone == phone)
    return list(session.scalars(query))


def push_path(settings: Settings, which: str) -> str:
    return f"/sms/aliyun/{settings.ALIYUN_PUSH_SECRET}/{which}"


def push(app: Any, settings: Settings, which: str, items: Sequence[dict[str, Any]]) -> int:
    """Post one push to the app in-process, as the carrier's MNS does; the HTTP status it answered."""
    if not items:
        return 200
    response = app.test_client().post(
        push_path(settings, which),
        data=json.dumps(list(items), ensure_ascii=False),
        content_type="application/json",
        environ_base={"REMOTE_ADDR": PUSH_FROM},
    )
    if response.status_code != 200:
        log.warning("simulated carrier: %s push answered %s", which, response.status_code)
    return response.status_code
