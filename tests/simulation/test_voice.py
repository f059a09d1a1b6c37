"""Workers who prefer voice in the simulated day (issue 16): drawn apart from the rest of the market
(whose draws stay as they were), registered as such (a landline's number as one no SMS reaches), the
phone simulator's outbound call (answered as Twilio fetches it, or ringing out), and a short day in
which they answer the market's offer calls, call the worker line and ring once, reported by channel
with the invariants at 0."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import phonenumbers
from sqlalchemy import select

from dispatch.models import Contact, Worker, WorkerStatus
from dispatch.sim.services import SERVICE_NUMBER, PhoneCall, Posted
from dispatch.simulation import output
from dispatch.simulation.channels_report import CHANNELS
from dispatch.simulation.day import DayResult
from dispatch.simulation.market import Market, build_market
from dispatch.simulation.population import register
from tests.factories import NOW
from tests.simulation.places import seeded_places

DAY = date(2026, 6, 10)
# The session's `voice_day` (days_shared.VOICE_DAY): half the workers prefer voice, so that a short day
# sees every path a voice worker takes.


def _market(session, voice_share: float, landline_share: float = 1 / 3, seed: int = 7) -> Market:
    sites, trades = seeded_places(session)
    return build_market(
        seed,
        workers=50,
        employers=6,
        jobs=20,
        day=DAY,
        timezone="Asia/Shanghai",
        sites=sites,
        trades=trades,
        voice_share=voice_share,
        landline_share=landline_share,
    )


def test_voice_workers_are_drawn_apart_and_the_rest_of_the_market_stays(session, seeded) -> None:
    plain, voiced = _market(session, 0.0), _market(session, 0.4, landline_share=0.5)
    assert voiced == _market(session, 0.4, landline_share=0.5)
    assert not any(spec.prefers_voice for spec in plain.workers)
    voice = [spec for spec in voiced.workers if spec.prefers_voice]
    landline = [spec for spec in voice if spec.landline]
    assert 0 < len(landline) < len(voice) < len(voiced.workers)
    # Everything else as without them: the same workers (but a landline's number), jobs, employers.
    assert voiced.jobs == plain.jobs and voiced.employers == plain.employers
    for before, after in zip(plain.workers, voiced.workers, strict=True):
        assert replace(after, prefers_voice=False, landline=False, phone=before.phone) == before
    for spec in landline:
        number = phonenumbers.parse(spec.phone)
        assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE
    assert len({spec.phone for spec in voiced.workers}) == len(voiced.workers)


def test_voice_workers_are_registered_preferring_voice_and_a_landline_as_undeliverable_yet_active(
    session, seeded
) -> None:
    market = _market(session, 0.5, landline_share=0.5)
    register(session, market, NOW)
    workers = {worker.phone: worker for worker in session.scalars(select(Worker))}
    undeliverable = set(session.scalars(select(Contact.phone).where(Contact.undeliverable_at.is_not(None))))
    assert {spec.phone for spec in market.workers if spec.landline} == undeliverable != set()
    for spec in market.workers:
        worker = workers[spec.phone]
        assert worker.prefers_voice == spec.prefers_voice
        # A landline takes calls: its worker stays active and is offered jobs by phone alone.
        assert worker.status == WorkerStatus.ACTIVE


class FakeTwilioApp:
    """Answers an offer call's TwiML (a Gather for 1 or 2), then goodbye; records every webhook."""

    OFFER = (
        '<Response><Gather action="/ivr/step/offer?t=1" numDigits="1"><Say>offer</Say></Gather></Response>'
    )
    BYE = "<Response><Say>bye</Say><Hangup/></Response>"

    def __init__(self) -> None:
        self.posted: list[tuple[str, dict[str, str]]] = []

    def __call__(self, method: str, url: str, params: dict[str, str]) -> Posted:
        self.posted.append((url, params))
        if url.endswith("/ivr/offer?o=7&a=1"):
            return Posted(200, self.OFFER)
        return Posted(200, self.BYE if "/ivr/step/" in url else "<Response/>")


