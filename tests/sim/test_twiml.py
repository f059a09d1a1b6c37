"""The simulator reads TwiML generically: each verb the IVR uses, driven against a hand-written fake app
that answers canned TwiML (so no IVR flow is assumed)."""

from __future__ import annotations

import pytest

from dispatch.sim.services import PhoneCall, Posted, flask_poster
from dispatch.sim.twiml import SimError, gathered, parse

ROOT = "http://sim.test"


class FakeApp:
    """Answers each URL with the TwiML given for it, and records what was posted."""

    def __init__(self, pages: dict[str, str]) -> None:
        self.pages = pages
        self.posted: list[tuple[str, str, dict[str, str]]] = []

    def __call__(self, method: str, url: str, params: dict[str, str]) -> Posted:
        self.posted.append((method, url, params))
        path = url.removeprefix(ROOT).split("?")[0]
        return Posted(200, self.pages.get(path, "<Response/>"))

    def paths(self) -> list[str]:
        return [url.removeprefix(ROOT) for _, url, _ in self.posted]


def twiml(body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'


def call(pages: dict[str, str]) -> tuple[PhoneCall, FakeApp]:
    app = FakeApp(pages)
    recordings: dict[str, str] = {}

    def store(sid: str, text: str) -> str:
        recordings[sid] = text
        return f"{ROOT}/rec/{sid}"

    return PhoneCall(post=app, root=ROOT, call_sid="CA1", phone="+8613900000001", store_recording=store), app


def test_say_play_pause_are_shown_and_a_redirect_is_followed_to_a_gather() -> None:
    phone, app = call(
        {
            "/ivr/voice": twiml(
                '<Say language="cmn-CN" voice="Polly.Zhiyu">你好</Say><Play>http://sim.test/a.mp3</Play>'
                '<Pause length="2"/><Redirect method="POST">next</Redirect>'
            ),
            "/ivr/next": twiml(
                '<Gather action="/ivr/keys" numDigits="3" finishOnKey="*" timeout="9">'
                '<Say language="en-US">Three keys</Say></Gather>'
            ),
        }
    )
    screen = phone.dial()
    shown = [event for event in screen.events if event["kind"] != "request"]
    assert shown == [
        {"kind": "say", "text": "你好", "language": "cmn-CN", "voice": "Polly.Zhiyu"},
        {"kind": "play", "url": "http://sim.test/a.mp3", "loop": 1},
        {"kind": "pause", "length": 2},
        {"kind": "say", "text": "Three keys", "language": "en-US", "voice": ""},
    ]
    # The redirect's relative URL is resolved against the document's own URL.
    assert app.paths() == ["/ivr/voice", "/ivr/next"]
    assert app.posted[0][2]["CallStatus"] == "ringing" and app.posted[1][2]["CallStatus"] == "in-progress"
    assert screen.wait == {
        "kind": "gather",
        "index": 0,
        "num_digits": 3,
        "finish_on_key": "*",
        "timeout": 9,
        "action": "/ivr/keys",
    }
    assert screen.url == f"{ROOT}/ivr/next"
    after = phone.press(screen.twiml, screen.url, 0, "12345")
    assert app.posted[-2][1] == f"{ROOT}/ivr/keys" and app.posted[-2][2]["Digits"] == "123"
    # Out of verbs: the call ends, and the status callback hears it.
    assert after.wait == {"kind": "ended", "reason": "end"}
    assert app.paths()[-1] == "/ivr/status" and app.posted[-1][2]["CallStatus"] == "completed"


def test_a_silent_gather_without_action_on_empty_result_goes_on_with_the_next_verb() -> None:
    page = twiml('<Gather action="/ivr/g" numDigits="1"/><Say>Goodbye</Say><Hangup/>')
    phone, app = call({"/ivr/voice": page})
    screen = phone.dial()
    after = phone.press(screen.twiml, screen.url, 0, "", timed_out=True)
    assert [event["kind"] for event in after.events] == ["timeout", "say", "request"]
    assert "/ivr/g" not in app.paths() and after.wait["reason"] == "hangup"


def test_a_silent_gather_with_action_on_empty_result_posts_no_digits() -> None:
    page = twiml('<Gather action="/ivr/g" numDigits="1" actionOnEmptyResult="true"/>')
    phone, app = call({"/ivr/voice": page, "/ivr/g": twiml("<Hangup/>")})
    screen = phone.dial()
    phone.press(screen.twiml, screen.url, 0, "", timed_out=True)
    method, url, params = app.posted[1]
    assert (method, url) == ("POST", f"{ROOT}/ivr/g") and "Digits" not in params


def test_no_keys_and_no_timeout_is_refused() -> None:
    phone, _ = call({"/ivr/voice": twiml('<Gather action="/ivr/g"/>')})
    screen = phone.dial()
    with pytest.raises(SimError):
        phone.press(screen.twiml, screen.url, 0, "#")


def test_gathered_digits_follow_num_digits_and_finish_on_key() -> None:
    assert gathered("12#", None, "#") == ("12", "#")
    assert gathered("#12", None, "#") == ("12", "")  # # first is ignored; not yet finished
    assert gathered("1234", 2, "#") == ("12", "")
    assert gathered("#", 1, "") == ("#", "")  # no finish key: # is a key like any other
    assert gathered("", 1, "#") == ("", "")


def test_a_recording_posts_its_url_and_its_callbacks_and_an_empty_one_skips_the_action() -> None:
    page = twiml(
        '<Record action="/ivr/rec" maxLength="60" finishOnKey="#" transcribe="true" '
        'transcribeCallback="/ivr/recording?purpose=voicemail" recordingStatusCallback="/ivr/recording"/>'
        '<Redirect method="POST">/ivr/again</Redirect>'
    )
    phone, app = call({"/ivr/voice": page, "/ivr/rec": twiml("<Hangup/>")})
    screen = phone.dial()
    assert screen.wait["kind"] == "record" and screen.wait["max_length"] == 60
    assert {"kind": "beep"} in screen.events
    phone.record(screen.twiml, screen.url, 0, "hello there")
    posted = {url.removeprefix(ROOT): params for _, url, params in app.posted}
    action = posted["/ivr/rec"]
    assert action["RecordingUrl"].startswith(f"{ROOT}/rec/RE") and action["RecordingDuration"] == "3"
    assert posted["/ivr/recording"]["RecordingStatus"] == "completed"
    assert posted["/ivr/recording?purpose=voicemail"]["TranscriptionText"] == "hello there"

    phone, app = call({"/ivr/voice": page})
    screen = phone.dial()
    after = phone.record(screen.twiml, screen.url, 0, "   ")
    assert after.events[0] == {"kind": "silence"}
    assert app.paths()[1] == "/ivr/again"  # Twilio skips the action of an empty recording


def test_a_redirect_loop_is_cut_off() -> None:
    phone, app = call({"/ivr/voice": twiml("<Redirect>/ivr/voice</Redirect>")})
    screen = phone.dial()
    assert screen.wait == {"kind": "ended", "reason": "error"}
    assert len(app.paths()) < 20


def test_urls_outside_the_app_are_never_posted(app) -> None:
    post = flask_poster(app, "http://localhost", "token")
    with pytest.raises(SimError):
        post("POST", "http://elsewhere.example/ivr/voice", {})
    with pytest.raises(SimError):
        post("POST", "http://localhost.example.org/ivr/voice", {})


def test_an_app_that_refuses_the_signature_cuts_the_call_off(client, seeded, app) -> None:
    phone = PhoneCall(
        post=flask_poster(app, "http://localhost", "not-the-apps-token"),
        root="http://localhost",
        call_sid="CA2",
        phone="+8613900000001",
    )
    screen = phone.dial()
    assert [event["status"] for event in screen.events if event["kind"] == "request"] == [403, 403]
    assert screen.wait == {"kind": "ended", "reason": "error"}


def test_not_twiml_is_refused() -> None:
    with pytest.raises(SimError):
        parse("<html></html>")
    with pytest.raises(SimError):
        parse("not xml")
