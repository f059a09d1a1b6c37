"""The simulated people after the job: they read the follow-up texts as the service's own templates
write them, answer in forms the service's reader takes, and behave as the model says (a worker who
did not come stays silent and is rated 0; most are paid; some never answer)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from dispatch.followup.reading import read_numbers
from dispatch.i18n import render_sms as render
from dispatch.models import FollowUpParty
from dispatch.phones import display
from dispatch.simulation import aftercare
from dispatch.simulation.followups import GRACE, Owed, missing, unwarranted
from dispatch.simulation.market import Market, SiteInfo, TradeInfo, build_market
from dispatch.simulation.morning import FollowUpPeople

DAY = date(2026, 6, 10)
SIG = "零工市场"
SITE = SiteInfo(1, "town", "town", None, 1, "太行街道", 37.87, 112.55)
# Three trades at least: a worker has up to three.
TRADES = [
    TradeInfo(1, "general_labourer", "1", "小工"),
    TradeInfo(2, "porter", "2", "搬运"),
    TradeInfo(3, "cleaner", "3", "保洁"),
]
MORNING = datetime(2026, 6, 11, 1, 0, tzinfo=UTC)  # 09:00 in the market


def _market(workers: int = 200) -> Market:
    return build_market(
        1,
        workers=workers,
        employers=4,
        jobs=1,
        day=DAY,
        timezone="Asia/Shanghai",
        sites=[SITE],
        trades=TRADES,
    )


class Phones:
    """The people's side of the timeline: what they plan (run in time order) and what they text."""

    def __init__(self, market: Market) -> None:
        self.planned: list[tuple[datetime, int, object]] = []
        self.sent: list[tuple[str, str]] = []
        self.people = FollowUpPeople(market, 1, self.at, self.send, Counter())

    def at(self, moment: datetime, action) -> None:
        self.planned.append((moment, len(self.planned), action))

    def send(self, phone: str, text: str) -> bool:
        self.sent.append((phone, text))
        return True

    def run(self) -> None:
        while self.planned:
            self.planned.sort(key=lambda item: item[:2])
            _, _, action = self.planned.pop(0)
            action()


def _placed(phones: Phones, worker_phone: str, employer_phone: str, code: str) -> None:
    """The confirmations both sides get, as the service words them."""
    when = {"date": date(2026, 6, 10), "day_word": "今天", "hour": 13, "minute": 0}
    worker_text = render(
        "placement_worker",
        "zh",
        sig=SIG,
        code=code,
        trade="小工",
        address="太行街道",
        pay=200,
        employer_name="王老板",
        employer_phone=display(employer_phone),
        **when,
    )
    phones.people.reads(worker_phone, "placement.worker", worker_text, MORNING - timedelta(hours=20))
    employer_text = render(
        "placement_employer",
        "zh",
        sig=SIG,
        code=code,
        trade="小工",
        filled=1,
        headcount=1,
        placed=[("王伟", display(worker_phone))],
    )
    phones.people.reads(employer_phone, "placement.employer", employer_text, MORNING - timedelta(hours=20))


def _ask(phones: Phones, worker_phone: str, employer_phone: str, code: str) -> None:
    context = {"sig": SIG, "code": code, "date": DAY, "trade": "小工", "seq": 1}
    worker_text = render("followup_worker", "zh", name="王记装修", **context)
    phones.people.reads(worker_phone, "followup.worker", worker_text, MORNING)
    employer_text = render("followup_employer", "zh", name="王伟", **context)
    phones.people.reads(employer_phone, "followup.employer", employer_text, MORNING)


def test_the_people_read_the_services_follow_up_texts_and_answer_as_its_reader_takes_them() -> None:
    market = _market()
    phones = Phones(market)
    employer = market.employers[0].phone
    for index, worker in enumerate(market.workers):
        code = str(500 + index)
        _placed(phones, worker.phone, employer, code)
        _ask(phones, worker.phone, employer, code)
    phones.run()
    people = phones.people
    # Each worker knows their employer from the confirmation; each employer who they hired.
    assert all(p.employer_phone == employer for w in people.workers.values() for p in w.placements.values())
    worker_answers = [(phone, text) for phone, text in phones.sent if phone != employer]
    ratings = [text for phone, text in phones.sent if phone == employer]
    assert worker_answers and ratings
    for phone, text in worker_answers:
        numbers = read_numbers(text)
        assert numbers is not None, text
        code = next(iter(people.workers[phone].placements))
        assert numbers.code in (None, code)
        plan = people._plans[(phone, code)]
        assert plan is not None
        expected = {"steps": [[plan.paid]], "joined": [[plan.paid * 10 + plan.stars]]}
        assert numbers.values in expected.get(plan.form, [[plan.paid, plan.stars]]), text
    for text in ratings:
        numbers = read_numbers(text)
        assert numbers is not None and numbers.code is not None and numbers.values[0] == 1, text
        worker = next(w for w in people.workers.values() if numbers.code in w.placements)
        came = worker.placements[numbers.code].came
        assert (numbers.values[1] == 0) == (not came), text
    # A worker who did not come never answers; the others mostly do, and mostly were paid.
    silent = {phone for phone, w in people.workers.items() if not next(iter(w.placements.values())).came}
    assert silent and not silent & {phone for phone, _ in worker_answers}
    assert 0.5 < len(worker_answers) / len(market.workers) < 0.9
    assert people.behaviour["followup_unpaid"] < len(worker_answers) * 0.25


