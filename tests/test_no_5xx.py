"""Odd input never gets a 5xx: every webhook (correctly signed) and every console form (signed in as an
admin, with the CSRF token) is driven with huge and negative integers, NUL and other controls, newlines,
invalid UTF-8, very long strings, unknown ids, ids beyond 32 bits, empty values and repeated keys.

A crash does not always show as a 500: a webhook that fails is kept in the spool and answered 200, a
voice step that fails is rescued, an SMS whose handling fails becomes a ticket. So besides the status,
each request must log no error and leave the spool empty (the database is up), and every signed
inbound SMS with a MessageSid must be stored (as received when its sender is a phone number).

Two passes over one table of the surfaces: a sweep that puts each odd value into each field in turn
(every field is reached), then hypothesis mixing odd values, repeats and unknown fields. Deterministic
(`derandomize`, no example database); about 25 s on PostgreSQL. The fixes each have a test at the end.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import time_machine
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.test import EnvironBuilder

from dispatch.clock import utcnow
from dispatch.console.tickets.services import claim_ticket
from dispatch.followup.asking import hand_to_agents
from dispatch.ivr import flows
from dispatch.ivr import followup as ivr_followup
from dispatch.models import (
    Call,
    Conversation,
    Direction,
    FollowUpStatus,
    Message,
    MessageStatus,
    PaidAnswer,
    Ticket,
    TicketKind,
)
from dispatch.phones import try_e164
from dispatch.tickets.services import open_ticket
from dispatch.twilio_auth import public_url
from dispatch.wages.services import open_case
from tests.console.conftest import signed_in
from tests.console.helpers import PASSWORD, csrf_token, make_agent
from tests.factories import SHANGHAI, Market, commit
from tests.helpers import sign, text_in
from tests.wages.conftest import placement

NOW = datetime(2026, 12, 10, 10, 0, tzinfo=SHANGHAI)
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

HUGE = "9" * 4301  # int() refuses more than 4,300 digits (ValueError)
# Percent-encoded bytes that are not UTF-8 (a lone surrogate, an overlong slash), sent as they are in
# a URL; werkzeug keeps them as this text, which is what a form carries. Raw ones empty the whole form
# (tested below); gunicorn refuses them in a URL with a 400 before the app.
INVALID_UTF8 = "%ff%fe%ed%a0%80%c0%af"
# Each of these goes into every field in turn.
KILLERS = [
    "",
    "-1",
    "2147483648",
    HUGE,
    "a\x00b",
    "line\nbreak\r\n",
    INVALID_UTF8,
    "１２３",
    "x" * 5000,
]
# Ids in a URL (a negative one is no route).
PATH_KILLERS = ["0", "999999", "2147483648", HUGE]
# Every field at once.
ALL_AT_ONCE = ["", HUGE, "a\x00b", "line\nbreak\r\n", INVALID_UTF8]
# More for the random pass.
ODD = [
    *KILLERS,
    " ",
    "0",
    "-0",
    "+1",
    "007",
    "1.5",
    "1e9",
    "-2147483649",
    "9223372036854775808",
    "9" * 25,
    "-" + HUGE,
    "一" * 4301,
    "፩",
    "²",
    "NaN",
    "\x00",
    "\x01\x07\x08\x1b\x7f\x85",
    "\n",
    "/console/\r\nSet-Cookie: x=1",
    "//evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "%00",
    "\ufffd",
    "\u202e\u200b\ufeff",
    "😀👨‍👩‍👧",
    "注册 水电工 太西 300 张三",
    "字" * 3000,
]
odd = st.one_of(st.sampled_from(ODD), st.integers(-(2**70), 2**70).map(str), st.text(max_size=30))


# -- the world the ids point at -----------------------------------------------------------------


@dataclass
class World:
    admin: Any
    worker_id: int
    worker_phone: str
    employer_id: int
    employer_phone: str
    job_id: int
    case_id: int
    follow_up_id: int
    message_id: int
    trade_id: int
    site_id: int
    new_ticket: Callable[[str], int]  # a fresh open ticket: "sms", "voicemail" or "claimed" (a voicemail)

    def ids(self) -> dict[str, str]:
        return {
            "job": str(self.job_id),
            "case": str(self.case_id),
            "worker": str(self.worker_id),
            "employer": str(self.employer_id),
            "follow_up": str(self.follow_up_id),
            "message": str(self.message_id),
            "trade": str(self.trade_id),
            "site": str(self.site_id),
        }


@pytest.fixture
def world(runtime, session, seeded, client) -> Iterator[World]:
    """An admin, a worker and an employer, a job, a wage case, a follow-up an agent is to ask by phone,
    a call in progress, and fresh tickets on demand; the clock stands at NOW."""
    with time_machine.travel(NOW, tick=False):
        market = Market(session)
        admin = make_agent(session, "fuzz-admin", "admin", "LZ")
        worker = market.worker(name="王五")
        job = market.job(work_date=date(2026, 12, 11))
        placed = placement(session, runtime, market, PaidAnswer.NONE)
        case = open_case(session, runtime.settings, placed.follow_up, NOW)
        # Another placement whose worker never answered: its follow-up waits for an agent's call.
        silent = placement(session, runtime, market, PaidAnswer.NONE, worker_name="李六").follow_up
        silent.status, silent.reminded_at = FollowUpStatus.REMINDED, NOW - timedelta(days=1)
        silent.paid = silent.stars = silent.answered_via = silent.answered_at = None
        assert hand_to_agents(session, runtime.settings, NOW) == 1
        commit(runtime, session)
        post_signed(client, runtime, "/ivr/voice", MultiDict({"CallSid": CALL_SID, "From": SENDERS[0]}))
        outbound = session.scalars(
            select(Message).where(Message.direction == Direction.OUTBOUND).order_by(Message.id)
        ).first()
        assert outbound is not None

        def new_ticket(kind: str) -> int:
            """An unreadable SMS or an outage voicemail (an intake ticket with a recording), maybe claimed."""
            number = f"+86139{next(_sids) % 10**8:08d}"
            if kind == "sms":  # as an unreadable text leaves it
                inbound = Message(
                    direction=Direction.INBOUND,
                    phone=number,
                    body="这是什么",
                    provider_sid=f"SM{next(_sids):032x}",
                    status=MessageStatus.UNPARSED,
                    created_at=utcnow(),
                )
                session.add(inbound)
                session.flush()
                open_ticket(session, TicketKind.UNPARSED_SMS, message=inbound)
                session.commit()
            else:
                form = {"CallSid": f"CA{next(_sids):032x}", "From": number, "RecordingUrl": RECORDING}
                post_signed(client, runtime, "/ivr/outage/voicemail", MultiDict(form))
            session.expire_all()
            ticket = session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()
            assert ticket is not None and ticket.phone == number
            if kind == "claimed":
                claim_ticket(session, admin, ticket)
                session.commit()
            return ticket.id

        yield World(
            admin=admin,
            worker_id=worker.id,
            worker_phone=worker.phone,
            employer_id=placed.employer.id,
            employer_phone=placed.employer.phone,
            job_id=job.id,
            case_id=case.id,
            follow_up_id=silent.id,
            message_id=outbound.id,
            trade_id=market.trade("plumber_electrician").id,
            site_id=market.site("LZ-TX").id,
            new_ticket=new_ticket,
        )


class Errors(logging.Handler):
    """ERROR records (log.exception: a crash rescued, spooled, or shown as an error page)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        found = [f"{r.name}: {r.getMessage()}\n{self.format(r) if r.exc_info else ''}" for r in self.records]
        self.records.clear()
        return found


