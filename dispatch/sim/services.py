"""The phone simulator's Twilio: signed webhooks to the app's own routes, and TwiML read generically.

A call is driven as Twilio drives one: post the voice webhook, run the returned verbs in order (Say,
Play, Pause are shown; Redirect is followed; Gather, Record and Enqueue wait for the caller; Hangup, or
running out of verbs, ends the call and posts the status callback). Nothing here knows the IVR's steps:
every URL comes from the TwiML, except the two a Twilio number is configured with (the voice URL and
the status callback), so a change to a flow shows up with no change here.

The simulator keeps no state between requests: the browser holds the last TwiML document, its URL and
the index of the verb waiting for input, and sends them back with the caller's input.
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin

from twilio.request_validator import RequestValidator

from dispatch.sim import holding
from dispatch.sim.screen import Posted, Screen
from dispatch.sim.switchboard import Switchboard
from dispatch.sim.twiml import SimError, Verb, flag, gathered, parse, shown, to_int, waiting_for

__all__ = ["PhoneCall", "Posted", "Poster", "Screen", "flask_poster", "inbound_sms", "sign"]

log = logging.getLogger(__name__)

# What a Twilio number is configured with (the Twilio console's "a call comes in" and status callback,
# and the incoming message webhook); everything else comes from the TwiML.
VOICE_PATH = "/ivr/voice"
CALL_STATUS_PATH = "/ivr/status"
SMS_PATH = "/sms/inbound"
SERVICE_NUMBER = "+8610690000"  # the market's number as the simulator dials it (when none is set)
ACCOUNT_SID = "AC" + "5" * 32
MAX_HOPS = 12  # redirects followed in one turn before the simulator calls it a loop
QUEUE_WAIT_STEP = 60  # seconds of queue time each "wait longer" adds
RECORDING_KEY = "sim:recording:{}"
RECORDING_TTL = 30 * 24 * 3600
SPOKEN_CHARS_PER_SECOND = 4  # how long a typed "recording" would have taken to say


# (method, absolute URL, params) -> what the app answered
Poster = Callable[[str, str, dict[str, str]], Posted]


def sign(token: str, url: str, params: Mapping[str, str]) -> str:
    return RequestValidator(token).compute_signature(url, dict(params))


def flask_poster(app: Any, root: str, token: str, public_base_url: str = "") -> Poster:
    """Post to the app's own routes in-process, signed over the URL as Twilio signs it.

    `root` is where the app is reached (PUBLIC_BASE_URL, else this request's scheme, host and prefix);
    only URLs under it are posted, so TwiML can never make the simulator reach anything else."""
    root = root.rstrip("/")

    def post(method: str, url: str, params: dict[str, str]) -> Posted:
        if not url.startswith(root + "/"):
            raise SimError(f"the simulator only calls this app ({root}), not {url}")
        method = method.upper() if method.upper() in {"GET", "POST"} else "POST"
        signed = dict(params)
        if method == "GET":
            # Twilio signs a GET over the URL with its query, and no body parameters.
            url = url + ("&" if "?" in url else "?") + urlencode(params)
            signed = {}
        headers = {"X-Twilio-Signature": sign(token, url, signed)}
        # Without PUBLIC_BASE_URL the app rebuilds the signed URL from the request's own host.
        base_url = "http://localhost" if public_base_url else root
        client = app.test_client()
        path = url[len(root) :]
        if method == "GET":
            response = client.get(path, headers=headers, base_url=base_url)
        else:
            response = client.post(path, data=params, headers=headers, base_url=base_url)
        return Posted(response.status_code, response.get_data(as_text=True))

    return post


# -- a call ---------------------------------------------------------------------------------------


@dataclass
class PhoneCall:
    """One simulated call from `phone` to the service, driven by the TwiML the app answers."""

    post: Poster
    root: str
    call_sid: str
    phone: str
    to: str = SERVICE_NUMBER
    # Keeps what the caller "said" at a <Record> and answers its RecordingUrl: (sid, text) -> URL.
    store_recording: Callable[[str, str], str] = lambda sid, text: ""
    # Who waits in which queue and the lines to the softphone (the browser pages'); None: a caller
    # alone in its queue, whom nobody answers (the simulated day).
    switch: Switchboard | None = None
    # A call the market placed to `phone` (answer(), no_answer()): Twilio's webhooks then say so
    # (Direction outbound-api, From the market's number) and the call's end goes to the status
    # callback it was placed with.
    outbound: bool = False
    status_callback: str = ""

    @staticmethod
    def new_sid() -> str:
        return "CA" + secrets.token_hex(16)

    def params(self, status: str = "in-progress", **extra: str) -> dict[str, str]:
        caller, called = (self.to, self.phone) if self.outbound else (self.phone, self.to)
        return {
            "CallSid": self.call_sid,
            "AccountSid": ACCOUNT_SID,
            "From": caller,
            "To": called,
            "CallStatus": status,
            "Direction": "outbound-api" if self.outbound else "inbound",
            "ApiVersion": "2010-04-01",
            **extra,
        }

    # -- what the caller does --

    def dial(self) -> Screen:
        screen = Screen()
        url = self.root.rstrip("/") + VOICE_PATH
        return self._fetch(screen, "POST", url, self.params("ringing"))

    def answer(self, url: str) -> Screen:
        """An outbound call (`outbound`) picked up: Twilio fetches its TwiML from the URL it was
        placed with (POST, as dispatch.voice.gateway places calls) and runs it."""
        return self._fetch(Screen(), "POST", url, self.params("in-progress"))

    def no_answer(self) -> Screen:
        """An outbound call rang out unanswered: only its status callback hears of it."""
        screen = Screen()
        self._request(screen, "POST", self._status_url(), self.params("no-answer", CallDuration="0"))
        screen.wait = {"kind": "ended", "reason": "no-answer"}
        return screen

    def press(self, twiml: str, url: str, index: int, keys: str, timed_out: bool = False) -> Screen:
        """Keys on the keypad for the <Gather> at `index` (ended by numDigits, finishOnKey or the
        timeout); no digits at all is the Gather's timeout."""
        verb = self._verb(twiml, index, "Gather")
        wait = waiting_for(verb, index)
        digits, finished_on = gathered(keys, wait["num_digits"], wait["finish_on_key"])
        screen = Screen()
        if digits:
            extra = {"Digits": digits} | ({"FinishedOnKey": finished_on} if finished_on else {})
            return self._fetch(screen, *self._action(verb, url), self.params(**extra))
        if not timed_out:
            raise SimError("no digits: press a key or let the input time out")
        screen.events.append({"kind": "timeout"})
        if flag(verb.attrs.get("actionOnEmptyResult")):
            return self._fetch(screen, *self._action(verb, url), self.params())
        # Twilio goes on with the verb after the <Gather>.
        return self._run(screen, twiml, url, index + 1)

    def record(self, twiml: str, url: str, index: int, said: str) -> Screen:
        """The caller "speaks" `said` at the <Record> at `index`; nothing said is an empty recording,
        whose action Twilio skips (it goes on with the next verb)."""
        verb = self._verb(twiml, index, "Record")
        screen = Screen()
        said = said.strip()
        if not said:
            screen.events.append({"kind": "silence"})
            return self._run(screen, twiml, url, index + 1)
        sid = "RE" + secrets.token_hex(16)
        recording_url = self.store_recording(sid, said)
        max_length = to_int(verb.attrs.get("maxLength"), 3600) or 3600
        duration = str(min(max_length, max(1, math.ceil(len(said) / SPOKEN_CHARS_PER_SECOND))))
        finish = verb.attrs.get("finishOnKey", "1234567890*#")
        recording = {"RecordingUrl": recording_url, "RecordingSid": sid, "RecordingDuration": duration}
        extra = recording | ({"Digits": "#"} if "#" in finish else {"Digits": "hangup"})
        screen.events.append({"kind": "recorded", "text": said, "url": recording_url})
        method, action = self._action(verb, url)
        posted = self._request(screen, method, action, self.params(**extra))
        # The recording's own callbacks, as Twilio posts them once the file (and a transcription) is
        # ready: here before the call goes on, so that they come before the call's end.
        callback = verb.attrs.get("recordingStatusCallback")
        if callback:
            self._request(
                screen,
                verb.attrs.get("recordingStatusCallbackMethod", "POST"),
                urljoin(url, callback),
                self.params(RecordingStatus="completed", **recording),
            )
        if flag(verb.attrs.get("transcribe")) and verb.attrs.get("transcribeCallback"):
            transcript = {"TranscriptionText": said, "TranscriptionStatus": "completed"}
            self._request(
                screen,
                "POST",
                urljoin(url, verb.attrs["transcribeCallback"]),
                self.params(**recording, **transcript),
            )
        if posted is None:
            return self._end(screen, "error")
        return self._run(screen, posted.body, action, 0)

    def queue(
        self, twiml: str, url: str, index: int, outcome: str, queue_time: int = 0, seconds: int = 0
    ) -> Screen:
        """The caller waits in the agents' queue: `wait` longer (the waitUrl is asked again with the
        queue time so far plus `seconds`, a minute unless said; a <Leave> there leaves the queue) or,
        with nobody on the softphone, an agent `answer`s at once."""
        verb = self._verb(twiml, index, "Enqueue")
        screen = Screen()
        if outcome == "answer":
            if self.switch is not None:
                self.switch.leave(self.call_sid)
            screen.events.append({"kind": "agent_answered"})
            params = self.params(QueueResult="bridged", QueueTime=str(queue_time))
            return self._fetch(screen, *self._action(verb, url), params)
        if outcome != "wait":
            raise SimError(f"unknown queue outcome {outcome!r}")
        return holding.enqueue(self, screen, twiml, url, index, queue_time + (seconds or QUEUE_WAIT_STEP))

    def press_on_hold(
        self, twiml: str, url: str, index: int, hold: tuple[str, str, int], keys: str, queue_time: int
    ) -> Screen:
        """Keys for the hold music's <Gather> (`hold`: its document, URL and index)."""
        self._verb(twiml, index, "Enqueue")
        return holding.press_on_hold(self, twiml, url, index, *hold, keys, queue_time)

    def hang_up(
        self, twiml: str = "", url: str = "", index: int | None = None, duration: int = 0, queue_time: int = 0
    ) -> Screen:
        """The caller hangs up: a caller in a queue leaves it (its action hears `hangup`), and the
        number's status callback says the call completed."""
        screen = Screen()
        verbs = parse(twiml) if twiml else []
        if index is not None and 0 <= index < len(verbs) and verbs[index].name == "Enqueue":
            holding.hang_up_waiting(self, screen, verbs[index], url, queue_time)
        return self._end(screen, "hangup", duration)

    # -- the interpreter --

    def _fetch(self, screen: Screen, method: str, url: str, params: dict[str, str]) -> Screen:
        posted = self._request(screen, method, url, params)
        if posted is None:
            return self._end(screen, "error")
        return self._run(screen, posted.body, url, 0)

    def _request(self, screen: Screen, method: str, url: str, params: dict[str, str]) -> Posted | None:
        """One webhook, logged on the screen; None when the app refused it (the call cannot go on)."""
        posted = self.post(method, url, params)
        screen.events.append(
            {
                "kind": "request",
                "method": method.upper(),
                "url": url,
                "params": params,
                "status": posted.status,
            }
        )
        if posted.status != 200:
            log.warning("simulated webhook %s answered %s: %s", url, posted.status, posted.body[:200])
            screen.events.append({"kind": "error", "status": posted.status, "text": posted.body[:500]})
            return None
        return posted

    def _run(self, screen: Screen, twiml: str, url: str, start: int, hops: int = 0) -> Screen:
        """Run the document's verbs from `start` until one waits for the caller or the call ends."""
        verbs = parse(twiml)
        screen.twiml, screen.url = twiml, url
        for index in range(start, len(verbs)):
            verb = verbs[index]
            if verb.name in {"Say", "Play", "Pause"}:
                screen.events.append(shown(verb))
            elif verb.name == "Gather":
                # The nested prompts play while the keypad is open.
                screen.events.extend(shown(child) for child in verb.children)
                screen.wait = waiting_for(verb, index)
                return screen
            elif verb.name == "Record":
                if verb.attrs.get("playBeep", "true") != "false":
                    screen.events.append({"kind": "beep"})
                screen.wait = waiting_for(verb, index)
                return screen
            elif verb.name == "Enqueue":
                screen.events.append({"kind": "enqueued", "queue": verb.text})
                return holding.enqueue(self, screen, twiml, url, index, 0)
            elif verb.name == "Redirect":
                if hops >= MAX_HOPS:
                    screen.events.append({"kind": "error", "status": 0, "text": "redirect loop"})
                    return self._end(screen, "error")
                target = urljoin(url, verb.text)
                posted = self._request(screen, verb.attrs.get("method", "POST"), target, self.params())
                if posted is None:
                    return self._end(screen, "error")
                return self._run(screen, posted.body, target, 0, hops + 1)
            elif verb.name in {"Hangup", "Reject"}:
                return self._end(screen, verb.name.lower())
            else:  # Leave outside a queue, or a verb the IVR does not use: shown, skipped
                screen.events.append(shown(verb))
        # Out of verbs: Twilio hangs up.
        return self._end(screen, "end")

    def _end(self, screen: Screen, reason: str, duration: int = 0) -> Screen:
        """The call is over: the number's status callback hears `completed`, as from Twilio."""
        url = self._status_url()
        self._request(screen, "POST", url, self.params("completed", CallDuration=str(max(0, duration))))
        screen.wait = {"kind": "ended", "reason": reason}
        return screen

    def _status_url(self) -> str:
        """The call's own status callback (a call the market placed), else the number's."""
        return self.status_callback or self.root.rstrip("/") + CALL_STATUS_PATH

    @staticmethod
    def _verb(twiml: str, index: int, name: str) -> Verb:
        verbs = parse(twiml)
        if not 0 <= index < len(verbs) or verbs[index].name != name:
            raise SimError(f"no <{name}> at verb {index}")
        return verbs[index]

    @staticmethod
    def _action(verb: Verb, url: str) -> tuple[str, str]:
        """Where a verb posts its result: its action, else (Twilio's default) the document's own URL."""
        return verb.attrs.get("method", "POST"), urljoin(url, verb.attrs.get("action") or url)


def inbound_sms(phone: str, body: str, to: str = SERVICE_NUMBER, *, sid: str = "") -> dict[str, str]:
    """The form Twilio posts for an SMS from `phone` (a new MessageSid unless `sid` is given)."""
    return {
        "MessageSid": sid or "SM" + secrets.token_hex(16),
        "AccountSid": ACCOUNT_SID,
        "From": phone,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
