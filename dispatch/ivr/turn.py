"""One webhook's turn of a call: the call's state, the TwiML being built, and how steps are declared.

A step has an `ask` (the prompt and the <Gather> or <Record> that posts back to the step) and an
`answer` (what the keys mean). An answer returns the next step's name, or INVALID / TIMEOUT (the engine
re-prompts, then hands over to an agent), or DONE when it has built the rest of the response itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from twilio.twiml import TwiML
from twilio.twiml.voice_response import Gather, VoiceResponse

from dispatch.ivr import prompts
from dispatch.models import Call
from dispatch.settings import Settings

INVALID, TIMEOUT, DONE = "!invalid", "!timeout", "!done"
PAST = "!past"  # a start time that has already gone by: re-prompted like a wrong key, with its own reason
RETRY_PROMPTS = {TIMEOUT: "no_input", INVALID: "invalid_input", PAST: "time_passed"}
GATHER_TIMEOUT = 6  # seconds of silence after the prompt (Twilio's default is 5)
ENTRY_TIMEOUT = 8  # a number ended by #: callers type slowly
# The steps of each flow, in order; the last one reads everything back.
FLOW_STEPS = {
    "job": ("trade", "headcount", "date", "hour", "days", "pay", "area", "describe", "review"),
    "register": ("trade", "area", "min_pay", "name", "reg_review"),
}


@dataclass
class Turn:
    session: Session
    settings: Settings
    call: Call
    base_url: str
    form: Mapping[str, str] = field(default_factory=dict)
    response: VoiceResponse = field(default_factory=VoiceResponse)

    @property
    def language(self) -> str:
        return self.call.language

    def url(self, path: str, **query: Any) -> str:
        """An absolute URL under the public base (PUBLIC_BASE_URL, else the request's own root)."""
        return f"{self.base_url}{path}" + (f"?{urlencode(query)}" if query else "")

    def step_url(self, step: str) -> str:
        """Where an answer to `step` goes; the turn in it tells a repeated or stale delivery apart."""
        return self.url(f"/ivr/step/{step}", t=self.call.turn)

    def say(self, prompt: str, parent: TwiML | None = None, /, **context: Any) -> None:
        target = self.response if parent is None else parent
        prompts_url = self.url("/ivr/prompts")
        prompts.add(target, prompt, self.language, prompts_url, self.settings.PROMPTS_DIR, **context)

    def gather(
        self,
        step: str,
        retry: str = "",
        *,
        num_digits: int | None = 1,
        finish_on_key: str = "",
        timeout: int = GATHER_TIMEOUT,
    ) -> Gather:
        """A <Gather> posting to `step` even on silence, with the re-prompt's reason spoken first; the
        <Redirect> after it is the way on should a gateway ignore actionOnEmptyResult."""
        gather = self.response.gather(
            action=self.step_url(step),
            method="POST",
            input="dtmf",
            timeout=timeout,
            finish_on_key=finish_on_key,
            num_digits=num_digits,
            action_on_empty_result=True,
        )
        self.response.redirect(self.step_url(step), method="POST")
        if retry:
            self.say(RETRY_PROMPTS.get(retry, "invalid_input"), gather)
        return gather

    def entry(self, step: str, retry: str) -> Gather:
        """A number of any length ended by # (or by a pause)."""
        return self.gather(step, retry, num_digits=None, finish_on_key="#", timeout=ENTRY_TIMEOUT)

    def record(self, step: str, max_length: int, timeout: int) -> None:
        """Record the caller at `step`, ended by # or by silence. Twilio skips the action of an empty
        recording and goes on to the next verb: the redirect posts the same step without a
        RecordingUrl, which asks again."""
        self.response.record(
            action=self.step_url(step),
            method="POST",
            max_length=max_length,
            timeout=timeout,
            finish_on_key="#",
            play_beep=True,
        )
        self.response.redirect(self.step_url(step), method="POST")

    def recording_url(self) -> str:
        return recording_url(self.form)

    def keep(self, **values: Any) -> None:
        """Add answers (the JSON column is replaced, never mutated in place, so the change is saved)."""
        self.call.answers = {**self.call.answers, **values}

    def drop(self, *keys: str) -> None:
        self.call.answers = {k: v for k, v in self.call.answers.items() if k not in keys}


def recording_url(form: Mapping[str, str]) -> str:
    """The URL of the recording a Twilio request carries ("" when none), cut to the column's size."""
    return (form.get("RecordingUrl") or "").strip()[:500]


@dataclass(frozen=True)
class Step:
    ask: Callable[[Turn, str], None]
    answer: Callable[[Turn, str], str]


def after(turn: Turn, step: str) -> str:
    """The step after `step` in the call's flow; straight back to the read-back when one answer was
    being changed."""
    order = FLOW_STEPS[turn.call.flow]
    if turn.call.answers.get("_changing"):
        turn.drop("_changing")
        return order[-1]
    return order[order.index(step) + 1]


def entry_step(name: str, low: int, high: int, key: str) -> Step:
    """A number ended by #, kept under `key` when it lies in [low, high]."""

    def ask(turn: Turn, retry: str) -> None:
        turn.say(name, turn.entry(name, retry), low=low, high=high)

    def answer(turn: Turn, digits: str) -> str:
        value = number(digits, low, high)
        if isinstance(value, str):
            return value
        turn.keep(**{key: value})
        return after(turn, name)

    return Step(ask, answer)


def number(digits: str, low: int, high: int) -> int | str:
    """Keyed digits as a number in [low, high]; TIMEOUT when nothing was keyed, else INVALID."""
    if not digits:
        return TIMEOUT
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 9:
        return INVALID
    value = int(digits)
    return value if low <= value <= high else INVALID
