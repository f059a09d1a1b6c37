"""The fake Twilio API, exercised through the real ``twilio.rest.Client`` (no mocks)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from twilio.rest.api.v2010.account.message import MessageInstance

from .twilio_api import FakeTwilioApi, num_segments

SID = "AC" + "a" * 32
TOKEN = "secret-token"
TO, FROM, SERVICE = "+15558675310", "+15017122661", "MG" + "b" * 32
TWILIO = "https://api.twilio.com"


class RewritingHttpClient(TwilioHttpClient):
    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url.startswith(TWILIO):
            url = self.base_url + url[len(TWILIO) :]
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def api() -> Iterator[FakeTwilioApi]:
    with FakeTwilioApi(SID, TOKEN) as fake:
        yield fake


def make_client(api: FakeTwilioApi, sid: str = SID, token: str = TOKEN) -> Client:
    return Client(sid, token, http_client=RewritingHttpClient(api.base_url))


def test_create_with_from_is_recorded_and_parses(api: FakeTwilioApi) -> None:
    msg = make_client(api).messages.create(to=TO, from_=FROM, body="Hello 零工")

    assert isinstance(msg, MessageInstance)
    assert msg.sid is not None and msg.sid.startswith("SM") and len(msg.sid) == 34
    assert (msg.status, msg.to, msg.from_, msg.body) == ("queued", TO, FROM, "Hello 零工")
    assert (msg.account_sid, msg.direction, msg.num_segments, msg.api_version) == (
        SID,
        "outbound-api",
        "1",
        "2010-04-01",
    )
    assert msg.date_created is not None and msg.date_created.tzinfo is not None
    assert msg.price is None and msg.error_code is None and msg.error_message is None
    assert msg.uri == f"/2010-04-01/Accounts/{SID}/Messages/{msg.sid}.json"
    assert msg.subresource_uris == {"media": f"/2010-04-01/Accounts/{SID}/Messages/{msg.sid}/Media.json"}

    [req] = api.requests
    assert (req.method, req.path, req.auth) == (
        "POST",
        f"/2010-04-01/Accounts/{SID}/Messages.json",
        (SID, TOKEN),
    )
    assert req.form == {"To": [TO], "From": [FROM], "Body": ["Hello 零工"]}
    assert req.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert [m["sid"] for m in api.messages] == [msg.sid]


def test_create_with_messaging_service_and_status_callback(api: FakeTwilioApi) -> None:
    cb = "https://dispatch.example/twilio/status"
    msg = make_client(api).messages.create(
        to=TO, messaging_service_sid=SERVICE, body="hi", status_callback=cb
    )

    assert msg.sid is not None and msg.messaging_service_sid == SERVICE
    assert (msg.status, msg.from_, msg.num_segments) == ("accepted", None, "0")
    assert api.requests[0].form == {
        "To": [TO],
        "MessagingServiceSid": [SERVICE],
        "Body": ["hi"],
        "StatusCallback": [cb],
    }


def test_fetch_returns_stored_message_and_404_for_unknown(api: FakeTwilioApi) -> None:
    client = make_client(api)
    created = client.messages.create(to=TO, from_=FROM, body="x")
    fetched = client.messages(created.sid).fetch()
    assert (fetched.sid, fetched.body, fetched.status) == (created.sid, "x", "queued")

    with pytest.raises(TwilioRestException) as exc:
        client.messages("SM" + "0" * 32).fetch()
    assert (exc.value.status, exc.value.code, exc.value.method) == (404, 20404, "GET")


def test_wrong_auth_is_401_20003(api: FakeTwilioApi) -> None:
    with pytest.raises(TwilioRestException) as exc:
        make_client(api, token="wrong").messages.create(to=TO, from_=FROM, body="x")
    assert (exc.value.status, exc.value.code) == (401, 20003)
    assert exc.value.msg == "Unable to create record: Authenticate"
    assert exc.value.method == "POST" and exc.value.uri == f"/Accounts/{SID}/Messages.json"
    assert api.messages == [] and api.requests[0].auth == (SID, "wrong")


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"to": "", "from_": FROM, "body": "x"}, 21604),
        ({"to": TO, "body": "x"}, 21603),
        ({"to": TO, "from_": FROM}, 21602),
    ],
)
def test_missing_parameters_are_400(api: FakeTwilioApi, kwargs: dict[str, str], code: int) -> None:
    with pytest.raises(TwilioRestException) as exc:
        make_client(api).messages.create(**kwargs)
    assert (exc.value.status, exc.value.code) == (400, code)


@pytest.mark.parametrize(
    ("status", "code", "text"),
    [
        (400, 21610, "Attempt to send to unsubscribed recipient"),
        (400, 21211, "Invalid 'To' Phone Number"),
        (429, 20429, "Too Many Requests"),
        (500, 20500, "An internal server error has occurred"),
    ],
)
def test_fail_next_surfaces_as_twilio_rest_exception(
    api: FakeTwilioApi, status: int, code: int, text: str
) -> None:
    client = make_client(api)
    api.fail_next(status, code, times=2)
    for _ in range(2):
        with pytest.raises(TwilioRestException) as exc:
            client.messages.create(to=TO, from_=FROM, body="x")
        assert type(exc.value) is TwilioRestException and exc.value.method == "POST"
        assert (exc.value.status, exc.value.code, exc.value.msg) == (
            status,
            code,
            f"Unable to create record: {text}",
        )
    assert client.messages.create(to=TO, from_=FROM, body="x").status == "queued"
    assert len(api.requests) == 3 and len(api.messages) == 1


def test_fail_next_custom_message(api: FakeTwilioApi) -> None:
    api.fail_next(400, 21211, "The 'To' number +1555 is not a valid phone number.")
    with pytest.raises(TwilioRestException) as exc:
        make_client(api).messages.create(to="+1555", from_=FROM, body="x")
    assert exc.value.msg.endswith("The 'To' number +1555 is not a valid phone number.")


def test_fail_for_number(api: FakeTwilioApi) -> None:
    client = make_client(api)
    api.fail_for_number("+15550000001", 400, 21610)
    for _ in range(2):
        with pytest.raises(TwilioRestException) as exc:
            client.messages.create(to="+15550000001", from_=FROM, body="x")
        assert (exc.value.status, exc.value.code) == (400, 21610)
    assert client.messages.create(to=TO, from_=FROM, body="x").to == TO
    assert [m["to"] for m in api.messages] == [TO]


def test_stop_releases_port() -> None:
    with FakeTwilioApi(SID, TOKEN) as fake:
        port = int(fake.base_url.rsplit(":", 1)[1])
        make_client(fake).messages.create(to=TO, from_=FROM, body="x")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
    with socket.socket() as s:  # a new server (SO_REUSEADDR, like HTTPServer) can take the port again
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen()
    with pytest.raises(RuntimeError):
        _ = fake.base_url


def test_concurrent_creates_get_distinct_sids(api: FakeTwilioApi) -> None:
    client = make_client(api)
    with ThreadPoolExecutor(max_workers=20) as pool:
        sids = list(
            pool.map(lambda i: client.messages.create(to=TO, from_=FROM, body=f"m{i}").sid, range(20))
        )
    assert len(set(sids)) == 20
    assert len(api.requests) == 20 and {m["sid"] for m in api.messages} == set(sids)


def test_num_segments() -> None:
    assert [num_segments(b) for b in ("a" * 160, "a" * 161, "€" * 80, "é" * 160, "中" * 70, "中" * 71)] == [
        1,
        2,
        1,
        1,
        1,
        2,
    ]
