"""The synthetic people's phones: Twilio-shaped webhooks, signed with the app's auth token as Twilio
signs them, posted to the real app through Flask's test client. A call follows the TwiML the app
answers (each <Gather> or <Record> says where the next keys go), as a phone on Twilio would.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from flask import Flask
from twilio.request_validator import RequestValidator

BASE_URL = "http://localhost"  # the test client's root, which the app rebuilds and checks signatures on
SERVICE_NUMBER = "+8610690000"
ACCOUNT_SID = "AC" + "5" * 32


class Phones:
    """Posts signed webhooks and keeps the record the report checks: every inbound SMS and call the
    simulation sent, and every webhook that did not answer 200."""

    def __init__(self, app: Flask, auth_token: str) -> None:
        self.client = app.test_client()
        self.validator = RequestValidator(auth_token)
        self.sms_sids: list[str] = []
        self.call_sids: list[str] = []
        self.errors: list[str] = []
        self._sms_numbers = itertools.count(1)
        self._call_numbers = itertools.count(1)

    def post(self, url: str, params: dict[str, str]) -> str:
        """POST to an absolute URL under BASE_URL; the response body ("" after an error, recorded)."""
        if not url.startswith(BASE_URL + "/"):
            raise ValueError(f"{url} is not one of the app's own URLs")
        signature = self.validator.compute_signature(url, params)
        response = self.client.post(
            url[len(BASE_URL) :], data=params, headers={"X-Twilio-Signature": signature}
        )
        if response.status_code != 200:
            self.errors.append(f"{response.status_code} {url}")
            return ""
        return response.get_data(as_text=True)

    def text(self, phone: str, body: str) -> None:
        """An SMS from `phone` to the service, as Twilio posts it."""
        sid = f"SM{next(self._sms_numbers):032x}"
        self.sms_sids.append(sid)
        params = {
            "MessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": phone,
            "To": SERVICE_NUMBER,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
        }
        self.post(f"{BASE_URL}/sms/inbound", params)

    def call(self, phone: str) -> VoiceCall:
        sid = f"CA{next(self._call_numbers):032x}"
        self.call_sids.append(sid)
        return VoiceCall(self, phone, sid)


class VoiceCall:
    """One phone call to the voice menu: dial, then keys or silence where the last TwiML gathers."""

    def __init__(self, phones: Phones, phone: str, sid: str) -> None:
        self.phones = phones
        self.phone = phone
        self.sid = sid
        self.twiml = ""

    def _params(self, status: str = "in-progress", **extra: str) -> dict[str, str]:
        return {
            "CallSid": self.sid,
            "AccountSid": ACCOUNT_SID,
            "From": self.phone,
            "To": SERVICE_NUMBER,
            "CallStatus": status,
            "Direction": "inbound",
            **extra,
        }

    def _post(self, url: str, params: dict[str, str]) -> None:
        self.twiml = self.phones.post(url, params)

    def dial(self) -> None:
        self._post(f"{BASE_URL}/ivr/voice", self._params("ringing"))

    def _waiting(self) -> ET.Element | None:
        """The <Gather> or <Record> the call waits at, if any."""
        if not self.twiml:
            return None
        for element in ET.fromstring(self.twiml):
            if element.tag in {"Gather", "Record"} and element.get("action"):
                return element
        return None

    @property
    def step(self) -> str:
        """The voice menu's step the next keys answer ("" when the call is over or went to an agent)."""
        element = self._waiting()
        return urlsplit(element.get("action", "")).path.rsplit("/", 1)[-1] if element is not None else ""

    @property
    def records(self) -> bool:
        element = self._waiting()
        return element is not None and element.tag == "Record"

    def press(self, digits: str) -> None:
        element = self._waiting()
        if element is None:
            raise RuntimeError(f"call {self.sid} waits for no keys")
        self._post(element.get("action", ""), self._params(Digits=digits))

    def skip_recording(self) -> None:
        """Nothing said: Twilio skips the <Record>'s action and follows the <Redirect> after it."""
        redirect = ET.fromstring(self.twiml).find("Redirect")
        if redirect is None or not redirect.text:
            raise RuntimeError(f"call {self.sid} has no way on past its recording")
        self._post(redirect.text, self._params())

    def hang_up(self) -> None:
        """The caller hangs up: Twilio's status callback says the call completed."""
        self.phones.post(f"{BASE_URL}/ivr/status", self._params("completed", CallDuration="90"))
