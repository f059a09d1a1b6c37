"""Alibaba Cloud SMS (阿里云短信), the domestic carrier gateway, through its official SDK.

It sends approved templates only: SendSms takes our signature (SignName), the carrier template's code
(TemplateCode) and its variables as JSON (TemplateParam), never our text; the template and variables come
from the message row (rendered when it was queued: see carrier_templates.py). OutId is our message id,
and a lookup (QuerySendDetails, by number and Beijing date) finds an attempt by it: the SDK's own retries
stay off, and an unanswered attempt is looked up before it is sent again, as with Twilio.

The carrier's error codes are strings (isv.MOBILE_NUMBER_ILLEGAL); a message keeps an integer
error_code, so each is mapped to the Twilio code of the same outcome (21211 invalid number: the number
is marked undeliverable; 20429 too many requests: retried later), or to 30007 (the carrier filtered the
content: a template or variable it refuses, failed for good) and 20003 (our account or set-up: failed
for good, logged as an error for an operator). The carrier's own code stays in error_message.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests
from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import models as openapi_models
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from darabonba.runtime import RuntimeOptions
from Tea.exceptions import UnretryableException

from dispatch.i18n import zone
from dispatch.settings import Settings
from dispatch.sms.aliyun_push import LOOKUP_SID_PREFIX
from dispatch.sms.carrier_templates import load_registry
from dispatch.sms.gateway import (
    ProviderLookupError,
    SendError,
    SendResult,
    SentMessage,
    Templated,
    never_connected,
)

log = logging.getLogger(__name__)
# The carrier's day (SendDate, daily limits) is Beijing's, whatever the market's time zone.
BEIJING = zone("Asia/Shanghai")  # the carrier keeps its dates in Beijing time, whatever the market's
LOOKUP_PAGE_SIZE = 50  # QuerySendDetails' largest page

# Our integer codes for the carrier's outcomes (see the module's docstring).
INVALID_NUMBER = 21211
FREQUENCY_LIMIT = 20429
CONTENT_REFUSED = 30007
ACCOUNT_PROBLEM = 20003
NOT_DOMESTIC = 21408  # Twilio's "permission to send to this region not enabled": not the number's fault

# SendSms's documented error codes (help.aliyun.com/document_detail/101346), by outcome.
ERROR_CODES: dict[str, int] = {
    "isv.MOBILE_NUMBER_ILLEGAL": INVALID_NUMBER,  # 非法手机号
    "isv.BUSINESS_LIMIT_CONTROL": FREQUENCY_LIMIT,  # 业务限流: the number's minute/hour/day limit
    "isv.DAY_LIMIT_CONTROL": FREQUENCY_LIMIT,  # our daily total set in the console
    "isv.MONTH_LIMIT_CONTROL": FREQUENCY_LIMIT,
    "isv.TEMPLATE_MISSING_PARAMETERS": CONTENT_REFUSED,  # 模板缺少变量
    "isv.SMS_TEMPLATE_ILLEGAL": CONTENT_REFUSED,  # 模板不合法 (not approved, not ours)
    "isv.TEMPLATE_PARAMS_ILLEGAL": CONTENT_REFUSED,  # 变量里包含非法关键字
    "isv.PARAM_LENGTH_LIMIT": CONTENT_REFUSED,  # 参数超出长度限制
    "isv.PARAM_NOT_SUPPORT_URL": CONTENT_REFUSED,
    "isv.INVALID_JSON_PARAM": CONTENT_REFUSED,
    "isv.SMS_CONTENT_ILLEGAL": CONTENT_REFUSED,
    "isv.BLACK_KEY_CONTROL_LIMIT": CONTENT_REFUSED,  # 黑名单管控: a variable holds refused content
    "isv.SMS_SIGNATURE_SCENE_ILLEGAL": ACCOUNT_PROBLEM,
    "isv.SMS_SIGNATURE_ILLEGAL": ACCOUNT_PROBLEM,
    "isv.SMS_SIGN_ILLEGAL": ACCOUNT_PROBLEM,
    "isv.SIGN_STATE_ILLEGAL": ACCOUNT_PROBLEM,
    "isv.DENY_IP_RANGE": ACCOUNT_PROBLEM,  # we send from outside mainland China
    "isv.OUT_OF_SERVICE": ACCOUNT_PROBLEM,  # 业务停机 (balance)
    "isv.AMOUNT_NOT_ENOUGH": ACCOUNT_PROBLEM,
    "isv.ACCOUNT_NOT_EXISTS": ACCOUNT_PROBLEM,
    "isv.ACCOUNT_ABNORMAL": ACCOUNT_PROBLEM,
    "isv.PRODUCT_UN_SUBSCRIPT": ACCOUNT_PROBLEM,
    "isv.PRODUCT_UNSUBSCRIBE": ACCOUNT_PROBLEM,
    "isp.RAM_PERMISSION_DENY": ACCOUNT_PROBLEM,
    "InvalidAccessKeyId.NotFound": ACCOUNT_PROBLEM,
    "SignatureDoesNotMatch": ACCOUNT_PROBLEM,
    "IncompleteSignature": ACCOUNT_PROBLEM,
}
# The message of a frequency refusal says which limit (触发分钟级/小时级/天级流控): wait that long.
LIMIT_WAITS = (
    ("分钟", 60.0),
    ("小时", 3600.0),
    ("天", 6 * 3600.0),
    ("DAY_LIMIT", 3600.0),
    ("MONTH", 6 * 3600.0),
)
DEFAULT_LIMIT_WAIT = 60.0


@dataclass(frozen=True)
class Endpoint:
    protocol: str
    host: str  # host[:port]


def parse_endpoint(value: str) -> Endpoint:
    """`dysmsapi.aliyuncs.com` (https) or `http://127.0.0.1:8080` (a test or staging server)."""
    match = re.fullmatch(r"(?:(https?)://)?([^/]+)/?", value.strip())
    if match is None:
        raise ValueError(f"not an endpoint: {value!r}")
    return Endpoint(match.group(1) or "https", match.group(2))


def domestic_number(phone: str) -> str | None:
    """+8613912345678 -> 13912345678; None for a number outside mainland China."""
    if phone.startswith("+86") and len(phone) == 14 and phone[3:].isdigit():
        return phone[3:]
    return None


def error_for(code: str, message: str, http_status: int) -> SendError:
    """The SendError of a refusal the carrier answered with `code`."""
    ours = ERROR_CODES.get(code)
    text = f"{code}: {message}"[:400]
    if ours is None:
        # isp.SYSTEM_ERROR and anything not documented: the carrier's trouble, try again later.
        return SendError(text, code=None, http_status=http_status if http_status >= 500 else 503)
    error = SendError(text, code=ours, http_status=http_status)
    if ours == FREQUENCY_LIMIT:
        error.retry_after = next(
            (wait for word, wait in LIMIT_WAITS if word in message or word in code), DEFAULT_LIMIT_WAIT
        )
    return error


class AliyunTransport:
    name = "aliyun"

    def __init__(self, settings: Settings) -> None:
        endpoint = parse_endpoint(settings.ALIYUN_SMS_ENDPOINT)
        timeout_ms = int(settings.TWILIO_HTTP_TIMEOUT * 1000)
        config = openapi_models.Config(
            access_key_id=settings.ALIYUN_ACCESS_KEY_ID,
            access_key_secret=settings.ALIYUN_ACCESS_KEY_SECRET,
            endpoint=endpoint.host,
            protocol=endpoint.protocol,
            read_timeout=timeout_ms,
            connect_timeout=timeout_ms,
        )
        self.client = Client(config)
        self.sign_name = settings.ALIYUN_SMS_SIGN_NAME
        self.config_dir = settings.CONFIG_DIR
        self.timeout_ms = timeout_ms

    @property
    def sender(self) -> str:
        return f"aliyun:{self.sign_name}"

    def _runtime(self) -> RuntimeOptions:
        # No retries of the SDK's own: a retried SendSms after a lost answer could send twice.
        return RuntimeOptions(autoretry=False, max_attempts=0, read_timeout=self.timeout_ms)

    def send_sms(
        self,
        to: str,
        body: str,
        status_callback: str | None = None,
        templated: Templated | None = None,
    ) -> SendResult:
        phone = domestic_number(to)
        if phone is None:
            raise SendError(
                "Alibaba Cloud SMS sends to mainland China numbers only", code=NOT_DOMESTIC, http_status=400
            )
        entry = (
            load_registry(self.config_dir).get(templated.template, templated.language) if templated else None
        )
        carrier = entry.by_text(templated.carrier_text or "") if templated and entry else None
        if templated is None or carrier is None or templated.params is None:
            which = f"{templated.template}/{templated.language}" if templated else "a text without a template"
            raise SendError(f"no carrier template for {which}", code=CONTENT_REFUSED, http_status=400)
        request = sms_models.SendSmsRequest(
            phone_numbers=phone,
            sign_name=self.sign_name,
            template_code=carrier.code,
            template_param=json.dumps(templated.params, ensure_ascii=False) if templated.params else None,
            out_id=str(templated.message_id),
        )
        try:
            response = self.client.send_sms_with_options(request, self._runtime())
        except AlibabaCloudException as exc:
            status = exc.status_code or 500
            if status >= 500:
                raise SendError(
                    f"Alibaba Cloud answered {status}", http_status=status, ambiguous=True
                ) from exc
            raise error_for(str(exc.code), str(exc.message or ""), status) from exc
        except UnretryableException as exc:
            inner = exc.inner_exception
            if isinstance(inner, requests.RequestException) and never_connected(inner):
                raise SendError(f"Alibaba Cloud unreachable: {type(inner).__name__}") from exc
            raise SendError(f"Alibaba Cloud gave no answer: {type(inner).__name__}", ambiguous=True) from exc
        answer = response.body
        if answer is None or answer.code is None:
            raise SendError("Alibaba Cloud's answer had no Code", http_status=502, ambiguous=True)
        if answer.code != "OK":
            raise error_for(answer.code, answer.message or "", response.status_code or 200)
        if not answer.biz_id:
            raise SendError("Alibaba Cloud took it without a BizId", http_status=502, ambiguous=True)
        return SendResult(provider_sid=str(answer.biz_id), status="sent")

    def find_sent(
        self, to: str, body: str, since: datetime, templated: Templated | None = None
    ) -> list[SentMessage]:
        """By number and Beijing date (the only way QuerySendDetails looks), matched on OutId."""
        phone = domestic_number(to)
        if phone is None or templated is None:
            return []
        found: list[SentMessage] = []
        for day in _beijing_days(since, datetime.now(UTC)):
            request = sms_models.QuerySendDetailsRequest(
                phone_number=phone, send_date=day, page_size=LOOKUP_PAGE_SIZE, current_page=1
            )
            try:
                response = self.client.query_send_details_with_options(request, self._runtime())
            except (AlibabaCloudException, UnretryableException) as exc:
                raise ProviderLookupError(
                    f"Alibaba Cloud's send details unavailable: {type(exc).__name__}"
                ) from exc
            answer = response.body
            if answer is None or answer.code != "OK":
                code = answer.code if answer is not None else "no answer"
                raise ProviderLookupError(f"Alibaba Cloud's send details refused: {code}")
            details = answer.sms_send_detail_dtos.sms_send_detail_dto if answer.sms_send_detail_dtos else None
            for detail in details or []:
                if detail.out_id != str(templated.message_id):
                    continue
                created = _beijing_time(detail.send_date) or since
                found.append(
                    SentMessage(
                        LOOKUP_SID_PREFIX + str(templated.message_id), _status(detail.send_status), created
                    )
                )
        return sorted(found, key=lambda sent: sent.created_at)[:1]


def _beijing_days(since: datetime, now: datetime) -> list[str]:
    first, last = since.astimezone(BEIJING).date(), now.astimezone(BEIJING).date()
    days: list[str] = []
    while first <= last and len(days) < 31:  # the carrier keeps 30 days
        days.append(first.strftime("%Y%m%d"))
        first += timedelta(days=1)
    return days


def _beijing_time(value: str | None) -> datetime | None:
    try:
        return datetime.strptime(value or "", "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING).astimezone(UTC)
    except ValueError:
        return None


def _status(send_status: int | None) -> str:
    # 1: waiting for the handset's receipt, 2: failed, 3: delivered.
    return {2: "undelivered", 3: "delivered"}.get(send_status or 1, "sent")
