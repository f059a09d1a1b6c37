"""The people's side of the follow-ups (回访) in a simulated day: they read the texts the service sends
(their placements, give-backs and offers, the follow-up questions and the answers to their answers)
and answer after a while, as aftercare.py has them behave. What they sent and saw is kept
(FollowUpRecord) for the report to check against what the service recorded.

Nothing here reads the database: a worker knows their job's code and employer from the confirmation
text, an employer knows who came from the texts naming each worker, as real people do.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from dispatch.simulation import aftercare
from dispatch.simulation.market import Market

PLACED_CODE = re.compile(r"岗位(\d+)已确认")
EMPLOYER_PHONE = re.compile(r"雇主(?:\S* )?(1[\d ]{9,12}\d)")
CREW_CODE = re.compile(r"岗位(\d+)（")
CREW_MEMBER = re.compile(r"([^：；。\s]+) (1\d\d ?\d{4} ?\d{4})")
GIVEN_BACK = re.compile(r"已为您取消岗位(\d+)")
QUESTION_CODE = re.compile(r"岗位(\d+)（")  # the worker's question and reminder: `岗位123（小工…`
NEXT_CODE = re.compile(r"岗位(\d+)的")  # `请给岗位123的雇主打分` / `岗位123的工钱结清了吗`
WHICH_CODES = re.compile(r"待回访：([\d、]+)")
RATE_WORKER = re.compile(r"岗位(\d+)第(\d+)位工人(.*?)(?:干得怎样|还没评分)")
OFFER_KINDS = frozenset({"offer", "offer.reopened"})
NOT_UNDERSTOOD = frozenset({"followup.retry", "followup.which", "followup.already"})
LONG_AGO = datetime.min.replace(tzinfo=UTC)
Action = Callable[[], None]


def e164(shown: str) -> str:
    """A number as the texts show it (`137 0000 0001`) as the phone book has it."""
    return "+86" + "".join(ch for ch in shown if ch.isdigit())[-11:]


@dataclass
class FollowUpRecord:
    """What the people saw and did about their placements and follow-ups."""

    placed: dict[tuple[str, str], datetime] = field(default_factory=dict)  # (worker phone, code)
    given_back: dict[tuple[str, str], datetime] = field(default_factory=dict)  # confirmed give-backs
    answers: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # -> (paid, stars)
    ratings: dict[tuple[str, int], int] = field(default_factory=dict)  # (code, seq) -> stars
    # Answers the service asked to have again with their job number ("which job?"), not yet sent
    # again: when the run ends first, the answer is in flight, not lost.
    asked_again: set[tuple[str, str]] = field(default_factory=set)


class FollowUpPeople:
    """Reads every text as its person's phone gets it; plans and sends their answers."""

    def __init__(
        self,
        market: Market,
        seed: int,
        at: Callable[[datetime, Action], None],
        send: Callable[[str, str], bool],
        behaviour: Counter[str],
    ) -> None:
        self.at = at
        self.send = send  # False when the person sends nothing any more (opted out)
        self.behaviour = behaviour
        self.specs = {spec.phone: spec for spec in market.workers}
        self.workers = aftercare.workers(market.workers, seed)
        self.employers = {spec.phone: aftercare.employer_traits(seed, spec) for spec in market.employers}
        self.record = FollowUpRecord()
        self._last_offer: dict[str, datetime] = {}
        self._asked: dict[tuple[str, str], datetime] = {}
        self._plans: dict[tuple[str, str], aftercare.Answer | None] = {}
        self._rating_planned: set[tuple[str, int]] = set()
        self._crews: dict[str, list[tuple[str, str]]] = {}  # code -> (name, phone) as the employer saw

    def reads(self, phone: str, kind: str, body: str, sent_at: datetime) -> None:
        if phone in self.workers:
            self._worker_reads(phone, kind, body, sent_at)
        elif phone in self.employers:
            self._employer_reads(phone, kind, body, sent_at)

    # -- workers ----------------------------------------------------------------------------------

    def _worker_reads(self, phone: str, kind: str, body: str, sent_at: datetime) -> None:
        if kind in OFFER_KINDS:
            self._last_offer[phone] = sent_at
        elif kind == "placement.worker" and (match := PLACED_CODE.search(body)):
            shown = EMPLOYER_PHONE.search(body)
            self.workers[phone].placed(match.group(1), e164(shown.group(1)) if shown else None)
            self.record.placed.setdefault((phone, match.group(1)), sent_at)
        elif kind == "match.cancel_ok" and (match := GIVEN_BACK.search(body)):
            self.record.given_back[(phone, match.group(1))] = sent_at
        elif kind in {"followup.worker", "followup.reminder_worker"} and (
            match := QUESTION_CODE.search(body)
        ):
            self._asked_worker(phone, match.group(1), sent_at)
        elif kind == "followup.next" and (match := NEXT_CODE.search(body)) and "打分" in body:
            self._stars_asked(phone, match.group(1), sent_at)
        elif kind == "followup.which" and (match := WHICH_CODES.search(body)):
            self.behaviour["followup_not_understood"] += 1
            for code in match.group(1).split("、"):
                if (plan := self._plans.get((phone, code))) is not None:
                    full = aftercare.Answer(plan.paid, plan.stars, "coded", plan.delay)
                    self.record.asked_again.add((phone, code))
                    self._later(sent_at, phone, code, full, minutes=1)
        elif kind in NOT_UNDERSTOOD:
            self.behaviour["followup_not_understood"] += 1

    def _asked_worker(self, phone: str, code: str, sent_at: datetime) -> None:
        key = (phone, code)
        if key in self._plans:
            return  # a reminder of a question already decided on
        worker = self.workers[phone]
        placement = worker.placements.get(code)
        employer = self.employers.get(placement.employer_phone or "") if placement else None
        plan = worker.answer(code, employer)
        self._plans[key] = plan
        self._asked[key] = sent_at
        if plan is None:
            self.behaviour["followup_silent_workers"] += 1
            return
        self._later(sent_at, phone, code, plan, minutes=None)

    def _later(
        self, sent_at: datetime, phone: str, code: str, plan: aftercare.Answer, minutes: float | None
    ) -> None:
        delay = plan.delay if minutes is None else timedelta(minutes=minutes)
        self.at(sent_at + delay, lambda: self._worker_answers(phone, code, plan))

    def _offer_since(self, phone: str, code: str) -> bool:
        return self._last_offer.get(phone, LONG_AGO) > self._asked[(phone, code)]

    def _worker_answers(self, phone: str, code: str, plan: aftercare.Answer) -> None:
        text = aftercare.first_text(plan, code, self._offer_since(phone, code))
        self.record.asked_again.discard((phone, code))
        if not self.send(phone, text):
            return
        self.behaviour["followup_answers"] += 1
        if plan.paid != 1:
            self.behaviour["followup_unpaid"] += 1
        if plan.form == "steps":
            self.behaviour["followup_steps"] += 1
        else:
            self.record.answers[(phone, code)] = (plan.paid, plan.stars)

    def _stars_asked(self, phone: str, code: str, sent_at: datetime) -> None:
        """Step by step: the service asks for the stars next."""
        plan = self._plans.get((phone, code))
        if plan is None or plan.form != "steps" or (phone, code) in self.record.answers:
            return

        def answer() -> None:
            if self.send(phone, aftercare.stars_text(plan, code, self._offer_since(phone, code))):
                self.record.answers[(phone, code)] = (plan.paid, plan.stars)

        self.at(sent_at + timedelta(minutes=2), answer)

    # -- employers --------------------------------------------------------------------------------

    def _employer_reads(self, phone: str, kind: str, body: str, sent_at: datetime) -> None:
        if kind == "placement.employer" and (match := CREW_CODE.search(body)):
            crew = self._crews.setdefault(match.group(1), [])
            listed = body.split("：", 1)[-1]
            crew.extend((name, e164(shown)) for name, shown in CREW_MEMBER.findall(listed))
        elif kind in {"followup.employer", "followup.reminder_employer"} and (
            match := RATE_WORKER.search(body)
        ):
            self._asked_employer(phone, match.group(1), int(match.group(2)), match.group(3), sent_at)
        elif kind in NOT_UNDERSTOOD:
            self.behaviour["followup_not_understood"] += 1

    def _asked_employer(self, phone: str, code: str, seq: int, name: str, sent_at: datetime) -> None:
        if (code, seq) in self._rating_planned:
            return
        self._rating_planned.add((code, seq))
        traits = self.employers[phone]
        if traits.rng.random() >= traits.answer_rate:
            self.behaviour["followup_silent_employers"] += 1
            return
        worker_phone = next((p for n, p in self._crews.get(code, []) if n == name), None)
        worker = self.workers.get(worker_phone or "")
        placement = worker.placements.get(code) if worker is not None else None
        stars = aftercare.rate_worker(
            traits, self.specs.get(worker_phone or ""), placement is None or placement.came
        )

        def rate() -> None:
            if self.send(phone, f"{code} {seq} {stars}"):
                self.record.ratings[(code, seq)] = stars
                self.behaviour["followup_ratings"] += 1
                self.behaviour["followup_no_shows"] += int(stars == 0)

        self.at(sent_at + traits.rating_delay(), rate)