@pytest.fixture
def errors() -> Iterator[Errors]:
    handler = Errors()
    handler.setFormatter(logging.Formatter("%(message)s"))
    loggers = [logging.getLogger(name) for name in ("dispatch", "flask.app", "werkzeug")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


def check(response, errors: Errors, runtime, what: str) -> int:
    """The response's status, once it is known to be no 5xx, no logged error and nothing spooled."""
    what = what[:1500]
    body = response.get_data(as_text=True)[:1500]
    assert response.status_code < 500, f"{what}: {response.status_code}\n{body}"
    logged = errors.take()
    assert not logged, f"{what}: logged an error\n" + "\n".join(logged)[-4000:]
    assert not runtime.spool.has_pending(), f"{what}: spooled although the database is up"
    return response.status_code


# -- the surfaces -------------------------------------------------------------------------------

_sids = itertools.count(0xF0000000)  # clear of tests.helpers.inbound_params's MessageSids
SENDERS = ["+8613800138000", "13900139000", "+86 137 0013 7000", "８６１３６００１３６０００", "+14155550100"]
CALL_SID = "CA" + "f" * 32  # the call in progress the world starts, so that steps find it
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"


def _quoted(value: str) -> str:
    return value if value == INVALID_UTF8 else quote(value, safe="")


def fresh(prefix: str) -> Callable[[World], str]:
    return lambda world: f"{prefix}{next(_sids):032x}"


def the(name: str) -> Callable[[World], str]:
    return lambda world: world.ids()[name]


def a_new(kind: str) -> Callable[[World], str]:
    return lambda world: str(world.new_ticket(kind))


@dataclass(frozen=True)
class Surface:
    """One webhook or form: its path (with `{placeholders}`), query and form fields, each with the
    plausible values it takes (a callable: from the world; a tuple: the choices)."""

    method: str
    path: str
    fields: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    parts: dict[str, Any] = field(default_factory=dict)  # the path's placeholders

    def plausible(self, values: Any, world: World, index: int = 0) -> str | None:
        """A plausible value; None: the field is left out unless the sweep puts an odd value in it."""
        if callable(values):
            return values(world)
        return values[index % len(values)]

    def base(self, world: World) -> tuple[dict[str, str], MultiDict[str, str], MultiDict[str, str]]:
        parts = {name: self.plausible(v, world) or "" for name, v in self.parts.items()}
        query = MultiDict(
            [(name, v) for name in self.query if (v := self.plausible(self.query[name], world))]
        )
        form = MultiDict(
            [(name, v) for name in self.fields if (v := self.plausible(self.fields[name], world))]
        )
        return parts, query, form

    def url(self, parts: dict[str, str], query: MultiDict[str, str]) -> str:
        path = self.path.format(**{name: _quoted(value) for name, value in parts.items()})
        return path + (
            "?" + "&".join(f"{_quoted(k)}={_quoted(v)}" for k, v in query.items(multi=True)) if query else ""
        )


STEPS = (*sorted(flows.STEPS), "hold")
WEBHOOKS = [
    Surface(
        "POST",
        "/sms/inbound",
        {
            "MessageSid": fresh("SM"),
            "From": tuple(SENDERS),
            "To": ("+8610690000",),
            "Body": ("帮助", "注册", "1", "1 123", "招 水电工 2人 明天 300元 太西", "我的", "退订"),
            "NumSegments": ("1",),
            "SmsSid": fresh("SM"),
            "MessagingServiceSid": ("MG" + "0" * 32,),
        },
    ),
    Surface(
        "POST",
        "/sms/status",
        {
            "MessageSid": fresh("SM"),
            "MessageStatus": ("delivered", "failed", "sent", "undelivered"),
            "SmsStatus": ("delivered",),
            "ErrorCode": ("30003",),
        },
        query={"m": the("message")},
    ),
    Surface(
        "POST",
        "/ivr/voice",
        {"CallSid": fresh("CA"), "From": tuple(SENDERS), "To": ("+8610690000",), "CallStatus": ("ringing",)},
    ),
    Surface(
        "POST",
        "/ivr/step/{step}",
        {
            "CallSid": (CALL_SID,),
            "Digits": ("1", "2", "#", "20261211", "300"),
            "CallStatus": ("in-progress",),
            "QueueResult": ("bridged", "hangup"),
            "QueueTime": ("30",),
            "RecordingUrl": (RECORDING,),
        },
        query={"t": ("1", "2")},
        parts={"step": STEPS},
    ),
    Surface(
        "POST",
        "/ivr/recording",
        {"CallSid": (CALL_SID,), "RecordingUrl": (RECORDING,), "TranscriptionText": ("我要两个水电工",)},
        query={"purpose": ("voicemail", "description", "name")},
    ),
    Surface(
        "POST", "/ivr/status", {"CallSid": fresh("CA"), "CallStatus": ("completed", "no-answer", "busy")}
    ),
    Surface(
        "POST",
        "/ivr/outage/voicemail",
        {"CallSid": fresh("CA"), "From": tuple(SENDERS), "RecordingUrl": (RECORDING,)},
    ),
    Surface(
        "POST",
        "/ivr/followup",
        {"CallSid": fresh("CA"), "CallStatus": ("in-progress",)},
        query={"f": the("follow_up")},
    ),
    Surface(
        "POST",
        "/ivr/followup/step/{step}",
        {"CallSid": fresh("CA"), "Digits": ("1", "5", "3"), "CallStatus": ("in-progress",)},
        query={"t": ("1",)},
        parts={"step": tuple(sorted(ivr_followup.STEPS))},
    ),
    Surface(
        "POST",
        "/ivr/followup/status",
        {"CallSid": fresh("CA"), "CallStatus": ("completed", "no-answer")},
        query={"f": the("follow_up")},
    ),
]

NOTE = ("已联系", "note")
TEXT = ("好的，明天见", "1 123")
KIND = ("workers", "employers")
CONSOLE = [
    Surface("POST", "/console/tickets/{ticket}/claim", parts={"ticket": a_new("voicemail")}),
    Surface(
        "POST",
        "/console/tickets/{ticket}/reread",
        {"text": ("这是什么", "帮助")},
        parts={"ticket": a_new("sms")},
    ),
    Surface("POST", "/console/tickets/{ticket}/reply", {"text": TEXT}, parts={"ticket": a_new("sms")}),
    Surface(
        "POST",
        "/console/tickets/{ticket}/transcript",
        {"transcript": TEXT},
        parts={"ticket": a_new("voicemail")},
    ),
    Surface(
        "POST", "/console/tickets/{ticket}/name", {"name": ("张三",)}, parts={"ticket": a_new("voicemail")}
    ),
    Surface("GET", "/console/tickets/{ticket}", parts={"ticket": a_new("voicemail")}),
    Surface("POST", "/console/tickets/{ticket}/release", {"note": NOTE}, parts={"ticket": a_new("claimed")}),
    Surface(
        "POST",
        "/console/tickets/{ticket}/resolve",
        {"outcome": ("done", "replied", "not_needed"), "note": NOTE},
        parts={"ticket": a_new("claimed")},
    ),
    Surface("GET", "/console/tickets/", query={"view": ("open", "mine", "all"), "kind": ("unparsed_sms",)}),
    Surface("GET", "/console/tickets/rows", query={"view": ("open",), "kind": ("voicemail",)}),
    Surface(
        "POST",
        "/console/intake/job",
        {
            "phone": ("13600000001", "+8613600000002"),
            "employer_name": ("王记",),
            "trade": the("trade"),
            "headcount": ("2",),
            "day": ("tomorrow", "date"),
            "date": ("2026-12-12",),
            "start": ("08:00", "07:30"),
            "days": ("1", "3"),
            "pay": ("300",),
            "site": the("site"),
            "address": ("太行西街88号",),
            "notes": NOTE,
        },
        query={"ticket": (None,)},
    ),
    Surface(
        "POST",
        "/console/intake/worker",
        {
            "name": ("赵六",),
            "phone": ("13912345678", "+8613912345679"),
            "trade": the("trade"),
            "years": ("3",),
            "site": the("site"),
            "min_pay": ("200",),
            "language": ("zh", "en"),
            "notes": NOTE,
            "prefers_voice": ("yes",),
        },
        query={"ticket": (None,)},
    ),
    Surface("GET", "/console/intake/job", query={"ticket": a_new("voicemail")}),
    Surface("GET", "/console/intake/worker", query={"ticket": a_new("voicemail"), "done": the("worker")}),
    Surface("GET", "/console/intake/employer", query={"phone": ("13600000001", "136")}),
    Surface("GET", "/console/jobs/", query={"status": ("active", "open", "all"), "page": ("2",)}),
    Surface("GET", "/console/jobs/{job}", parts={"job": the("job")}),
    Surface("POST", "/console/jobs/{job}/confirm", parts={"job": the("job")}),
    Surface("POST", "/console/jobs/{job}/next-wave", parts={"job": the("job")}),
    Surface(
        "POST",
        "/console/jobs/{job}/offer",
        {"worker_id": the("worker"), "phone": ("13912345670",)},
        parts={"job": the("job")},
    ),
    Surface(
        "POST",
        "/console/jobs/{job}/pay",
        {"daily_pay": ("350", "400元"), "employer_agreed": ("yes",), "note": NOTE},
        parts={"job": the("job")},
    ),
    Surface("POST", "/console/jobs/{job}/widen", {"note": NOTE}, parts={"job": the("job")}),
    Surface("POST", "/console/jobs/{job}/cancel", {"note": NOTE}, parts={"job": the("job")}),
    Surface("GET", "/console/cases/", query={"status": ("active", "all"), "page": ("1",)}),
    Surface("GET", "/console/cases/{case}", parts={"case": the("case")}),
    Surface(
        "POST",
        "/console/cases/{case}/{step}",
        {"amount": ("300", "1,000元", "１００"), "note": NOTE},
        parts={"case": the("case"), "step": ("mediate", "owed", "partly", "recovered", "unresolved")},
    ),
    Surface("POST", "/console/cases/jobs/{job}/release", {"note": NOTE}, parts={"job": the("job")}),
    Surface(
        "POST",
        "/console/followups/{follow_up}/answer",
        {"paid": ("1", "2", "3"), "stars": ("5", "0"), "note": NOTE},
        parts={"follow_up": the("follow_up")},
    ),
    Surface(
        "POST",
        "/console/followups/{follow_up}/no-answer",
        {"note": NOTE},
        parts={"follow_up": the("follow_up")},
    ),
    Surface(
        "POST",
        "/console/followups/{follow_up}/correct",
        {"min_pay": ("250",), "trade": the("trade"), "years": ("2",)},
        parts={"follow_up": the("follow_up")},
    ),
    Surface(
        "POST",
        "/console/people/workers/{worker}/edit",
        {
            "name": ("张三",),
            "trade": the("trade"),
            "years": ("3",),
            "min_pay": ("200",),
            "site": the("site"),
            "language": ("zh", "en"),
            "prefers_voice": ("yes",),
        },
        parts={"worker": the("worker")},
    ),
    Surface(
        "POST",
        "/console/people/employers/{employer}/edit",
        {"name": ("王老板",), "site": the("site"), "address": ("太行西街88号",)},
        parts={"employer": the("employer")},
    ),
    Surface(
        "POST",
        "/console/followups/workers/{worker}/voice",
        {"prefers_voice": ("yes", "no")},
        parts={"worker": the("worker")},
    ),
    Surface("GET", "/console/people/search", query={"q": ("张", "138", "13800138000")}),
    Surface("GET", "/console/people/workers/{worker}", parts={"worker": the("worker")}),
    Surface("GET", "/console/people/employers/{employer}", parts={"employer": the("employer")}),
    Surface("GET", "/console/people/{kind}/{worker}/timeline", parts={"kind": KIND, "worker": the("worker")}),
    Surface(
        "POST",
        "/console/people/{kind}/{worker}/sms",
        {"text": TEXT},
        parts={"kind": KIND, "worker": the("worker")},
    ),
    Surface(
        "POST",
        "/console/people/{kind}/{worker}/sms/count",
        {"text": TEXT},
        parts={"kind": KIND, "worker": the("worker")},
    ),
    Surface(
        "POST",
        "/console/people/workers/{worker}/{action}",
        {"reason": NOTE, "notes": NOTE},
        parts={"worker": the("worker"), "action": ("pause", "resume", "block", "unblock", "notes")},
    ),
    Surface(
        "GET",
        "/console/reports/",
        query={"week": ("2026-W49", "2026-12-07"), "weeks": ("4",), "site": ("LZ",)},
    ),
    Surface(
        "GET", "/console/reports/weekly.csv", query={"week": ("2026-W49",), "weeks": ("4",), "site": ("LZ",)}
    ),
    Surface("POST", "/console/language", {"lang": ("zh", "en"), "next": ("/console/jobs/",)}),
]


# -- sending ------------------------------------------------------------------------------------


FORM_TYPE = "application/x-www-form-urlencoded"


def post_signed(client: FlaskClient, runtime, path: str, data: MultiDict[str, str] | bytes):
    """POST as Twilio would, signed over the URL and the form exactly as the app will parse them."""
    options: dict[str, Any] = {"method": "POST", "path": path, "data": data}
    if isinstance(data, bytes):
        options["content_type"] = FORM_TYPE
    parsed = EnvironBuilder(base_url="http://localhost/", **options).get_request()
    signature = sign(public_url(parsed, runtime.settings.PUBLIC_BASE_URL), parsed.form)
    return client.open(headers={"X-Twilio-Signature": signature}, **options), parsed.form


def _inbound_sid(form: MultiDict[str, str]) -> str | None:
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").replace("\x00", "\ufffd").strip()[:64]
    return sid or None


def _stored(session, sid: str) -> Message | None:
    session.expire_all()
    return session.scalar(select(Message).where(Message.provider_sid == sid))


@dataclass
class Driver:
    """Sends a surface's request and checks the answer."""

    world: World
    runtime: Any
    session: Any
    errors: Errors
    webhook_client: FlaskClient
    console_client: FlaskClient
    token: str
    sent: int = 0

    def send(self, surface: Surface, parts: dict[str, str], query: MultiDict, form: MultiDict | bytes) -> int:
        url = surface.url(parts, query)
        what = f"{surface.method} {url} {form!r}"
        self.sent += 1
        with time_machine.travel(NOW, tick=False):
            if surface.path.startswith(("/sms/", "/ivr/")):
                return self._webhook(surface, url, form, what)
            if surface.method == "GET":
                return check(self.console_client.get(url), self.errors, self.runtime, what)
            if isinstance(form, bytes):
                response = self.console_client.post(url, data=form, content_type=FORM_TYPE)
                return check(response, self.errors, self.runtime, what)
            if "csrf_token" not in form:
                form = MultiDict([*form.items(multi=True), ("csrf_token", self.token)])
            return check(self.console_client.post(url, data=form), self.errors, self.runtime, what)

    def _webhook(self, surface: Surface, url: str, form: MultiDict | bytes, what: str) -> int:
        inbound = surface.path == "/sms/inbound"
        sid = _inbound_sid(form) if inbound and isinstance(form, MultiDict) else None
        seen_before = sid is not None and _stored(self.session, sid) is not None
        response, parsed = post_signed(self.webhook_client, self.runtime, url, form)
        status = check(response, self.errors, self.runtime, what)
        if inbound:
            self._check_stored(parsed, seen_before, what)
        return status

    def _check_stored(self, form: MultiDict[str, str], seen_before: bool, what: str) -> None:
        """A signed inbound SMS with a MessageSid is stored; with a sender that is a phone number, as
        received (unless that MessageSid came before: a duplicate delivery changes nothing)."""
        sid = _inbound_sid(form)
        if sid is None:
            return
        message = _stored(self.session, sid)
        assert message is not None, f"{what[:1500]}: inbound SMS {sid!r} was not stored"
        sender = (form.get("From") or "").replace("\x00", "\ufffd").strip()
        if not seen_before and try_e164(sender, self.runtime.settings.DEFAULT_REGION):
            assert message.status != MessageStatus.REJECTED, f"{what[:1500]}: {message.error_message}"


@pytest.fixture
def driver(world, app, client, runtime, session, errors) -> Driver:
    console_client = signed_in(app, world.admin)
    return Driver(world, runtime, session, errors, client, console_client, csrf_token(console_client))


def sweep(driver: Driver, surfaces: list[Surface]) -> dict[str, list[int]]:
    """Each surface with its plausible values, then each odd value in each field in turn, then every
    field repeated, then every field odd at once. Returns the statuses of the plausible requests."""
    world = driver.world
    plausible: dict[str, list[int]] = {}
    for surface in surfaces:
        for index in range(max([1] + [len(v) for v in surface.parts.values() if isinstance(v, tuple)])):
            parts, query, form = surface.base(world)
            parts = {name: surface.plausible(v, world, index) or "" for name, v in surface.parts.items()}
            plausible.setdefault(surface.path, []).append(driver.send(surface, parts, query, form))
        parts, query, form = surface.base(world)
        for name in surface.parts:
            if not callable(surface.parts[name]):
                continue  # a choice (a step, an action): anything else is not routed
            for value in PATH_KILLERS:
                driver.send(surface, {**surface.base(world)[0], name: value}, query, surface.base(world)[2])
        for name in [*surface.query, *surface.fields]:
            for value in KILLERS:
                parts, query, form = surface.base(world)
                target = query if name in surface.query else form
                target[name] = value
                driver.send(surface, parts, query, form)
        parts, query, form = surface.base(world)
        doubled = MultiDict([*form.items(multi=True), *((name, KILLERS[4]) for name in form)])
        driver.send(surface, parts, query, doubled)
        for value in ALL_AT_ONCE:
            parts, query, form = surface.base(world)
            form = MultiDict({name: value for name in form})
            query = MultiDict({name: value for name in query})
            driver.send(surface, parts, query, form)
    return plausible


# Plausible requests answered 4xx on purpose (every other one is done: the odd values reach the work).
REFUSED_ANYWAY = {
    "/console/tickets/{ticket}/reread": "its plausible text is as unreadable as the ticket's own",
    "/console/tickets/{ticket}/name": "a voicemail's ticket has no recorded name to type",
}


def check_reached(plausible: dict[str, list[int]]) -> None:
    refused = {path: codes for path, codes in plausible.items() if min(codes) >= 400}
    assert refused.keys() <= REFUSED_ANYWAY.keys(), f"plausible requests refused: {refused}"


def test_every_webhook_takes_each_odd_value_in_each_field(driver):
    check_reached(sweep(driver, WEBHOOKS))
    # Raw bytes that are not UTF-8 in the body: the form reads as empty.
    for surface in WEBHOOKS:
        parts, query, _ = surface.base(driver.world)
        body = b"MessageSid=SM%x&CallSid=CA1&From=%%2B8613800138000&Body=\xff\xfe\xed\xa0\x80" % next(_sids)
        driver.send(surface, parts, query, body)


def test_every_console_form_takes_each_odd_value_in_each_field(driver):
    check_reached(sweep(driver, CONSOLE))
    for surface in CONSOLE:
        if surface.method == "POST":
            for token in ["字", HUGE, "a\x00b", ""]:
                parts, query, form = surface.base(driver.world)
                assert (
                    driver.send(surface, parts, query, MultiDict([*form.items(), ("csrf_token", token)]))
                    == 400
                )
            parts, query, form = surface.base(driver.world)
            body = (
                urlencode([*form.items(multi=True), ("csrf_token", driver.token)]).encode() + b"&x=\xff\xfe"
            )
            driver.send(surface, parts, query, body)


# SMS bodies that carry odd numbers where the dialogues read numbers.
BODIES = [
    HUGE,
    "一" * 4301,
    "三" * 4301 + "元",
    "1 " + HUGE,
    HUGE + " 1 5",
    "123 " + HUGE,
    "取消 " + HUGE,
    "转 " + HUGE + " 13800138000",
    "转 123 " + HUGE,
    "注册 水电工 太西 " + HUGE + " 张三",
    "注册 水电工 太西 " + "三" * 4301 + " 张三",
    "招 水电工 " + HUGE + "人 明天 300元 太西",
    "招 水电工 2人 明天 " + HUGE + "元 太西",
    "招 水电工 2人 " + HUGE + "月" + HUGE + "日 300元 太西",
    "招 水电工 2人 明天 " + HUGE + "点 " + HUGE + "天 300元 太西",
    "招 水电工 2人 明天 " + "五" * 4301 + "元 太西",
    "2147483648",
    "1 2147483648",
    "\x00",
    "1\x00",
]
# Dialogues that then ask for a number: registration step by step, a job request missing its pay.
DIALOGUES = [
    ["注册"],
    ["注册", "1"],
    ["注册", "1", "1"],
    ["注册", "水电工 太西 300 张三"],
    ["招 水电工 2人 明天 太西"],
]


def test_sms_bodies_with_odd_numbers_are_stored_and_answered(driver):
    world = driver.world
    inbound = WEBHOOKS[0]
    senders = itertools.count(1)

    def text(body: str, sender: str) -> None:
        parts, query, form = inbound.base(world)
        form["Body"], form["From"] = body, sender
        driver.send(inbound, parts, query, form)

    for body in BODIES:
        for sender in (f"+86139{next(senders):08d}", world.worker_phone, world.employer_phone):
            text(body, sender)
    for dialogue in DIALOGUES:
        for body in [HUGE, "一" * 4301, "三" * 4301 + "元", "-1", "0", "2147483648", "a\x00b"]:
            sender = f"+86139{next(senders):08d}"
            for said in dialogue:
                text(said, sender)
            text(body, sender)


# -- random mixtures ----------------------------------------------------------------------------


@st.composite
def requests(draw: st.DrawFn, surfaces: list[Surface], world: World):
    surface = draw(st.sampled_from(surfaces))
    parts = {}
    for name, values in surface.parts.items():
        if callable(values):
            parts[name] = draw(st.one_of(st.just(values(world)), st.sampled_from(PATH_KILLERS)))
        else:
            parts[name] = draw(st.sampled_from(values))

    def fill(fields: dict[str, Any]) -> MultiDict[str, str]:
        values: MultiDict[str, str] = MultiDict()
        for name, plausible in fields.items():
            for _ in range(draw(st.sampled_from([1, 1, 1, 0, 2]))):
                choices = [plausible(world)] if callable(plausible) else [c for c in plausible if c]
                values.add(name, draw(st.one_of(st.sampled_from(choices), odd) if choices else odd))
        for _ in range(draw(st.integers(0, 1))):
            values.add(draw(st.sampled_from(["", "\x00", "x" * 300, "Extra", "字"])), draw(odd))
        return values

    return surface, parts, fill(surface.query), fill(surface.fields)


@settings(FUZZ, max_examples=100)
@given(data=st.data())
def test_random_odd_webhooks(data, driver):
    surface, parts, query, form = data.draw(requests(WEBHOOKS, driver.world))
    driver.send(surface, parts, query, form)


@settings(FUZZ, max_examples=100)
@given(data=st.data())
def test_random_odd_console_forms(data, driver):
    surface, parts, query, form = data.draw(requests(CONSOLE, driver.world))
    if data.draw(st.integers(0, 9)) == 0:
        form.add("csrf_token", data.draw(odd))  # a wrong token, maybe not even ASCII: refused, never a 500
    driver.send(surface, parts, query, form)


# -- signing in ---------------------------------------------------------------------------------

SIGN_IN = Surface(
    "POST",
    "/console/sign-in",
    {"username": ("fuzz-admin",), "password": (PASSWORD,), "next": ("/console/jobs/",)},
)


def test_the_sign_in_form_takes_each_odd_value_in_each_field(driver, app):
    client = app.test_client()
    signing_in = replace(driver, console_client=client, token=csrf_token(client))
    check_reached(sweep(signing_in, [SIGN_IN]))


@settings(FUZZ, max_examples=40)
@given(
    form=st.fixed_dictionaries(
        {},
        optional={
            "username": st.one_of(st.just("fuzz-admin"), odd),
            "password": st.one_of(st.just(PASSWORD), odd),
            "next": st.one_of(st.just("/console/jobs/"), odd),
            "csrf_token": odd,
        },
    ),
    with_token=st.booleans(),
)
def test_the_sign_in_form_takes_odd_input(form, with_token, world, app, runtime, errors):
    client = app.test_client()
    data = MultiDict(form)
    if with_token and "csrf_token" not in data:
        data.add("csrf_token", csrf_token(client))
    with time_machine.travel(NOW, tick=False):
        check(client.post("/console/sign-in", data=data), errors, runtime, f"POST /console/sign-in {data!r}")
        query = {key: value for key, value in form.items() if key == "next"}
        check(client.get("/console/sign-in", query_string=query), errors, runtime, f"GET sign-in {query!r}")


@pytest.mark.parametrize("path", ["/console/sign-in", "/console/language"])
def test_a_newline_in_next_is_not_a_5xx(path, world, app):
    """Found by the fuzz: a newline in `next` made the redirect's Location header raise (a 500)."""
    client = app.test_client()
    data = {"username": "fuzz-admin", "password": PASSWORD, "next": "/console/\nx", "lang": "en"}
    with time_machine.travel(NOW, tick=False):
        if path == "/console/language":
            client = signed_in(app, world.admin)
        response = client.post(path, data={**data, "csrf_token": csrf_token(client)})
    assert response.status_code < 500


# -- what the fuzz found, one test each -----------------------------------------------------------


def quiet(errors: Errors, runtime) -> None:
    assert not errors.take()
    assert not runtime.spool.has_pending()


def test_a_delivery_report_for_an_id_beyond_32_bits_is_ignored(client, runtime, seeded, errors):
    for m in ["2147483648", "9999999999", HUGE]:
        response, _ = post_signed(
            client, runtime, f"/sms/status?m={m}", MultiDict({"MessageStatus": "delivered"})
        )
        assert response.status_code == 200
        quiet(errors, runtime)  # it was a DataError, and the report went to the spool for ever


def test_a_voice_webhook_with_nul_is_answered_and_the_call_stored(client, runtime, session, seeded, errors):
    form = {"CallSid": "CA\x00nul", "From": "+86138\x000138000", "CallStatus": "ring\x00ing"}
    response, _ = post_signed(client, runtime, "/ivr/voice", MultiDict(form))
    assert response.status_code == 200 and "<Gather" in response.get_data(as_text=True)  # the menu
    quiet(errors, runtime)  # it was the outage apology, and the call was not stored at all
    call = session.scalar(select(Call).where(Call.call_sid == "CA\ufffdnul"))
    assert call is not None and call.status == "ring\ufffding"
    for path in ["/ivr/status", "/ivr/recording", "/ivr/step/menu?t=1"]:
        assert post_signed(client, runtime, path, MultiDict(form))[0].status_code == 200
        quiet(errors, runtime)


def test_a_delivery_report_with_nul_in_its_sid_is_ignored(client, runtime, seeded, errors):
    form = MultiDict({"MessageSid": "SM\x00", "MessageStatus": "delivered"})
    assert post_signed(client, runtime, "/sms/status", form)[0].status_code == 200
    quiet(errors, runtime)


def test_an_outage_voicemail_whose_call_sid_ends_in_a_newline_is_kept(
    client, runtime, session, seeded, errors
):
    form = {"CallSid": "CAnewline\n", "From": "+8613800138000", "RecordingUrl": RECORDING}
    assert post_signed(client, runtime, "/ivr/outage/voicemail", MultiDict(form))[0].status_code == 200
    quiet(errors, runtime)  # it was an AssertionError: the call was stored stripped, then looked up as sent
    call = session.scalar(select(Call).where(Call.call_sid == "CAnewline"))
    assert call is not None
    ticket = session.scalar(select(Ticket).where(Ticket.call_sid == call.call_sid))
    assert ticket is not None and ticket.kind == TicketKind.VOICEMAIL


@pytest.mark.parametrize(
    ("sender", "said", "body"),
    [
        ("new", [], "注册 水电工 太西 " + HUGE + " 张三"),  # the one-shot registration's pay
        ("new", [], "注册 水电工 太西 " + "三" * 4301 + "元 张三"),
        ("new", [], "一" * 4301),  # Chinese digits, read one by one
        ("new", ["注册", "水电工"], HUGE),  # the town's number
        ("new", ["注册", "水电工"], "2147483648"),  # a town's number beyond the id range
        ("employer", [], "招 水电工 " + HUGE + "人 明天 300元 太西"),  # a job request's numbers
        ("employer", [], "招 水电工 2人 明天 8点 300元 太西 " + HUGE),
    ],
    ids=["registration-pay", "chinese-pay", "chinese-digits", "town", "town-id", "job-headcount", "job-bare"],
)
def test_an_sms_with_a_huge_number_is_read_as_no_number(
    sender, said, body, client, runtime, session, seeded, errors
):
    phone = "+8613912340000"
    if sender == "employer":
        Market(session).employer(phone=phone)
        commit(runtime, session)
    for text in [*said, body]:
        text_in(client, text, sender=phone)
        quiet(errors, runtime)  # int() refused 4,301 digits, or PostgreSQL a 33-bit id: a failed text
    assert not session.scalars(select(Ticket).where(Ticket.kind == TicketKind.FAILED_SMS)).all()


def test_a_huge_pay_in_the_registration_dialogue_is_asked_again(client, runtime, session, seeded, errors):
    for said in ["注册", "水电工", "太西", HUGE]:
        text_in(client, said, sender="+8613912340001")
        quiet(errors, runtime)
    assert session.scalar(select(Conversation).where(Conversation.phone == "+8613912340001")).step == "pay"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/console/intake/job", "headcount"),
        ("/console/intake/job", "start"),
        ("/console/intake/job", "days"),
        ("/console/intake/job", "pay"),
        ("/console/intake/job", "site"),
        ("/console/intake/worker", "min_pay"),
        ("/console/intake/worker", "site"),
        ("/console/intake/worker", "years"),
    ],
)
def test_a_huge_number_in_an_intake_form_is_a_form_error(path, field, driver):
    surface = next(s for s in CONSOLE if s.path == path)
    parts, query, form = surface.base(driver.world)
    form[field] = HUGE
    assert driver.send(surface, parts, query, form) == 422  # it was a ValueError: a 500


def test_a_csrf_token_that_is_not_ascii_is_refused(driver):
    response = driver.console_client.post("/console/language", data={"lang": "en", "csrf_token": "字"})
    assert response.status_code == 400  # hmac.compare_digest raised TypeError: a 500
