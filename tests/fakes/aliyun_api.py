"""A local HTTP server that speaks Alibaba Cloud SMS's OpenAPI (dysmsapi, version 2017-05-25): SendSms and
QuerySendDetails, RPC style, as the official SDK (alibabacloud-dysmsapi20170525) calls them.

Authentication is checked the way the service documents its V3 signature (ACS3-HMAC-SHA256): the
canonical request is the method, the path, the query (names sorted, RFC 3986 percent-encoding), the
signed headers (lower-case names sorted, values trimmed, each `name:value\\n`), the SignedHeaders list
and the hex SHA-256 of the body; the string to sign is `ACS3-HMAC-SHA256\\n` + its hex SHA-256; the
signature is the hex HMAC-SHA256 of that with the AccessKey secret. The service also requires host,
x-acs-action, x-acs-version, x-acs-date, x-acs-signature-nonce and x-acs-content-sha256 among the signed
headers, a body hash that matches, a date within 15 minutes and a nonce never seen before. Refusals use
its error shape: 404 InvalidAccessKeyId.NotFound, 400 SignatureDoesNotMatch / IncompleteSignature /
SignatureNonceUsed / InvalidTimeStamp.Expired.

Business errors of SendSms (isv.*) are answered HTTP 200 with that Code, as the service does; the SDK
returns them as the response body. ``fail_next(code, message)`` / ``fail_for_number(phone, code,
message)`` make SendSms refuse; ``drop_next(create=True)`` resets the connection after (or, with
False, before) taking the message; ``delay_next(seconds)`` holds its answer back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit
from zoneinfo import ZoneInfo

from tests.fakes.twilio_api import _reset_connection, _Server

ALGORITHM = "ACS3-HMAC-SHA256"
REQUIRED_SIGNED = {
    "host",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
}
BEIJING = ZoneInfo("Asia/Shanghai")
MAX_SKEW = timedelta(minutes=15)
_AUTH = re.compile(r"ACS3-HMAC-SHA256 Credential=([^,]*),SignedHeaders=([^,]*),Signature=([0-9a-f]+)$")
_VARIABLE = re.compile(r"\$\{(\w+)\}")


@dataclass(frozen=True)
class SentSms:
    biz_id: str
    phone: str
    sign_name: str
    template_code: str
    params: dict[str, str]
    out_id: str
    content: str
    send_date: datetime  # UTC
    status: int = 1  # 1 waiting for a receipt, 2 failed, 3 delivered


class FakeAliyunSms:
    """Threaded fake of ``dysmsapi.aliyuncs.com`` on 127.0.0.1:<ephemeral port>; ``endpoint`` for the SDK.

    ``templates``: template code -> text with ${variables}; SendSms refuses an unknown code
    (isv.SMS_TEMPLATE_ILLEGAL) and missing variables (isv.TEMPLATE_MISSING_PARAMETERS).
    """

    def __init__(
        self, access_key_id: str, access_key_secret: str, sign_name: str, templates: dict[str, str]
    ) -> None:
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.sign_name = sign_name
        self.templates = dict(templates)
        self._lock = threading.Lock()
        self._sent: list[SentSms] = []
        self._requests: list[dict[str, Any]] = []
        self._nonces: set[str] = set()
        self._fail_queue: deque[tuple[str, str]] = deque()
        self._fail_numbers: dict[str, tuple[str, str]] = {}
        self._drops: deque[bool] = deque()
        self._delays: deque[float] = deque()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> FakeAliyunSms:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._handle(self)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-aliyun", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread, self._server, self._thread = self._server, self._thread, None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> FakeAliyunSms:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- what a test sees and arranges ----------------------------------------------------------------

    @property
    def sent(self) -> list[SentSms]:
        with self._lock:
            return list(self._sent)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Each request: action, query, status answered."""
        with self._lock:
            return [dict(r) for r in self._requests]

    def fail_next(self, code: str, message: str = "", times: int = 1) -> None:
        with self._lock:
            self._fail_queue.extend([(code, message or code)] * times)

    def fail_for_number(self, phone: str, code: str, message: str = "") -> None:
        with self._lock:
            self._fail_numbers[phone] = (code, message or code)

    def clear_failures(self) -> None:
        """The carrier is well again: the refusals still queued by ``fail_next`` are forgotten."""
        with self._lock:
            self._fail_queue.clear()

    def drop_next(self, create: bool = True) -> None:
        with self._lock:
            self._drops.append(create)

    def delay_next(self, seconds: float) -> None:
        with self._lock:
            self._delays.append(seconds)

    def set_status(self, biz_id: str, status: int) -> None:
        with self._lock:
            self._sent = [
                SentSms(**{**sms.__dict__, "status": status}) if sms.biz_id == biz_id else sms
                for sms in self._sent
            ]

    # -- the protocol -------------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        url = urlsplit(h.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in h.headers.items()}
        action = headers.get("x-acs-action", query.get("Action", ""))
        with self._lock:
            refusal = self._authenticate(h.command, url.path, query, headers, body)
            drop = self._drops.popleft() if refusal is None and action == "SendSms" and self._drops else None
            if refusal is not None:
                status, payload = refusal
            elif drop is False:
                status, payload = 0, {}
            elif action == "SendSms":
                status, payload = self._send_sms(query)
            elif action == "QuerySendDetails":
                status, payload = self._query_send_details(query)
            else:
                status, payload = (
                    404,
                    _error("InvalidAction.NotFound", f"Specified api is not found: {action}"),
                )
            delay = self._delays.popleft() if action == "SendSms" and self._delays and drop is None else 0.0
            self._requests.append({"action": action, "query": query, "status": status})
        if drop is not None:
            _reset_connection(h)
            return
        if delay:
            time.sleep(delay)
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json;charset=utf-8")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _authenticate(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]] | None:
        match = _AUTH.match(headers.get("authorization", ""))
        if match is None:
            return 400, _error(
                "IncompleteSignature", "The request signature does not conform to Aliyun standards."
            )
        key_id, signed, signature = match.groups()
        if key_id != self.access_key_id:
            return 404, _error("InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        names = signed.split(";")
        if (
            not set(names) >= REQUIRED_SIGNED
            or names != sorted(names)
            or any(n not in headers for n in names)
        ):
            return 400, _error(
                "IncompleteSignature", "The request signature does not conform to Aliyun standards."
            )
        if headers["x-acs-content-sha256"] != hashlib.sha256(body).hexdigest():
            return 400, _error("IncompleteSignature", "The content sha256 does not match the body.")
        try:
            stamp = datetime.strptime(headers["x-acs-date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return 400, _error(
                "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted."
            )
        if abs(datetime.now(UTC) - stamp) > MAX_SKEW:
            return 400, _error("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
        canonical_query = "&".join(
            f"{_encode(name)}={_encode(value)}" for name, value in sorted(query.items())
        )
        canonical_headers = "".join(f"{name}:{headers[name].strip()}\n" for name in names)
        canonical = "\n".join(
            [
                method,
                path or "/",
                canonical_query,
                canonical_headers,
                signed,
                hashlib.sha256(body).hexdigest(),
            ]
        )
        to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"
        expected = hmac.new(
            self.access_key_secret.encode(), to_sign.encode("utf-8"), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return 400, _error(
                "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."
            )
        nonce = headers["x-acs-signature-nonce"]
        if nonce in self._nonces:
            return 400, _error("SignatureNonceUsed", "Specified signature nonce was used already.")
        self._nonces.add(nonce)
        return None

    def _send_sms(self, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        phone = query.get("PhoneNumbers", "")
        failure = self._fail_numbers.get(phone) or (self._fail_queue.popleft() if self._fail_queue else None)
        if failure is not None:
            return 200, _error(*failure)
        if not re.fullmatch(r"1[3-9][0-9]{9}", phone):
            return 200, _error("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        if query.get("SignName") != self.sign_name:
            return 200, _error("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        text = self.templates.get(query.get("TemplateCode", ""))
        if text is None:
            return 200, _error("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        try:
            params = json.loads(query["TemplateParam"]) if query.get("TemplateParam") else {}
        except ValueError:
            return 200, _error("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
            return 200, _error("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        missing = set(_VARIABLE.findall(text)) - set(params)
        if missing:
            return 200, _error("isv.TEMPLATE_MISSING_PARAMETERS", "模版缺少变量")
        content = f"【{self.sign_name}】" + _VARIABLE.sub(lambda m: params[m.group(1)], text)
        biz_id = f"{int(time.time() * 1000)}^{uuid.uuid4().int % 10**10:010d}"
        self._sent.append(
            SentSms(
                biz_id,
                phone,
                self.sign_name,
                query["TemplateCode"],
                params,
                query.get("OutId", ""),
                content,
                datetime.now(UTC),
            )
        )
        return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": str(uuid.uuid4()).upper()}

    def _query_send_details(self, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        phone, day = query.get("PhoneNumber", ""), query.get("SendDate", "")
        if not re.fullmatch(r"[0-9]{8}", day):
            return 200, _error("isv.INVALID_PARAMETERS", "参数异常")
        size = int(query.get("PageSize") or 10)
        page = int(query.get("CurrentPage") or 1)
        found = [
            sms
            for sms in self._sent
            if sms.phone == phone
            and sms.send_date.astimezone(BEIJING).strftime("%Y%m%d") == day
            and (not query.get("BizId") or sms.biz_id == query["BizId"])
        ]
        listed = found[(page - 1) * size : page * size]
        return 200, {
            "Code": "OK",
            "Message": "OK",
            "RequestId": str(uuid.uuid4()).upper(),
            "TotalCount": str(len(found)),
            "SmsSendDetailDTOs": {
                "SmsSendDetailDTO": [
                    {
                        "PhoneNum": sms.phone,
                        "SendStatus": sms.status,
                        "ErrCode": "DELIVERED" if sms.status == 3 else "",
                        "TemplateCode": sms.template_code,
                        "Content": sms.content,
                        "SendDate": sms.send_date.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
                        "ReceiveDate": "",
                        "OutId": sms.out_id,
                    }
                    for sms in listed
                ]
            },
        }


def _encode(value: str) -> str:
    return quote(value, safe="~")


def _error(code: str, message: str) -> dict[str, Any]:
    return {"Code": code, "Message": message, "RequestId": str(uuid.uuid4()).upper()}