def _outbound(app: FakeTwilioApp) -> PhoneCall:
    return PhoneCall(
        post=app,
        root="http://localhost",
        call_sid="OB1",
        phone="+8613900000001",
        outbound=True,
        status_callback="http://localhost/ivr/status?x=1",
    )


def test_an_outbound_call_is_answered_as_twilio_fetches_it_and_ends_at_its_status_callback() -> None:
    app = FakeTwilioApp()
    call = _outbound(app)
    screen = call.answer("http://localhost/ivr/offer?o=7&a=1")
    assert screen.wait["kind"] == "gather"
    screen = call.press(screen.twiml, screen.url, screen.wait["index"], "1")
    assert screen.wait == {"kind": "ended", "reason": "hangup"}
    urls = [url for url, _ in app.posted]
    assert urls == [
        "http://localhost/ivr/offer?o=7&a=1",
        "http://localhost/ivr/step/offer?t=1",
        "http://localhost/ivr/status?x=1",
    ]
    for _, params in app.posted:  # the market called the worker: from its number, to theirs
        assert params["Direction"] == "outbound-api"
        assert (params["From"], params["To"]) == (SERVICE_NUMBER, "+8613900000001")
    assert app.posted[1][1]["Digits"] == "1" and app.posted[-1][1]["CallStatus"] == "completed"


def test_an_outbound_call_nobody_picks_up_only_reaches_its_status_callback() -> None:
    app = FakeTwilioApp()
    screen = _outbound(app).no_answer()
    assert screen.wait == {"kind": "ended", "reason": "no-answer"}
    assert [(url, params["CallStatus"]) for url, params in app.posted] == [
        ("http://localhost/ivr/status?x=1", "no-answer")
    ]


def test_a_day_with_voice_workers_keeps_its_invariants_at_zero(voice_day: DayResult) -> None:
    assert set(voice_day.report["invariants"].values()) == {0}


def test_voice_workers_take_places_by_the_markets_call(voice_day: DayResult) -> None:
    report = voice_day.report
    assert report["voice_workers"] >= 1 and report["voice_landline_workers"] >= 1
    assert report["offers_to_voice_workers"] >= 1 and report["offers_to_sms_workers"] >= 1
    assert report["calls_offer_calls_placed"] >= report["calls_offer_calls_answered"] >= 1
    assert report["calls_offer_calls_missed"] >= 1
    assert report["filled_by_offer_call"] >= 1 and report["filled_by_sms"] >= 1
    assert report["calls_call_yes_keys"] >= report["filled_by_offer_call"]
    assert report["yes_after_offer_median_min_offer_call"] > 0
    # Every place taken came by one channel or another.
    assert sum(report[f"filled_by_{channel}"] for channel in CHANNELS) == report["offers_accepted"]


def test_voice_workers_take_places_on_the_worker_line(voice_day: DayResult) -> None:
    """A missed call called back, or a call to ask for work: 1 reads the offers, 1 takes the one read."""
    report = voice_day.report
    assert report["calls_worker_line_calls"] > report["calls_worker_line_calls_no_offers"]
    assert report["calls_worker_line_yes_keys"] >= report["filled_by_worker_line"] >= 1
    assert report["yes_after_offer_median_min_worker_line"] is not None


def test_voice_workers_ring_once_and_are_called_back_only_when_the_market_says_so(
    voice_day: DayResult,
) -> None:
    """Ringing once leaves no ticket when the market calls back (ring_back.py); it calls back at most
    once in RING_BACK_HOURS, counting its own offer calls, so a voice worker it has just called with
    an offer is not called back."""
    report = voice_day.report
    assert report["calls_rang_once"] >= 1
    assert report["calls_ring_back_calls_placed"] <= report["calls_rang_once_called_back"]
    assert report["filled_by_ring_back"] <= report["calls_ring_back_calls_answered"]


def test_the_table_has_the_section_by_channel(voice_day: DayResult) -> None:
    table = output.table([voice_day])
    assert "by channel (issue 16)" in table and "places taken by offer call" in table
    assert table.index("by channel") < table.index("invariants (must be 0)")
