"""Every setting of the service, read from the environment, with the defaults of a first run.

Operators and our own checks rely on these names; `create_app(config)` and `Settings.load(overrides)`
take overrides by the same names.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

import phonenumbers

from dispatch.i18n import market_zone

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_AUTH_TOKEN = "dev-auth-token"  # development only: the simulator and tests sign with it
DEV_PUSH_SECRET = "dev-carrier-push-secret"  # development only: the simulated carrier pushes there
DEV_SECRET_KEY = "dev-secret-key-not-for-production"
DEV_ACCOUNT_SID = "ACdevelopment00000000000000000000"
# Every secret printed in the README, config/example.env or this code is public: production refuses them
# (tests/test_settings.py scans the README and example.env, so a new example cannot slip past this list).
KNOWN_SECRETS = frozenset(
    {
        DEV_AUTH_TOKEN,
        DEV_PUSH_SECRET,
        DEV_SECRET_KEY,
        "change-me-to-a-long-random-string",  # config/example.env
        "x" * 32,  # config/example.env's TWILIO_AUTH_TOKEN
    }
)
KNOWN_ACCOUNT_SIDS = frozenset({DEV_ACCOUNT_SID, "AC" + "x" * 32})  # the development one, example.env's
# A Twilio auth token is 32 characters; a SECRET_KEY from `secrets.token_urlsafe(32)` is 43.
MIN_SECRET_LENGTH = 32
# Fewer distinct characters than this is a placeholder (xxxx..., 0000...), whatever its length.
MIN_SECRET_DISTINCT = 8
MAKE_A_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


SMS_TRANSPORTS = frozenset({"outbox", "twilio", "aliyun", "routed"})
# werkzeug.security's methods: scrypt[:n:r:p] or pbkdf2[:hash[:iterations]].
PASSWORD_HASH_METHODS = re.compile(r"scrypt(:\d+:\d+:\d+)?|pbkdf2(:sha(1|224|256|384|512)(:\d+)?)?")


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the service refuses to start."""


def _default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'instance' / 'dispatch.sqlite3'}"


def _parse_bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def parse_quiet_hours(value: str, name: str = "QUIET_HOURS") -> tuple[time, time] | None:
    """`21:00-08:00` -> (21:00, 08:00); empty or `off` disables quiet hours."""
    value = value.strip()
    if not value or value.lower() in {"off", "none"}:
        return None
    try:
        start_text, end_text = value.split("-")
        start = time.fromisoformat(start_text.strip())
        end = time.fromisoformat(end_text.strip())
    except ValueError as exc:
        raise SettingsError(f"{name} must look like 21:00-08:00, not {value!r}") from exc
    return start, end


def parse_clock_time(value: str, name: str) -> time | None:
    """`09:00` -> 09:00; raises SettingsError on anything else."""
    try:
        return time.fromisoformat(value.strip())
    except ValueError as exc:
        raise SettingsError(f"{name} must be a time like 09:00, not {value!r}") from exc


