"""The fake Twilio API, exercised through the real ``twilio.rest.Client`` (no mocks)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

import pytest
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
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


def make_client(api: FakeTwilioApi, sid: str = SID, token: str = TOKEN, **http: Any) -> Client:
    return Client(sid, token, http_client=RewritingHttpClient(api.base_url, **http))


def send(client: Client, *bodies: str, to: str = TO, from_: str = FROM) -> list[str]:
    """Create one message per body, in order; their sids."""
    return [client.messages.create(to=to, from_=from_, body=b).sid for b in bodies]


def list_requests(api: FakeTwilioApi) -> list[dict[str, list[str]]]:
    """The query of every list request, in order."""
    return [
        r.query
        for r in api.requests
        if (r.method, r.path) == ("GET", f"/2010-04-01/Accounts/{SID}/Messages.json")
    ]


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


def test_list_sends_twilio_parameter_names_and_parses(api: FakeTwilioApi) -> None:
    client = make_client(api)
    [sid] = send(client, "hello")
    api.mark_sent(sid, datetime(2024, 3, 2, 9, 30, tzinfo=UTC))

    [msg] = client.messages.list(
        to=TO,
        from_=FROM,
        date_sent=date(2024, 3, 2),
        date_sent_before=datetime(2024, 3, 3, tzinfo=UTC),
        date_sent_after="2024-03-01",
        page_size=20,
    )

    assert isinstance(msg, MessageInstance)
    assert (msg.sid, msg.to, msg.from_, msg.body, msg.status) == (sid, TO, FROM, "hello", "sent")
    assert msg.date_sent == datetime(2024, 3, 2, 9, 30, tzinfo=UTC)
    assert list_requests(api) == [
        {
            "To": [TO],
            "From": [FROM],
            "DateSent": ["2024-03-02T00:00:00Z"],  # a date goes out as its midnight
            "DateSent<": ["2024-03-03T00:00:00Z"],
            "DateSent>": ["2024-03-01"],  # strings go out as they are
            "PageSize": ["20"],
        }
    ]


def test_list_page_shape(api: FakeTwilioApi) -> None:
    send(make_client(api), "a", "b", "c")
    base = f"/2010-04-01/Accounts/{SID}/Messages.json"
    answer = requests.get(api.base_url + base, params={"To": TO, "PageSize": 2}, auth=(SID, TOKEN), timeout=5)

    assert answer.status_code == 200
    payload = answer.json()
    assert [m["body"] for m in payload.pop("messages")] == ["c", "b"]
    assert payload == {
        "end": 1,
        "first_page_uri": f"{base}?To=%2B15558675310&PageSize=2&Page=0",
        "next_page_uri": f"{base}?To=%2B15558675310&PageSize=2&Page=1&PageToken=PA{api.messages[1]['sid']}",
        "page": 0,
        "page_size": 2,
        "previous_page_uri": None,
        "start": 0,
        "uri": f"{base}?To=%2B15558675310&PageSize=2&Page=0",
    }


@pytest.mark.parametrize(
    ("kwargs", "bodies"),
    [
        ({}, ["4", "3", "2", "1"]),
        ({"to": TO}, ["3", "1"]),
        ({"to": "+15550000002"}, ["4", "2"]),
        ({"from_": FROM}, ["2", "1"]),
        ({"from_": "+15017122662"}, ["4", "3"]),
        ({"to": TO, "from_": "+15017122662"}, ["3"]),
        ({"to": "+15550000003"}, []),
    ],
)
def test_list_filters_by_to_and_from(api: FakeTwilioApi, kwargs: dict[str, str], bodies: list[str]) -> None:
    client = make_client(api)
    send(client, "1")
    send(client, "2", to="+15550000002")
    send(client, "3", from_="+15017122662")
    send(client, "4", to="+15550000002", from_="+15017122662")

    assert [m.body for m in client.messages.list(**kwargs)] == bodies


def test_list_filters_by_date_sent(api: FakeTwilioApi) -> None:
    client = make_client(api)
    first, second, third, _queued = send(client, "1", "2", "3", "queued")
    api.mark_sent(first, datetime(2024, 3, 1, 23, 59, 59, tzinfo=UTC))
    api.mark_sent(second, datetime(2024, 3, 2, 9, 0, tzinfo=UTC))
    api.mark_sent(third, datetime(2024, 3, 3, 12, 0, tzinfo=UTC))
    nine = datetime(2024, 3, 2, 9, 0, tzinfo=UTC)

    def bodies(**kwargs: Any) -> list[str]:
        return [m.body for m in client.messages.list(**kwargs)]

    assert bodies() == ["queued", "3", "2", "1"]
    assert bodies(date_sent=date(2024, 3, 2)) == ["2"]  # the whole GMT day
    assert bodies(date_sent="2024-03-01") == ["1"]
    assert bodies(date_sent_before=nine) == ["2", "1"]  # inclusive: DateSent<= on the wire
    assert bodies(date_sent_after=nine) == ["3", "2"]
    assert bodies(date_sent_after="2024-03-02") == ["3", "2"]  # on or after midnight
    assert bodies(date_sent_before="2024-03-02") == ["1"]  # on or before midnight
    assert bodies(date_sent_after=date(2024, 3, 2), date_sent_before=date(2024, 3, 3)) == ["2"]
    assert bodies(date_sent_after=datetime(2000, 1, 1, tzinfo=UTC)) == ["3", "2", "1"]  # never the unsent
    assert api.messages[3]["date_sent"] is None and api.messages[3]["status"] == "queued"
    with pytest.raises(KeyError):
        api.mark_sent("SM" + "0" * 32)


def test_list_pages_newest_first_up_to_limit(api: FakeTwilioApi) -> None:
    client = make_client(api)
    sids = send(client, *[f"m{i}" for i in range(7)])

    assert [m.sid for m in client.messages.list(limit=5, page_size=2)] == sids[::-1][:5]
    assert [q.get("Page") for q in list_requests(api)] == [None, ["1"], ["2"]]
    assert [q.get("PageToken") for q in list_requests(api)] == [None, [f"PA{sids[5]}"], [f"PA{sids[3]}"]]
    assert all(q["PageSize"] == ["2"] for q in list_requests(api))

    assert [m.body for m in client.messages.stream(page_size=3)] == [f"m{i}" for i in range(6, -1, -1)]
    assert [m.body for m in client.messages.list(limit=3)] == ["m6", "m5", "m4"]  # one page of 3
    assert list_requests(api)[-1] == {"PageSize": ["3"]}


def test_list_next_and_previous_page_keep_filters(api: FakeTwilioApi) -> None:
    client = make_client(api)
    send(client, "x1", "x2", "x3")
    send(client, "other", to="+15550000002")

    first = client.messages.page(to=TO, page_size=2)
    second = first.next_page()
    assert second is not None and [m.body for m in second] == ["x1"]
    assert second.next_page_url is None
    back = second.previous_page()
    assert back is not None and [m.body for m in back] == ["x3", "x2"]
    assert all(q["To"] == [TO] for q in list_requests(api))


def test_list_default_page_size_is_50(api: FakeTwilioApi) -> None:
    client = make_client(api)
    send(client, *[f"m{i}" for i in range(51)])

    page = client.messages.page()
    assert len(list(page)) == 50 and page.next_page_url is not None
    assert list_requests(api) == [{}]
    assert len(client.messages.list()) == 51


def test_list_wrong_auth_is_401_20003(api: FakeTwilioApi) -> None:
    send(make_client(api), "x")
    with pytest.raises(TwilioException) as exc:  # list pages raise the base class, not TwilioRestException
        make_client(api, token="wrong").messages.list()
    assert type(exc.value) is TwilioException and exc.value.args[0] == "Unable to fetch page"
    answer = exc.value.args[1]
    assert answer.status_code == 401 and json.loads(answer.text)["code"] == 20003


def test_list_bad_page_token_is_400_21481(api: FakeTwilioApi) -> None:
    with pytest.raises(TwilioException) as exc:
        make_client(api).messages.page(page_token="PA" + "SM" + "0" * 32)
    answer = exc.value.args[1]
    assert answer.status_code == 400 and json.loads(answer.text)["code"] == 21481


def test_list_ignores_fail_next(api: FakeTwilioApi) -> None:
    client = make_client(api)
    send(client, "x")
    api.fail_next(500, 20500)
    api.fail_for_number(TO, 400, 21610)

    assert [m.body for m in client.messages.list(to=TO)] == ["x"]
    client.messages(api.messages[0]["sid"]).fetch()
    with pytest.raises(TwilioRestException) as exc:  # still queued for the next create
        client.messages.create(to=TO, from_=FROM, body="y")
    assert (exc.value.status, exc.value.code) == (500, 20500)


def test_drop_next_after_create_loses_the_answer(api: FakeTwilioApi) -> None:
    client = make_client(api)
    api.drop_next()
    with pytest.raises(requests.exceptions.ConnectionError):
        client.messages.create(to=TO, from_=FROM, body="lost answer")

    [msg] = api.messages
    assert (msg["body"], msg["status"], msg["to"], msg["from"]) == ("lost answer", "queued", TO, FROM)
    [found] = client.messages.list(to=TO, from_=FROM)
    assert (found.sid, found.body, found.date_sent) == (msg["sid"], "lost answer", None)
    assert [(r.method, r.form.get("Body")) for r in api.requests[:1]] == [("POST", ["lost answer"])]
    assert client.messages.create(to=TO, from_=FROM, body="next").status == "queued"  # only one dropped


def test_drop_next_without_create(api: FakeTwilioApi) -> None:
    client = make_client(api)
    api.drop_next(create=False, times=2)
    for _ in range(2):
        with pytest.raises(requests.exceptions.ConnectionError):
            client.messages.create(to=TO, from_=FROM, body="never arrived")

    assert api.messages == [] and client.messages.list(to=TO) == []
    assert [r.form["Body"] for r in api.requests if r.method == "POST"] == [["never arrived"]] * 2
    send(client, "retry")
    assert [m["body"] for m in api.messages] == ["retry"]


def test_drop_next_applies_to_calls_and_only_to_authenticated_creates(api: FakeTwilioApi) -> None:
    client = make_client(api)
    api.drop_next(create=True)
    with pytest.raises(TwilioRestException) as exc:  # wrong auth: answered, the drop is kept
        make_client(api, token="wrong").calls.create(to=TO, from_=FROM, url="https://x.example/twiml")
    assert exc.value.status == 401
    assert client.messages.list() == []  # a GET: answered, the drop is kept

    with pytest.raises(requests.exceptions.ConnectionError):
        client.calls.create(to=TO, from_=FROM, url="https://x.example/twiml")
    [call] = api.calls
    assert (call["to"], call["status"]) == (TO, "queued")


def test_delay_next_times_out_client_but_message_exists(api: FakeTwilioApi) -> None:
    client = make_client(api, timeout=1.0)
    api.delay_next(3.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        client.messages.create(to=TO, from_=FROM, body="slow answer")

    [msg] = api.messages
    assert msg["body"] == "slow answer"
    [found] = client.messages.list(to=TO, from_=FROM)  # answered at once while the create still waits
    assert (found.sid, found.body, found.status) == (msg["sid"], "slow answer", "queued")