def _one_who_answers(market: Market, wanted) -> tuple[str, str, aftercare.Answer]:  # type: ignore[no-untyped-def]
    """Every worker placed and asked: the first whose planned answer is `wanted` (phone, code, plan)."""
    employer = market.employers[0].phone
    finder = Phones(market)
    for index, worker in enumerate(market.workers):
        _placed(finder, worker.phone, employer, str(500 + index))
        _ask(finder, worker.phone, employer, str(500 + index))
    return next(
        (phone, code, plan) for (phone, code), plan in finder.people._plans.items() if plan and wanted(plan)
    )


def test_step_by_step_the_stars_follow_when_asked_and_an_offer_since_brings_the_code() -> None:
    market = _market()
    employer = market.employers[0].phone
    phone, code, plan = _one_who_answers(market, lambda plan: plan.form == "steps")
    phones = Phones(market)  # the same people again (their draws are their own): this worker alone
    _placed(phones, phone, employer, code)
    _ask(phones, phone, employer, code)
    phones.run()
    assert (phone, str(plan.paid)) in phones.sent
    assert (phone, code) not in phones.people.record.answers  # half an answer so far
    # An offer comes in; the service asks for the stars: the worker puts the code first.
    phones.people.reads(phone, "offer", "【零工市场】…回复 1 888 接活", MORNING + timedelta(hours=4))
    asked = render("followup_next", "zh", sig=SIG, code=code, missing="stars", wage=plan.paid != 1)
    phones.people.reads(phone, "followup.next", asked, MORNING + timedelta(hours=4))
    phones.run()
    assert phones.sent[-1] == (phone, f"{code} {plan.stars}")
    assert phones.people.record.answers[(phone, code)] == (plan.paid, plan.stars)
    assert aftercare.first_text(plan, code, offer_since=True) == f"{code} {plan.paid}"


def _row(offer_id: int, party: FollowUpParty, asked_at: datetime) -> SimpleNamespace:
    return SimpleNamespace(offer_id=offer_id, party=party, asked_at=asked_at)


def test_the_follow_up_invariants_on_known_rows() -> None:
    due = MORNING
    held = {1: Owed(1, due), 2: Owed(2, due), 3: Owed(3, due + timedelta(days=1))}
    both = [_row(1, FollowUpParty.WORKER, due), _row(1, FollowUpParty.EMPLOYER, due)]
    now = due + GRACE
    # Placement 2 is due and has no follow-up; 3 is not due yet.
    assert missing(both, held, now) == 1
    assert missing([*both, _row(2, FollowUpParty.WORKER, due)], held, now) == 1  # one side only
    two = [_row(2, FollowUpParty.WORKER, due), _row(2, FollowUpParty.EMPLOYER, due)]
    assert missing([*both, *two], held, now) == 0
    assert missing([*both, *two, two[0]], held, now) == 1  # asked twice
    assert missing(both, held, now - timedelta(seconds=1)) == 0  # within the grace
    assert unwarranted(both, held) == 0
    assert unwarranted([*both, _row(9, FollowUpParty.WORKER, due)], held) == 1  # not a placement held
    assert unwarranted([*both, _row(3, FollowUpParty.EMPLOYER, due)], held) == 1  # asked a day early


def test_an_answer_the_service_asked_for_again_is_in_flight_until_sent_again() -> None:
    """A bare `1 4` with two follow-ups open: the service asks which job (followup.which); the worker
    says it again with the code a minute later. Until then the answer is in flight: a run that ends
    in that minute has not lost it (answers_lost skips it); once sent it counts as any other."""
    market = _market()
    employer = market.employers[0].phone
    phone, code, _ = _one_who_answers(market, lambda plan: plan.form == "pair" and plan.paid == 1)
    phones = Phones(market)
    _placed(phones, phone, employer, code)
    _ask(phones, phone, employer, code)
    phones.run()
    record = phones.people.record
    assert (phone, code) in record.answers and not record.asked_again
    which = render("followup_which_worker", "zh", sig=SIG, codes=[code, "777"])
    phones.people.reads(phone, "followup.which", which, MORNING + timedelta(hours=3))
    assert record.asked_again == {(phone, code)}  # told which job; the answer again is planned
    phones.run()
    assert phones.sent[-1][1].startswith(f"{code} ") and not record.asked_again