@dataclass(frozen=True)
class Settings:
    DISPATCH_ENV: str = "development"
    SECRET_KEY: str = ""
    DATABASE_URL: str = field(default_factory=_default_database_url)
    # Production refuses SQLite (the default DATABASE_URL is the first run's file) unless this is set: a
    # one-machine pilot where PostgreSQL cannot be had. SQLite serialises every write.
    ALLOW_SQLITE_IN_PRODUCTION: bool = False
    REDIS_URL: str = "embedded"
    SMS_TRANSPORT: str = "outbox"
    TWILIO_ACCOUNT_SID: str = DEV_ACCOUNT_SID
    TWILIO_AUTH_TOKEN: str = ""
    TWILIO_FROM_NUMBER: str = ""
    TWILIO_MESSAGING_SERVICE_SID: str = ""
    TWILIO_API_BASE_URL: str = ""
    # -- Alibaba Cloud SMS (SMS_TRANSPORT=aliyun: mainland China's carriers, templates only) ------------
    # A RAM user's AccessKey allowed dysms:SendSms and dysms:QuerySendDetails; the approved signature
    # (签名, without 【】); the API's host (another one for a staging or test server: http://host:port).
    ALIYUN_ACCESS_KEY_ID: str = ""
    ALIYUN_ACCESS_KEY_SECRET: str = ""
    ALIYUN_SMS_SIGN_NAME: str = ""
    ALIYUN_SMS_ENDPOINT: str = "dysmsapi.aliyuncs.com"
    # Delivery reports and replies (上行) are pushed to /sms/aliyun/<ALIYUN_PUSH_SECRET>/report|uplink,
    # from these addresses or networks only (the carrier signs nothing: the secret and the address are
    # what we have).
    ALIYUN_PUSH_SECRET: str = ""
    ALIYUN_PUSH_ALLOW_FROM: str = ""
    # A first run only (SMS_TRANSPORT=outbox, no PUBLIC_BASE_URL): the service sends as through the carrier
    # and the phone simulator plays it (dispatch/sim/carrier.py: templates checked, replies and delivery
    # reports pushed to the endpoints above, per-number limits kept). Ignored anywhere else.
    SIM_CARRIER: bool = False
    # -- routing, failover and per-number limits (SMS_TRANSPORT=routed: dispatch/sms/routing.py) ---------
    # Which providers a destination goes to, first choice first: `cn` (mainland China mobiles, +86 1...)
    # and `*` (every other number). A text the carrier has no template for goes to the next one.
    SMS_ROUTES: str = "cn=aliyun,twilio;*=twilio"
    # A provider is failing when, of its attempts in the last SMS_FAILOVER_WINDOW_SECONDS (at least
    # SMS_FAILOVER_MIN_ATTEMPTS of them), this share failed (no answer, unreachable, 5xx): its messages go
    # to the next provider of their route for SMS_FAILOVER_COOLDOWN_SECONDS, then one probe tries it again.
    SMS_FAILOVER_WINDOW_SECONDS: int = 120
    SMS_FAILOVER_MIN_ATTEMPTS: int = 4
    SMS_FAILOVER_ERROR_RATE: float = 0.5
    SMS_FAILOVER_COOLDOWN_SECONDS: int = 300
    # Per-number limits over any 24 hours, kept before sending (a text over one waits for the next
    # allowed moment; 0: no limit). Alibaba Cloud: 50 notifications per number per signature and
    # template; Twilio to mainland China: 3 identical texts are rejected, 5 different ones held a day.
    SMS_LIMIT_ALIYUN_PER_TEMPLATE: int = 50
    SMS_LIMIT_TWILIO_CN: int = 4
    SMS_LIMIT_TWILIO_CN_IDENTICAL: int = 2
    PUBLIC_BASE_URL: str = ""
    # The market's number as the public sees it (the hall screen, /jobs, /j/<code>): workers text
    # `1 <code>` to it or call it. Empty: TWILIO_FROM_NUMBER (with aliyun, set it: the SMS sender is the
    # carrier's 1069 number, not the line people call).
    MARKET_NUMBER: str = ""
    DEFAULT_REGION: str = "CN"
    MARKET_TIMEZONE: str = "Asia/Shanghai"
    QUIET_HOURS: str = "21:00-08:00"
    # Offers for a job that quiet hours would hold past its start (less than MIN_LEAD_MINUTES before it)
    # may still go inside these hours (market time), and its workers' reminders too: a job phoned in at
    # 21:47 for 07:00 gets offers at once, one phoned in at 23:30 gets them from 06:00. `off`: never.
    URGENT_HOURS: str = "06:00-22:00"
    # An offer must reach a worker at least this long before the start it is for, or it is not sent and
    # an agent takes the job at once; an offer lapses at the latest half this long before the start.
    MIN_LEAD_MINUTES: int = 30
    # Reminders to each placed worker (dispatch/matching/reminders.py): at this local time the evening
    # before the job (never in quiet hours), and this many minutes before its start (in quiet hours only
    # inside URGENT_HOURS). 0 minutes: no reminder before the start.
    REMINDER_EVENING_TIME: str = "19:00"
    REMINDER_BEFORE_MINUTES: int = 90
    # Messages per second per sender number; a long code manages about 1 segment/s.
    SMS_SEND_RATE: float = 1.0
    # Longest a send job waits in-process for its rate slot before it reschedules itself.
    SMS_MAX_RATE_WAIT: float = 5.0
    SMS_MAX_ATTEMPTS: int = 6
    # How often unrelayed outbox rows are relayed (after a Redis outage: the web processes leave their
    # rows to this for up to 10 s after an error), and how young a row is left to its own request.
    OUTBOX_SWEEP_SECONDS: int = 5
    OUTBOX_SWEEP_GRACE_SECONDS: int = 5
    CONFIG_DIR: str = str(PROJECT_ROOT / "config")
    SMS_SIGNATURE_ZH: str = "潞州零工"
    SMS_SIGNATURE_EN: str = "Luzhou Jobs"
    # Dialogues (registration) older than this start afresh.
    CONVERSATION_TTL_HOURS: int = 72
    EMBEDDED_WORKER: bool = True
    # Phone intake (IVR): agents answer calls in these hours (market time); outside them, voicemail.
    OPENING_HOURS: str = "08:00-18:00"
    # -- the live call center (dispatch/callcenter/) ---------------------------------------------------
    # A caller waits this long for the agents of their own site, then the town's join, and after as
    # long again the district's.
    CALL_OVERFLOW_SECONDS: int = 60
    # After this long on hold (and not yet taken by an agent) the caller leaves a voicemail instead.
    # More than twice CALL_OVERFLOW_SECONDS, so a village caller is offered to the district before.
    HOLD_LIMIT_SECONDS: int = 180
    # An agent whose console sent no heartbeat for this long (closed, asleep, idle) is set away.
    CONSOLE_IDLE_SECONDS: int = 300
    # The softphone (Twilio Voice JavaScript SDK): an API key and secret sign its access tokens, the
    # TwiML App's Voice URL is the service's /voice/agent; tokens live this many seconds.
    TWILIO_API_KEY: str = ""
    TWILIO_API_SECRET: str = ""
    TWILIO_TWIML_APP_SID: str = ""
    VOICE_TOKEN_TTL_SECONDS: int = 600
    # Audio files named after a prompt (e.g. main_menu.mp3) replace its spoken text.
    PROMPTS_DIR: str = str(PROJECT_ROOT / "config" / "prompts")
    # Matching: fair (rotation, the default), greedy (best fit only) or lottery (random among eligible).
    MATCHING_POLICY: str = "fair"
    # A worker who says yes when a job is full waits on standby for a place that reopens.
    STANDBY_ENABLED: bool = True
    # How many proxies in front of the app set X-Forwarded-For (0: none); the console's sign-in
    # throttle and audit log then see the agent's address, not the proxy's.
    TRUSTED_PROXIES: int = 0
    # Monitoring: /readyz and /metrics answer requests from these addresses or networks, and anywhere
    # with `Authorization: Bearer <METRICS_TOKEN>` (dispatch/ops/access.py).
    METRICS_ALLOW_FROM: str = "127.0.0.1,::1"
    METRICS_TOKEN: str = ""
    # How agents' passwords are hashed (werkzeug's method names): scrypt, the only one production
    # accepts; the test suite uses a cheap pbkdf2:sha256:1000 (scrypt costs 0.1-0.6 s a hash or a check,
    # on purpose, paid by every test that signs an agent in). A stored hash names its own method, so
    # hashes made under another setting still check.
    PASSWORD_HASH_METHOD: str = "scrypt"
    # -- after the job ------------------------------------------------------------------------------
    # Follow-ups (回访) go at this local time the morning after a placement's last working day; no
    # answer after FOLLOW_UP_REMINDER_HOURS: one reminder; none after FOLLOW_UP_TICKET_HOURS more: an
    # agent's ticket to call.
    FOLLOW_UP_TIME: str = "09:00"
    FOLLOW_UP_REMINDER_HOURS: int = 24
    FOLLOW_UP_TICKET_HOURS: int = 24
    # A place given back (or a job called off) less than this many hours before its start is a late
    # cancellation: it weighs like a no-show in the worker's reliability (and is counted on employers).
    LATE_CANCEL_HOURS: int = 12
    # Passing an offer to a friend (`转 123 138…`): at most this many a worker a day, and at most
    # FORWARDS_TO_NUMBER_PER_DAY to any one number a day, so it cannot be used to spam.
    FORWARDS_PER_DAY: int = 3
    FORWARDS_TO_NUMBER_PER_DAY: int = 2
    # A number that never texted us is invited to register (by a forward) at most once in this many days,
    # unless it has texted us since: strangers' numbers must not get a stream of invitations.
    FORWARD_INVITE_DAYS: int = 90
    # Day insurance (零工日险): `register` keeps the enrolments here and the insurer takes the daily CSV
    # (`dispatch insurance export --date D`); references are PREFIX-YYMMDD-NNNNNN.
    INSURANCE_PROVIDER: str = "register"
    INSURANCE_REFERENCE_PREFIX: str = "LZ"
    # -- when something breaks -----------------------------------------------------------------------
    # Signed SMS webhooks (and a voice call's voicemail) that arrive while the database cannot take them
    # are written here, one fsynced file each, and replayed in arrival order once it can.
    SPOOL_DIR: str = str(PROJECT_ROOT / "instance" / "spool")
    # PostgreSQL: seconds to connect, and the longest a statement or a row lock may take. The client
    # also gives up on a server that answers nothing (hung) a second after the statement timeout.
    DATABASE_CONNECT_TIMEOUT: float = 2.0
    DATABASE_STATEMENT_TIMEOUT: float = 5.0
    DATABASE_LOCK_TIMEOUT: float = 3.0
    # Seconds the Twilio client waits for an answer. No answer is not "not sent": the message is looked
    # up at the provider SEND_RECONCILE_AFTER seconds later, and sent again only if it is not there.
    TWILIO_HTTP_TIMEOUT: float = 10.0
    SEND_RECONCILE_AFTER: int = 15
    # A message handed to the provider whose outcome nobody recorded this long lost its worker.
    SEND_LEASE_SECONDS: int = 30
    # A relayed job, due, not done this long after its relay, whose RQ job is gone, is relayed again.
    LOST_JOB_SECONDS: int = 30

    @classmethod
    def load(cls, overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> Settings:
        environ = dict(os.environ if environ is None else environ)
        overrides = overrides or {}
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in overrides:
                value = overrides[f.name]
                values[f.name] = _coerce(f.type, value, f.name) if isinstance(value, str) else value
            elif f.name in environ and environ[f.name] != "":
                values[f.name] = _coerce(f.type, environ[f.name], f.name)
        settings = cls(**values)
        settings.check()
        return settings.with_development_defaults()

    @property
    def is_production(self) -> bool:
        return self.DISPATCH_ENV == "production"

    @property
    def embedded_redis(self) -> bool:
        return self.REDIS_URL == "embedded"

    @property
    def is_first_run(self) -> bool:
        """A service on one machine that sends no real SMS and that Twilio cannot reach: where the
        development token, the phone simulator and the demo data are safe."""
        return not self.is_production and self.SMS_TRANSPORT == "outbox" and not self.PUBLIC_BASE_URL

    @property
    def follow_up_time(self) -> time:
        parsed = parse_clock_time(self.FOLLOW_UP_TIME, "FOLLOW_UP_TIME")
        assert parsed is not None
        return parsed

    @property
    def quiet_hours(self) -> tuple[time, time] | None:
        return parse_quiet_hours(self.QUIET_HOURS)

    @property
    def urgent_hours(self) -> tuple[time, time] | None:
        return parse_quiet_hours(self.URGENT_HOURS, "URGENT_HOURS")

    @property
    def reminder_evening_time(self) -> time:
        parsed = parse_clock_time(self.REMINDER_EVENING_TIME, "REMINDER_EVENING_TIME")
        assert parsed is not None
        return parsed

    def check(self) -> None:
        if self.DISPATCH_ENV not in {"development", "production", "test"}:
            raise SettingsError("DISPATCH_ENV must be development, production or test")
        if self.SMS_TRANSPORT not in SMS_TRANSPORTS:
            raise SettingsError("SMS_TRANSPORT must be outbox, twilio, aliyun or routed")
        self._check_aliyun()
        self._check_routing()
        parse_quiet_hours(self.QUIET_HOURS)
        parse_quiet_hours(self.OPENING_HOURS, "OPENING_HOURS")  # same shape: HH:MM-HH:MM
        if parse_clock_time(self.FOLLOW_UP_TIME, "FOLLOW_UP_TIME") is None:
            raise SettingsError("FOLLOW_UP_TIME must be a time like 09:00")
        self._check_in_time()
        for name in ("CALL_OVERFLOW_SECONDS", "CONSOLE_IDLE_SECONDS", "HOLD_LIMIT_SECONDS"):
            if not 0 < getattr(self, name) <= 3600:
                raise SettingsError(f"{name} must be a number of seconds above zero (at most 3600)")
        if self.CALL_OVERFLOW_SECONDS * 2 >= self.HOLD_LIMIT_SECONDS:
            # A village caller reaches the district's agents after two overflow waits: before the hold
            # ends, or a market staffed at the district could never answer a village caller.
            raise SettingsError("CALL_OVERFLOW_SECONDS times 2 must be less than HOLD_LIMIT_SECONDS")
        if not 60 <= self.VOICE_TOKEN_TTL_SECONDS <= 3600:
            raise SettingsError("VOICE_TOKEN_TTL_SECONDS must be 60-3600 (a softphone token's life)")
        for name in ("FOLLOW_UP_REMINDER_HOURS", "FOLLOW_UP_TICKET_HOURS", "FORWARDS_PER_DAY"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1")
        if not PASSWORD_HASH_METHODS.fullmatch(self.PASSWORD_HASH_METHOD):
            raise SettingsError("PASSWORD_HASH_METHOD must be scrypt, or pbkdf2:sha256:N outside production")
        if self.INSURANCE_PROVIDER not in {"register"}:
            raise SettingsError("INSURANCE_PROVIDER must be register")
        # The reference goes into the worker's confirmation SMS, whose length budget counts 4 letters.
        if not re.fullmatch(r"[A-Za-z]{1,4}", self.INSURANCE_REFERENCE_PREFIX):
            raise SettingsError("INSURANCE_REFERENCE_PREFIX must be 1-4 letters A-Z, like LZ")
        if self.MATCHING_POLICY not in {"fair", "greedy", "lottery", "adaptive"}:
            raise SettingsError("MATCHING_POLICY must be fair, greedy, lottery or adaptive")
        try:
            from dispatch.ops.access import parse_networks

            parse_networks(self.METRICS_ALLOW_FROM)
        except ValueError as exc:
            raise SettingsError(f"METRICS_ALLOW_FROM must list addresses or networks: {exc}") from exc
        for name in ("DATABASE_CONNECT_TIMEOUT", "DATABASE_STATEMENT_TIMEOUT", "DATABASE_LOCK_TIMEOUT"):
            if not 0 < getattr(self, name) <= 600:
                raise SettingsError(f"{name} must be a number of seconds above zero (at most 600)")
        if not 0 < self.TWILIO_HTTP_TIMEOUT <= 120:
            raise SettingsError("TWILIO_HTTP_TIMEOUT must be a number of seconds above zero (at most 120)")
        # Lost-send detection must not mistake a send still waiting for Twilio's answer (to connect, then
        # to answer: the timeout applies to each) for a dead one.
        if self.SEND_LEASE_SECONDS <= 2 * self.TWILIO_HTTP_TIMEOUT:
            raise SettingsError("SEND_LEASE_SECONDS must be longer than twice TWILIO_HTTP_TIMEOUT")
        # RQ fails a job of a dead worker as abandoned a minute after its timeout: find it first.
        if self.LOST_JOB_SECONDS > 40:
            raise SettingsError("LOST_JOB_SECONDS must be at most 40")
        for name in ("SEND_RECONCILE_AFTER", "LOST_JOB_SECONDS"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1")
        if not 0 < self.SMS_SEND_RATE < 10_000:  # also refuses nan and inf, which would lift the limit
            raise SettingsError("SMS_SEND_RATE must be a number of messages a second above zero")
        try:
            market_zone(self)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(f"MARKET_TIMEZONE {self.MARKET_TIMEZONE!r} is not a time zone") from exc
        if self.DEFAULT_REGION not in phonenumbers.SUPPORTED_REGIONS:
            raise SettingsError(f"DEFAULT_REGION {self.DEFAULT_REGION!r} is not a region code like CN")
        if self.is_production:
            self._check_production()
        if self.sends_with_twilio:
            if not (self.TWILIO_FROM_NUMBER or self.TWILIO_MESSAGING_SERVICE_SID):
                raise SettingsError(
                    "SMS_TRANSPORT=twilio needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID"
                )
            if not self.PUBLIC_BASE_URL:
                # Twilio needs an absolute status callback URL on every message.
                raise SettingsError("SMS_TRANSPORT=twilio needs PUBLIC_BASE_URL (where Twilio reaches us)")

    @property
    def sends_with_twilio(self) -> bool:
        return self.SMS_TRANSPORT == "twilio" or (
            self.SMS_TRANSPORT == "routed" and "twilio" in self.sms_routes.providers()
        )

    @property
    def sends_with_aliyun(self) -> bool:
        return (
            self.SMS_TRANSPORT == "aliyun"
            or (self.SMS_TRANSPORT == "routed" and "aliyun" in self.sms_routes.providers())
            or self.sim_carrier
        )

    @property
    def sim_carrier(self) -> bool:
        """The phone simulator plays the carrier (SIM_CARRIER on a first run)."""
        return self.SIM_CARRIER and self.is_first_run

    @property
    def sms_routes(self) -> Routes:
        return parse_routes(self.SMS_ROUTES)

    def _check_routing(self) -> None:
        routes = self.sms_routes  # raises SettingsError when malformed
        if "aliyun" in routes.other:
            raise SettingsError("SMS_ROUTES: aliyun sends to mainland China numbers only (not in `*=`)")
        for name in ("SMS_FAILOVER_WINDOW_SECONDS", "SMS_FAILOVER_MIN_ATTEMPTS"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1")
        for name in ("SMS_FAILOVER_COOLDOWN_SECONDS",):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1")
        if not 0 < self.SMS_FAILOVER_ERROR_RATE <= 1:
            raise SettingsError("SMS_FAILOVER_ERROR_RATE must be a share above 0, at most 1 (0.5: half)")
        for name in ("SMS_LIMIT_ALIYUN_PER_TEMPLATE", "SMS_LIMIT_TWILIO_CN", "SMS_LIMIT_TWILIO_CN_IDENTICAL"):
            if getattr(self, name) < 0:
                raise SettingsError(f"{name} must be a number of texts (0: no limit)")

    def _check_in_time(self) -> None:
        """Urgent hours, the lead an offer needs and the reminders' times (dispatch/matching/in_time.py)."""
        urgent = parse_quiet_hours(self.URGENT_HOURS, "URGENT_HOURS")
        if urgent is not None and urgent[0] == urgent[1]:
            raise SettingsError("URGENT_HOURS must be a window like 06:00-22:00 (or off), not an empty one")
        if not 0 <= self.MIN_LEAD_MINUTES <= 720:
            raise SettingsError("MIN_LEAD_MINUTES must be 0-720 (minutes before a job's start)")
        if not 0 <= self.REMINDER_BEFORE_MINUTES <= 720:
            raise SettingsError("REMINDER_BEFORE_MINUTES must be 0-720 (minutes before a job's start)")
        evening = parse_clock_time(self.REMINDER_EVENING_TIME, "REMINDER_EVENING_TIME")
        quiet = self.quiet_hours
        if evening is not None and quiet is not None and _inside(evening, quiet):
            raise SettingsError(
                f"REMINDER_EVENING_TIME {self.REMINDER_EVENING_TIME} is in QUIET_HOURS {self.QUIET_HOURS}: "
                "the evening reminder would wait for the morning"
            )

    def _check_aliyun(self) -> None:
        try:
            from dispatch.ops.access import parse_networks

            parse_networks(self.ALIYUN_PUSH_ALLOW_FROM)
        except ValueError as exc:
            raise SettingsError(f"ALIYUN_PUSH_ALLOW_FROM must list addresses or networks: {exc}") from exc
        endpoint = self.ALIYUN_SMS_ENDPOINT.strip()
        if not re.fullmatch(r"(https?://)?[A-Za-z0-9.\-\[\]:]+", endpoint):
            raise SettingsError(
                "ALIYUN_SMS_ENDPOINT must be a host (dysmsapi.aliyuncs.com) or http(s)://host:port"
            )
        if not self.sends_with_aliyun or self.sim_carrier:
            return  # the simulated carrier needs no account (with_development_defaults sets its push)
        missing = [
            name
            for name in (
                "ALIYUN_ACCESS_KEY_ID",
                "ALIYUN_ACCESS_KEY_SECRET",
                "ALIYUN_SMS_SIGN_NAME",
                "ALIYUN_PUSH_SECRET",
                "ALIYUN_PUSH_ALLOW_FROM",
            )
            if not getattr(self, name).strip()
        ]
        if missing:
            raise SettingsError(f"SMS_TRANSPORT=aliyun needs {', '.join(missing)}")
        # The secret is the push endpoints' only credential, and it sits in a URL path.
        if not re.fullmatch(r"[A-Za-z0-9_\-]{16,128}", self.ALIYUN_PUSH_SECRET):
            raise SettingsError(
                "ALIYUN_PUSH_SECRET must be 16-128 letters, digits, - or _ (it goes in a URL); "
                f"make one with {MAKE_A_SECRET}"
            )
        if self.is_production and weak_secret(self.ALIYUN_PUSH_SECRET):
            raise SettingsError(
                f"production refuses this ALIYUN_PUSH_SECRET: {weak_secret(self.ALIYUN_PUSH_SECRET)}; "
                f"make one with {MAKE_A_SECRET}"
            )
        if self.is_production:
            self._check_carrier_templates()

    def _check_carrier_templates(self) -> None:
        """Production sends only with the codes the carrier approved: a placeholder (SMS_OFFER_ZH_1) would
        be refused on every text (tests and a first run may use them)."""
        from dispatch.sms.carrier_templates import REGISTRY_FILE, RegistryError, load_registry

        where = Path(self.CONFIG_DIR) / REGISTRY_FILE
        try:
            registry = load_registry(self.CONFIG_DIR)
        except (RegistryError, ValueError) as exc:
            raise SettingsError(f"{where} is malformed: {exc}") from exc
        if not registry.entries:
            raise SettingsError(f"SMS_TRANSPORT=aliyun needs the carrier's templates in {where}")
        placeholders = registry.placeholder_codes()
        if placeholders:
            listed = ", ".join(placeholders[:3]) + (
                f" and {len(placeholders) - 3} more" if len(placeholders) > 3 else ""
            )
            raise SettingsError(
                f"production refuses placeholder template codes in {where} ({listed}): fill in the code "
                "the carrier's console gave each template once approved (`dispatch sms templates` lists them)"
            )

    def _check_production(self) -> None:
        """Nothing public or guessable in production: no known or short secret, no SQLite by accident."""
        missing = [name for name in ("SECRET_KEY", "TWILIO_AUTH_TOKEN") if not getattr(self, name)]
        if missing:
            raise SettingsError(f"production refuses to start without {', '.join(missing)}")
        remedies = {
            "SECRET_KEY": f"make one with {MAKE_A_SECRET}",
            "TWILIO_AUTH_TOKEN": "set the account's auth token from the Twilio console",
        }
        if self.METRICS_TOKEN:
            remedies["METRICS_TOKEN"] = f"make one with {MAKE_A_SECRET}, or leave it empty"
        for name, remedy in remedies.items():
            problem = weak_secret(getattr(self, name))
            if problem:
                raise SettingsError(f"production refuses this {name}: {problem}; {remedy}")
        if self.sends_with_twilio and self.TWILIO_ACCOUNT_SID in KNOWN_ACCOUNT_SIDS:
            which = (
                "unset (the development one)"
                if self.TWILIO_ACCOUNT_SID == DEV_ACCOUNT_SID
                else "a placeholder"
            )
            raise SettingsError(
                f"production refuses to start without TWILIO_ACCOUNT_SID: it is {which}; "
                "set the account's SID (AC...) from the Twilio console"
            )
        if self.PASSWORD_HASH_METHOD != "scrypt":
            raise SettingsError("production refuses a PASSWORD_HASH_METHOD other than scrypt")
        if _is_sqlite(self.DATABASE_URL) and not self.ALLOW_SQLITE_IN_PRODUCTION:
            raise SettingsError(
                "production refuses a SQLite DATABASE_URL (the default is the first run's file); set "
                "DATABASE_URL=postgresql://..., or ALLOW_SQLITE_IN_PRODUCTION=1 for a one-machine pilot"
            )
        if self.embedded_redis:
            # Each process would hold its own in-memory queue: jobs would be stranded.
            raise SettingsError("production needs a real REDIS_URL, not the embedded one")

    def with_development_defaults(self) -> Settings:
        """A first run gets a fixed, well-known secret and signing token. Only a first run: a service
        that sends real SMS or is reachable at a public URL must be given its own, or it would accept
        webhooks forged with the token printed in the README."""
        if self.is_production:
            return self
        if not self.TWILIO_AUTH_TOKEN and not self.is_first_run:
            raise SettingsError(
                "TWILIO_AUTH_TOKEN is required with SMS_TRANSPORT=twilio or a PUBLIC_BASE_URL"
            )
        changes: dict[str, Any] = {}
        if not self.SECRET_KEY:
            changes["SECRET_KEY"] = DEV_SECRET_KEY
        if not self.TWILIO_AUTH_TOKEN:
            changes["TWILIO_AUTH_TOKEN"] = DEV_AUTH_TOKEN
        if self.sim_carrier:
            # The simulated carrier pushes from this machine, to the well-known development secret.
            changes["ALIYUN_PUSH_SECRET"] = self.ALIYUN_PUSH_SECRET or DEV_PUSH_SECRET
            changes["ALIYUN_PUSH_ALLOW_FROM"] = self.ALIYUN_PUSH_ALLOW_FROM or "127.0.0.1,::1"
            changes["ALIYUN_SMS_SIGN_NAME"] = self.ALIYUN_SMS_SIGN_NAME or self.SMS_SIGNATURE_ZH
        if not changes:
            return self
        return type(self)(**{**self.__dict__, **changes})


ROUTABLE = ("aliyun", "twilio", "outbox")


@dataclass(frozen=True)
class Routes:
    """SMS_ROUTES: the providers of mainland China mobiles and of every other number, first choice first."""

    cn: tuple[str, ...]
    other: tuple[str, ...]

    def providers(self) -> set[str]:
        return set(self.cn) | set(self.other)


def parse_routes(value: str) -> Routes:
    """`cn=aliyun,twilio;*=twilio` -> Routes(cn=("aliyun", "twilio"), other=("twilio",))."""
    found: dict[str, tuple[str, ...]] = {}
    for part in filter(None, (piece.strip() for piece in value.split(";"))):
        key, _, names = part.partition("=")
        providers = tuple(name.strip() for name in names.split(",") if name.strip())
        key = key.strip()
        if key not in {"cn", "*"} or key in found or not providers:
            raise SettingsError(f"SMS_ROUTES must look like cn=aliyun,twilio;*=twilio, not {value!r}")
        unknown = [name for name in providers if name not in ROUTABLE]
        if unknown or len(set(providers)) != len(providers):
            known = ", ".join(ROUTABLE)
            raise SettingsError(f"SMS_ROUTES names each provider once, among {known}: {value!r}")
        found[key] = providers
    if set(found) != {"cn", "*"}:
        raise SettingsError(f"SMS_ROUTES must give both cn= and *=, not {value!r}")
    return Routes(cn=found["cn"], other=found["*"])


def weak_secret(value: str) -> str:
    """Why `value` must not be a production secret, or "" if it may be."""
    if value in KNOWN_SECRETS:
        return "it is printed in the README, config/example.env or the code"
    if len(value) < MIN_SECRET_LENGTH:
        return f"it is shorter than {MIN_SECRET_LENGTH} characters"
    if len(set(value)) < MIN_SECRET_DISTINCT:
        return "it is a placeholder (too few different characters)"
    return ""


def _inside(moment: time, window: tuple[time, time]) -> bool:
    """Whether a clock time falls in a HH:MM-HH:MM window (one past midnight too); the end is outside."""
    start, end = window
    if start == end:
        return False
    return start <= moment < end if start < end else moment >= start or moment < end


def _is_sqlite(url: str) -> bool:
    return url.split(":", 1)[0].split("+", 1)[0].strip().lower() == "sqlite"


def _coerce(kind: Any, raw: str, name: str) -> Any:
    kind = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            return _parse_bool(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a {kind}, not {raw!r}") from exc
    return raw
