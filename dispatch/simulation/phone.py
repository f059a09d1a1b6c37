"""The synthetic people's phones, on the phone simulator's Twilio (dispatch.sim.services): webhooks
signed with the app's auth token as Twilio signs them, posted to the real app in-process, and calls
that follow the TwiML the app answers (each <Gather> or <Record> says where the next keys go), as a
phone on Twilio would.
"""

from __future__ import annotations

import itertools
from urllib.parse import urljoin, urlsplit

from flask import Flask

from dispatch.sim.services import SMS_PATH, PhoneCall, Posted, Screen, flask_poster, inbound_sms

BASE_URL = "http://localhost"  # the test client's root, which the app rebuilds and checks signatures on
HUNG_UP_AFTER = 90  # seconds: the call's length the status callback reports when the caller hangs up


class Phones:
    """Posts signed webhooks and keeps the record the report checks: every inbound SMS and call the
    simulation sent, and every webhook that did not answer 200."""

    def __init__(self, app: Flask, auth_token: str) -> None:
        self._poster = flask_poster(app, BASE_URL, auth_token)
        self.sms_sids: list[str] = []
        self.call_sids: list[str] = []
        self.errors: list[str] = []
        self._sms_numbers = itertools.count(1)
        self._call_numbers = itertools.count(1)

    def post(self, method: str, url: str, params: dict[str, str]) -> Posted:
        """One webhook to an absolute URL under BASE_URL; an answer other than 200 is recorded."""
        posted = self._poster(method, url, params)
        if posted.status != 200:
            self.errors.append(f"{posted.status} {url}")
        return posted

    def text(self, phone: str, body: str) -> None:
        """An SMS from `phone` to the service, as Twilio posts it."""
        sid = f"SM{next(self._sms_numbers):032x}"
        self.sms_sids.append(sid)
        self.post("POST", BASE_URL + SMS_PATH, inbound_sms(phone, body, sid=sid))

    def call(self, phone: str) -> VoiceCall:
        sid = f"CA{next(self._call_numbers):032x}"
        self.call_sids.append(sid)
        return VoiceCall(PhoneCall(post=self.post, root=BASE_URL, call_sid=sid, phone=phone))

    def ringing(self, phone: str, sid: str, status_callback: str) -> VoiceCall:
        """A call the market placed to `phone` (its sid from the call transport), about to be picked up
        (VoiceCall.answer) or not (VoiceCall.no_answer)."""
        callback = urljoin(BASE_URL + "/", status_callback)
        call = PhoneCall(
            post=self.post, root=BASE_URL, call_sid=sid, phone=phone, outbound=True, status_callback=callback
        )
        return VoiceCall(call)


class VoiceCall:
    """One phone call to the voice menu: dial, then keys or silence where the last TwiML gathers."""

    def __init__(self, call: PhoneCall) -> None:
        self._call = call
        self._screen = Screen()  # where the call has got to: the TwiML, its URL, what it waits for

    @property
    def sid(self) -> str:
        return self._call.call_sid

    def dial(self) -> None:
        self._screen = self._call.dial()

    def answer(self, url: str) -> None:
        """Picked up: the TwiML of the URL the call was placed with (relative to the app's root)."""
        self._screen = self._call.answer(urljoin(BASE_URL + "/", url))

    def no_answer(self) -> None:
        self._screen = self._call.no_answer()

    @property
    def ended(self) -> bool:
        return self._screen.wait.get("kind") == "ended"

    @property
    def step(self) -> str:
        """The voice menu's step the next keys answer ("" when the call is over or went to an agent)."""
        wait = self._screen.wait
        if wait.get("kind") not in {"gather", "record"}:
            return ""
        return urlsplit(wait["action"]).path.rsplit("/", 1)[-1]

    @property
    def records(self) -> bool:
        return self._screen.wait.get("kind") == "record"

    def press(self, digits: str) -> None:
        self._screen = self._call.press(*self._waiting("gather"), digits)

    def skip_recording(self) -> None:
        """Nothing said: Twilio skips the <Record>'s action and goes on with the verb after it."""
        self._screen = self._call.record(*self._waiting("record"), "")

    def hang_up(self, duration: int = HUNG_UP_AFTER) -> None:
        """The caller hangs up: Twilio's status callback says the call completed (it said so already
        if the app's TwiML ended the call)."""
        if self._screen.wait.get("kind") != "ended":
            self._screen = self._call.hang_up(duration=duration)

    def _waiting(self, kind: str) -> tuple[str, str, int]:
        """The TwiML, its URL and the index of the verb waiting for the caller's `kind` of input."""
        wait = self._screen.wait
        if wait.get("kind") != kind:
            raise RuntimeError(f"call {self.sid} waits for no {kind}")
        return self._screen.twiml, self._screen.url, wait["index"]
