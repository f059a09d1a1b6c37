"""A local HTTP server that speaks the Twilio REST API's Messages and Calls resources (2010-04-01).

Point a real ``twilio.rest.Client`` at ``base_url`` (see ``RewritingHttpClient`` in test_twilio_api.py).
JSON shapes follow Twilio's API reference and twilio-python's tests/integration/.../test_message.py.
Initial status is "queued", or "accepted" with a MessagingServiceSid (Twilio's documented initial status;
``from`` is then null and ``num_segments`` "0" until a sender is picked).

Errors use Twilio's legacy JSON shape ``{"code", "message", "more_info", "status"}``. The real client
(twilio 9.x) turns every non-2xx answer into ``twilio.base.exceptions.TwilioRestException`` with
``.status`` = HTTP status, ``.code`` = the JSON ``code`` (int), ``.msg`` = ``"Unable to create record: "``
+ JSON ``message`` (``"Unable to fetch record: ..."`` for GET), ``.method`` = "POST"/"GET", ``.uri`` = the
path ``/Accounts/{sid}/Messages.json``. E.g. wrong auth -> status 401 / code 20003; ``fail_next(400, 21610)``
-> 400 / 21610; ``fail_next(429, 20429)`` -> 429 / 20429 (the client does not retry); ``fail_next(500,
20500)`` -> 500 / 20500; unknown message sid on fetch -> 404 / 20404.

Calls (``client.calls.create``): ``To``, ``From`` and one of ``Url``/``Twiml``/``ApplicationSid`` are
required (21201 / 21213 / 21200 otherwise); the answer is a Call JSON with a ``CA…`` sid, status
"queued" and direction "outbound-api". ``fail_next`` and ``fail_for_number`` apply to calls as to messages.

A lost answer (``drop_next``) surfaces as ``requests.exceptions.ConnectionError``, a held-back one
(``delay_next``) past the client's timeout (``TwilioHttpClient(timeout=...)``) as
``requests.exceptions.ReadTimeout``: neither is a ``TwilioException``.

Messages list (``client.messages.list/stream/page``): ``GET .../Messages.json`` with the query parameters the
client sends: ``To``, ``From``, ``DateSent``, ``DateSent<``, ``DateSent>`` (on the wire ``DateSent%3C=...``,
i.e. Twilio's documented ``DateSent<=`` / ``DateSent>=``), ``PageSize`` (default 50, at most 1000),
``Page`` and ``PageToken``. The answer is Twilio's page shape ``{"messages": [...], "uri", "first_page_uri",
"next_page_uri", "previous_page_uri", "page", "page_size", "start", "end"}``, newest first; the client
follows ``next_page_uri`` (``...&PageToken=PA<sid of the page's last message>``). A list error is NOT a
``TwilioRestException``: twilio-python raises the base ``TwilioException("Unable to fetch page", response)``
(``.args[1]`` is the ``twilio.http.response.Response``: ``status_code``, ``text`` with the JSON error), e.g.
401 / 20003 on wrong auth, 400 / 21481 on an unknown ``PageToken``.
"""

from __future__ import annotations

import base64
import json
import math
import re
import socket
import struct
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

API_VERSION = "2010-04-01"
_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages(?:/(?P<sid>[^/]+))?\.json$")
_CALLS = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Calls(?:/(?P<sid>[^/]+))?\.json$")
_GSM = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXT = set("^{}\\[~]|€\f")
_FILTERS = ("To", "From", "DateSent", "DateSent<", "DateSent>")  # list filters, as twilio-python names them
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 1000
DEFAULT_MESSAGES: dict[int, str] = {
    20001: "Invalid parameter",  # the fake's code for malformed list parameters (the client never sends them)
    20003: "Authenticate",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    21200: "Url, Twiml or ApplicationSid is required",
    21201: "No 'To' number is specified",
    21213: "No 'From' number is specified",
    21481: "Invalid PageToken",
    21211: "Invalid 'To' Phone Number",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # default 5 drops SYNs under concurrent clients (1 s retransmit stalls)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    form: dict[str, list[str]]
    auth: tuple[str, str] | None
    headers: dict[str, str]
    received_at: float  # time.monotonic() once its request line and headers were read
    query: dict[str, list[str]] = field(default_factory=dict)  # the URL's query (GET list parameters)


def twilio_error(status: int, code: int, message: str | None = None) -> dict[str, Any]:
    """Twilio's JSON error body."""
    return {
        "code": code,
        "message": message if message is not None else DEFAULT_MESSAGES.get(code, "Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def num_segments(body: str) -> int:
    """Segments as Twilio bills them: GSM-7 160/153 septets, else UCS-2 70/67 code units."""
    if all(c in _GSM or c in _GSM_EXT for c in body):
        units, single, multi = len(body) + sum(c in _GSM_EXT for c in body), 160, 153
    else:
        units, single, multi = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else math.ceil(units / multi)


class FakeTwilioApi:
    """Threaded fake of ``https://api.twilio.com`` Messages and Calls on 127.0.0.1:<ephemeral port>.

    Public API: ``start()``/``stop()`` or ``with``; ``base_url``; ``requests`` (every request, in order,
    as ``RecordedRequest``; ``received_at`` is its ``time.monotonic()`` arrival); ``messages`` (created
    Message JSON dicts); ``calls`` (created Call JSON dicts); ``fail_next(status, code, message=None,
    times=1)`` (the next ``times`` authenticated creates answer with that error);
    ``fail_for_number(to, status, code, message=None)`` (every create to ``to`` fails);
    ``delay_next(seconds)`` (the next create is made, but its answer held back that long: a client
    timing out first never learns of it); ``drop_next(create=True, times=1)`` (the next ``times``
    authenticated creates get no answer at all: the connection is reset once the request was read, after
    the message/call was created with ``create=True``, before anything happened with ``create=False``);
    ``mark_sent(sid, at=None)`` (Twilio sent the message: status "sent", ``date_sent`` set); ``reset()``.
    Lists returned are snapshots; all state is guarded by one lock.

    ``fail_next``, ``fail_for_number``, ``delay_next`` and ``drop_next`` are for creates (POST) only: fetches
    and the messages list are always answered, so a test can look up what a failed create left behind.
    """

    def __init__(self, account_sid: str = "AC" + "0" * 32, auth_token: str = "test-token") -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._messages: dict[str, dict[str, Any]] = {}
        self._calls: dict[str, dict[str, Any]] = {}
        self._fail_queue: deque[dict[str, Any]] = deque()  # Twilio error bodies; "status" is the HTTP status
        self._fail_numbers: dict[str, dict[str, Any]] = {}
        self._delays: deque[float] = deque()
        self._drops: deque[bool] = deque()  # per dropped create: is the message/call created first?
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FakeTwilioApi:
        if self._server is not None:
            raise RuntimeError("FakeTwilioApi already started")
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self)

            do_POST = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-twilio", daemon=True
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

    def __enter__(self) -> FakeTwilioApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeTwilioApi is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(m) for m in self._messages.values()]

    @property
    def calls(self) -> list[dict[str, Any]]:
        """Created Call JSON dicts, in order."""
        with self._lock:
            return [dict(c) for c in self._calls.values()]

    def fail_next(self, status: int, code: int, message: str | None = None, times: int = 1) -> None:
        with self._lock:
            self._fail_queue.extend([twilio_error(status, code, message)] * times)

    def fail_for_number(self, to: str, status: int, code: int, message: str | None = None) -> None:
        with self._lock:
            self._fail_numbers[to] = twilio_error(status, code, message)

    def delay_next(self, seconds: float) -> None:
        with self._lock:
            self._delays.append(seconds)

    def drop_next(self, create: bool = True, times: int = 1) -> None:
        """Lose the answers of the next ``times`` authenticated creates (messages or calls).

        The request is read in full, then the TCP connection is reset without any HTTP answer, so the
        twilio client (through ``requests``) raises ``requests.exceptions.ConnectionError``. ``create=True``:
        the request is handled first, as usual (Twilio took the message, its answer was lost on the way
        back: a sender must not blindly retry); ``create=False``: nothing is created (the request never
        reached Twilio's application: retrying is safe). A dropped create takes no ``delay_next``.
        """
        with self._lock:
            self._drops.extend([create] * times)

    def mark_sent(self, sid: str, at: datetime | None = None) -> None:
        """Make message ``sid`` look as Twilio has it once sent: status "sent", ``date_sent`` ``at`` or now.

        Created messages are "queued"/"accepted" with ``date_sent`` null, as at Twilio, so only marked
        messages match the list's ``DateSent`` filters. Raises ``KeyError`` for an unknown sid.
        """
        stamp = format_datetime((at or datetime.now(UTC)).astimezone(UTC))
        with self._lock:
            self._messages[sid].update(status="sent", date_sent=stamp, date_updated=stamp)

    def reset(self) -> None:
        with self._lock:
            self._delays.clear()
            self._drops.clear()
            self._requests.clear()
            self._messages.clear()
            self._calls.clear()
            self._fail_queue.clear()
            self._fail_numbers.clear()

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        received_at = time.monotonic()
        url = urlsplit(h.path)
        path, query = url.path, parse_qs(url.query, keep_blank_values=True)
        raw = h.rfile.read(int(h.headers.get("Content-Length") or 0)).decode("utf-8")
        form = parse_qs(raw, keep_blank_values=True) if h.command == "POST" else {}
        auth = _basic_auth(h.headers.get("Authorization"))
        with self._lock:
            headers = dict(h.headers.items())
            self._requests.append(RecordedRequest(h.command, path, form, auth, headers, received_at, query))
            drop = self._drops.popleft() if self._drops and self._is_create(h.command, path, auth) else None
            status, payload = (0, {}) if drop is False else self._route(h.command, path, form, query, auth)
            delay = self._delays.popleft() if h.command == "POST" and self._delays and drop is None else 0.0
        if drop is not None:
            _reset_connection(h)
            return
        if delay:
            time.sleep(delay)  # outside the lock: other requests are answered meanwhile
        body = json.dumps(payload).encode("utf-8")
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json; charset=utf-8")
            h.send_header("Content-Length", str(len(body)))
            h.send_header("Twilio-Request-Id", "RQ" + uuid.uuid4().hex)
            h.end_headers()
            h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (delay_next)

    def _is_create(self, method: str, path: str, auth: tuple[str, str] | None) -> bool:
        """An authenticated POST to the Messages or Calls list: what ``drop_next`` applies to."""
        match = _MESSAGES.match(path) or _CALLS.match(path)
        return (
            method == "POST"
            and match is not None
            and match["sid"] is None
            and match["account"] == self.account_sid
            and auth == (self.account_sid, self.auth_token)
        )

    def _route(
        self,
        method: str,
        path: str,
        form: dict[str, list[str]],
        query: dict[str, list[str]],
        auth: tuple[str, str] | None,
    ) -> tuple[int, dict[str, Any]]:
        not_found = 404, twilio_error(404, 20404, f"The requested resource {path} was not found")
        if (calls := _CALLS.match(path)) is not None:
            return self._route_calls(method, path, calls, form, auth)
        match = _MESSAGES.match(path)
        if match is None or (method == "POST" and match["sid"] is not None):  # no updates
            return not_found
        if auth != (self.account_sid, self.auth_token) or match["account"] != self.account_sid:
            return 401, twilio_error(401, 20003)
        if method == "GET" and match["sid"] is None:
            return self._list_messages(path, query)
        if method == "GET":
            msg = self._messages.get(match["sid"])
            return (200, msg) if msg is not None else not_found
        if self._fail_queue:
            error = self._fail_queue.popleft()
            return error["status"], error
        first = {k: v[0] for k, v in form.items() if v and v[0] != ""}
        to, from_, service = first.get("To"), first.get("From"), first.get("MessagingServiceSid")
        if to is None:
            return 400, twilio_error(400, 21604)
        if from_ is None and service is None:
            return 400, twilio_error(400, 21603)
        if "Body" not in first and "MediaUrl" not in first and "ContentSid" not in first:
            return 400, twilio_error(400, 21602)
        if (error := self._fail_numbers.get(to)) is not None:
            return error["status"], error
        sid, body = "SM" + uuid.uuid4().hex, first.get("Body", "")
        now = format_datetime(datetime.now(UTC))
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        msg: dict[str, Any] = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,  # as at Twilio until it sends the message (see mark_sent)
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_,
            "messaging_service_sid": service,
            "num_media": str(len(form.get("MediaUrl", []))),
            "num_segments": str(num_segments(body)) if from_ is not None else "0",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service is not None else "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": to,
            "uri": f"{uri}.json",
        }
        self._messages[sid] = msg
        return 201, msg

    def _route_calls(
        self,
        method: str,
        path: str,
        match: re.Match[str],
        form: dict[str, list[str]],
        auth: tuple[str, str] | None,
    ) -> tuple[int, dict[str, Any]]:
        not_found = 404, twilio_error(404, 20404, f"The requested resource {path} was not found")
        if (method == "POST") != (match["sid"] is None):
            return not_found
        if auth != (self.account_sid, self.auth_token) or match["account"] != self.account_sid:
            return 401, twilio_error(401, 20003)
        if method == "GET":
            call = self._calls.get(match["sid"])
            return (200, call) if call is not None else not_found
        if self._fail_queue:
            error = self._fail_queue.popleft()
            return error["status"], error
        first = {k: v[0] for k, v in form.items() if v and v[0] != ""}
        to, from_ = first.get("To"), first.get("From")
        if to is None:
            return 400, twilio_error(400, 21201)
        if from_ is None:
            return 400, twilio_error(400, 21213)
        if not any(name in first for name in ("Url", "Twiml", "ApplicationSid")):
            return 400, twilio_error(400, 21200)
        if (error := self._fail_numbers.get(to)) is not None:
            return error["status"], error
        sid = "CA" + uuid.uuid4().hex
        now = format_datetime(datetime.now(UTC))
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{sid}"
        call: dict[str, Any] = {
            "account_sid": self.account_sid,
            "annotation": None,
            "answered_by": None,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": now,
            "date_updated": now,
            "direction": "outbound-api",
            "duration": None,
            "end_time": None,
            "forwarded_from": None,
            "from": from_,
            "from_formatted": from_,
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": "PN" + uuid.uuid4().hex,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": sid,
            "start_time": None,
            "status": "queued",
            "subresource_uris": {"recordings": f"{uri}/Recordings.json"},
            "to": to,
            "to_formatted": to,
            "trunk_sid": None,
            "uri": f"{uri}.json",
        }
        self._calls[sid] = call
        return 201, call

    def _list_messages(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        """One page of the messages list, newest first (Twilio's order), filtered as Twilio documents.

        ``To``/``From`` match exactly. Dates are GMT ``YYYY-MM-DD`` (midnight) or ISO 8601 date-times
        (twilio-python sends ``%Y-%m-%dT%H:%M:%SZ``, also for a ``date``): ``DateSent`` is "sent on that
        day", ``DateSent<``/``DateSent>`` (``<=``/``>=`` on the wire) "sent at or before/after that
        instant", as the docs word it ("on or before midnight on a date"). A message with ``date_sent``
        null (not sent yet) matches no date filter. ``PageToken`` ``PA<sid>`` starts after that message,
        ``PB<sid>`` is the page before it; without a token ``Page`` counts pages of ``PageSize``.
        A ``PageSize`` over 1000 is cut to 1000 (``client.messages.list(limit=5000)`` sends PageSize=5000).
        """
        params = {k: v[0] for k, v in query.items() if v and v[0] != ""}
        try:
            page_size = min(int(params.get("PageSize", DEFAULT_PAGE_SIZE)), MAX_PAGE_SIZE)
            page = int(params.get("Page", 0))
            day = _instant(params["DateSent"]).astimezone(UTC).date() if "DateSent" in params else None
            before = _instant(params["DateSent<"]) if "DateSent<" in params else None
            after = _instant(params["DateSent>"]) if "DateSent>" in params else None
        except ValueError as exc:
            return 400, twilio_error(400, 20001, f"Invalid parameter: {exc}")
        if page_size < 1 or page < 0:
            return 400, twilio_error(400, 20001, "Invalid parameter: PageSize or Page")
        rows = []
        for msg in reversed(self._messages.values()):
            if params.get("To", msg["to"]) != msg["to"] or params.get("From", msg["from"]) != msg["from"]:
                continue
            if day is not None or before is not None or after is not None:
                sent = parsedate_to_datetime(msg["date_sent"]) if msg["date_sent"] else None
                if (
                    sent is None
                    or (day is not None and sent.astimezone(UTC).date() != day)
                    or (before is not None and sent > before)
                    or (after is not None and sent < after)
                ):
                    continue
            rows.append(dict(msg))
        token = params.get("PageToken")
        if token is not None:
            sids = [m["sid"] for m in rows]
            if token[:2] not in ("PA", "PB") or token[2:] not in sids:
                return 400, twilio_error(400, 21481)
            at = sids.index(token[2:])
            start = at + 1 if token.startswith("PA") else max(at - page_size, 0)
        else:
            start = page * page_size
        chunk = rows[start : start + page_size]
        filters = {k: params[k] for k in _FILTERS if k in params}

        def uri(number: int, page_token: str | None = None) -> str:
            extra = {"PageToken": page_token} if page_token is not None else {}
            return f"{path}?{urlencode({**filters, 'PageSize': page_size, 'Page': number, **extra})}"

        more = bool(chunk) and start + len(chunk) < len(rows)
        return 200, {
            "end": start + max(len(chunk), 1) - 1,
            "first_page_uri": uri(0),
            "messages": chunk,
            "next_page_uri": uri(page + 1, "PA" + chunk[-1]["sid"]) if more else None,
            "page": page,
            "page_size": page_size,
            "previous_page_uri": uri(max(page - 1, 0), "PB" + chunk[0]["sid"]) if chunk and start else None,
            "start": start,
            "uri": uri(page, token),
        }


def _instant(value: str) -> datetime:
    """A list filter's date (midnight) or date-time as an aware UTC datetime; naive means GMT."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _reset_connection(h: BaseHTTPRequestHandler) -> None:
    """Close ``h``'s connection with a TCP RST and no HTTP answer: what a client sees when the answer is lost.

    SO_LINGER 0 makes close() send RST. The socket only really closes once ``rfile`` (a makefile() of it,
    holding a reference) is closed too; the handler's own cleanup then finds both closed and passes.
    """
    h.close_connection = True
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.rfile.close()
    h.connection.close()


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
    except ValueError:
        return None
    return user, password
