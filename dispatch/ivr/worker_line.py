"""The worker line: a registered worker calling the market hears their own menu instead of the
employers': 1 the jobs offered to them (or, with none waiting, the nearest open jobs that fit, as
`找活` lists them) and take one, 2 the jobs they hold, 3 busy / free again (as the SMS 忙 / 空), 4 I
have arrived (as the SMS 到), 5 change what they registered, 6 policy help (as the SMS 政策), 7 a job
by its code (read off the hall's screen or the public list, as the SMS `1 <code>`), 8 not paid for a
job (as the SMS 欠薪 101: dispatch/wages/voice.py), 0 an agent. A number that is both a worker's and
an employer's chooses first (`who`)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.hall import policy_voice
from dispatch.ivr import offers, prompts
from dispatch.ivr.agent import to_agent
from dispatch.ivr.turn import INVALID, TIMEOUT, Step, Turn
from dispatch.matching import attendance, notices, pull, services, waves
from dispatch.matching.locking import lock_worker
from dispatch.models import OPEN_OFFER_STATUSES, CallOutcome, Job, Offer, Worker, WorkerStatus
from dispatch.settings import Settings
from dispatch.tickets.summaries import Summary
from dispatch.wages import voice as wage_voice
from dispatch.workers.record import bookings

log = logging.getLogger(__name__)
FLOW = offers.LINE_FLOW
# Workers who hear the worker line; others (pending, opted out, blocked) hear the menu everyone hears.
LINE_STATUSES = (WorkerStatus.ACTIVE, WorkerStatus.PAUSED)
LISTED = pull.LISTED  # offers read in one call, as many as `找活` lists
BOOKINGS_READ = 3
JOB_CODE_KEY, JOB_CODE = "7", "job_code"
MAX_CODE_DIGITS = 8  # Job.code holds up to 8 digits


def worker_for(session: Session, phone: str) -> Worker | None:
    if not phone:
        return None
    worker = session.scalar(select(Worker).where(Worker.phone == phone))
    return worker if worker is not None and worker.status in LINE_STATUSES else None


def greet(turn: Turn, worker: Worker) -> None:
    """A worker's call: the welcome and their menu, with their name."""
    turn.call.flow, turn.call.step = FLOW, "worker_menu"
    gather = turn.gather("worker_menu")
    turn.say("welcome", gather)
    turn.say("worker_menu", gather, name=worker.name, paused=worker.status == WorkerStatus.PAUSED)


def greet_both(turn: Turn) -> None:
    """A number that is a worker's and an employer's: which one is calling."""
    turn.call.flow, turn.call.step = FLOW, "who"
    gather = turn.gather("who")
    turn.say("welcome", gather)
    turn.say("who_menu", gather)


def _worker(turn: Turn) -> Worker | None:
    return turn.session.get(Worker, turn.call.worker_id) if turn.call.worker_id else None


def ask_menu(turn: Turn, retry: str) -> None:
    worker = _worker(turn)
    paused = worker is not None and worker.status == WorkerStatus.PAUSED
    turn.say("worker_menu", turn.gather("worker_menu", retry), name="", paused=paused)


def answer_menu(turn: Turn, digits: str) -> str:
    worker = _worker(turn)
    if worker is None:  # the worker row went away mid-call (cannot happen): the everyday menu
        turn.call.flow = "menu"
        return "menu"
    if digits == "1":
        return _offers(turn, worker)
    if digits == "2":
        read_bookings(turn, worker)
        return "worker_menu"
    if digits == "3":
        _busy_or_free(turn, worker)
        return "worker_menu"
    if digits == "4":
        _arrived(turn, worker)
        return "worker_menu"
    if digits == "5":  # change what they registered: the registration by keypad, as anyone's 2
        turn.call.flow, turn.call.answers = "register", {}
        return "trade"
    if digits == policy_voice.KEY:
        return policy_voice.enter(turn)
    if digits == JOB_CODE_KEY:
        return JOB_CODE
    if digits == wage_voice.KEY:
        return wage_voice.STEP
    if digits == "0":
        return to_agent(turn, "worker asked for an agent", Summary.of("worker_asked_agent"))
    if digits == "9":
        return "worker_menu"
    if digits == "*":
        turn.call.language = "en" if turn.call.language == "zh" else "zh"
        return "worker_menu"
    return INVALID if digits else TIMEOUT


def ask_who(turn: Turn, retry: str) -> None:
    turn.say("who_menu", turn.gather("who", retry))


def answer_who(turn: Turn, digits: str) -> str:
    if digits == "1":
        return "worker_menu"
    if digits == "2":
        turn.call.flow = "menu"
        return "menu"
    return INVALID if digits else TIMEOUT


# -- the three things a worker can do -------------------------------------------------------------


def _offers(turn: Turn, worker: Worker) -> str:
    now = utcnow()
    found = open_offers(turn.session, worker, now)
    if not found and worker.status == WorkerStatus.ACTIVE:
        found = pulled_offers(turn.session, turn.settings, worker, now)
    turn.call.outcome = CallOutcome.WORKER_LINE
    if not found:
        turn.say("no_offers")
        return "worker_menu"
    offers.keep_offers(turn, [offer.id for offer in found[:LISTED]])
    return "offer"


def open_offers(session: Session, worker: Worker, now: datetime) -> list[Offer]:
    """Offers still waiting for this worker's answer, on jobs still taking workers, soonest job first."""
    query = (
        select(Offer)
        .join(Job, Job.id == Offer.job_id)
        .where(
            Offer.worker_id == worker.id,
            Offer.status.in_(OPEN_OFFER_STATUSES),
            (Offer.expires_at.is_(None)) | (Offer.expires_at > now),
            Job.status.in_(services.TAKING),
        )
        .order_by(Job.work_date, Job.start_time, Offer.id)
    )
    return list(session.scalars(query))


def pulled_offers(session: Session, settings: Settings, worker: Worker, now: datetime) -> list[Offer]:
    """No offer waits: the nearest open jobs the worker fits, each made an offer as `找活` makes them
    (badged `pull`), so that 1 takes it under the same first-come rules."""
    lock_worker(session, worker.id)  # worker, then jobs: the order every answer locks them in
    listed = pull.open_jobs_near(session, settings, worker, None, now)[:LISTED]
    made = []
    for item in sorted(listed, key=lambda one: one.job.id):  # jobs are locked in id order
        made.append(pull.offer_listed(session, settings, item.job, worker, now))
    session.flush()
    if made:
        waves.mark_offered(session, [worker.id], now)
    order = {item.job.id: rank for rank, item in enumerate(listed)}
    return sorted(made, key=lambda offer: order[offer.job_id])


def read_bookings(turn: Turn, worker: Worker) -> None:
    now = utcnow()
    jobs = bookings(turn.session, turn.settings, worker, now)[:BOOKINGS_READ]
    turn.call.outcome = CallOutcome.WORKER_LINE
    if not jobs:
        turn.say("no_bookings")
        return
    read = [
        {
            **offers.job_context(turn.settings, job, turn.language, now),
            "employer": notices.person_name(job.employer.name, turn.language),
            "phone": prompts.spoken_phone(job.employer.phone, turn.language),
        }
        for job in jobs
    ]
    turn.say("bookings_list", jobs=read)


def _busy_or_free(turn: Turn, worker: Worker) -> None:
    """As the SMS 忙 and 空: an active worker is paused, a paused one active again."""
    turn.call.outcome = CallOutcome.WORKER_LINE
    if worker.status == WorkerStatus.ACTIVE:
        worker.status = WorkerStatus.PAUSED
        turn.say("worker_paused")
    else:
        if worker.status == WorkerStatus.PAUSED:
            worker.status = WorkerStatus.ACTIVE
        turn.say("worker_resumed", active=worker.status == WorkerStatus.ACTIVE)
    log.info("call %s: worker %s now %s", turn.call.call_sid, worker.id, worker.status.value)


def _arrived(turn: Turn, worker: Worker) -> None:
    """As the SMS `到`: the place held today notes the arrival and the employer hears it once."""
    turn.call.outcome = CallOutcome.WORKER_LINE
    arrived = attendance.arrive(turn.session, turn.settings, worker, "", utcnow())
    if isinstance(arrived, list):
        turn.say("worker_arrival_which", several=bool(arrived))
        return
    turn.say("worker_arrived", code=arrived.job.code)
    log.info("call %s: worker %s arrived at job %s", turn.call.call_sid, worker.id, arrived.job_id)


# -- a job by its code (the screen says "call and press the code") ---------------------------------


def ask_job_code(turn: Turn, retry: str) -> None:
    turn.say("job_code", turn.entry(JOB_CODE, retry))


def answer_job_code(turn: Turn, digits: str) -> str:
    """The code keyed, then #: the job is read as an offer and 1 takes it, under the rule of `1 <code>`
    by SMS: an offer the worker has for it (offer answer with code), else a job they may take off the
    screen (inbound `take_a_listed_job`: pull.may_take, then an offer like a listing's)."""
    if digits == "*":
        return "worker_menu"
    if not digits:
        return TIMEOUT
    worker = _worker(turn)
    if worker is None or not (digits.isascii() and digits.isdigit()) or len(digits) > MAX_CODE_DIGITS:
        return INVALID
    turn.call.outcome = CallOutcome.WORKER_LINE
    offer = job_offer(turn.session, turn.settings, worker, digits, utcnow())
    if offer is None:
        turn.say("job_code_unknown")
        log.info("call %s: job code not open to worker %s", turn.call.call_sid, worker.id)
        return "worker_menu"
    offers.keep_offers(turn, [offer.id])
    return "offer"


def job_offer(session: Session, settings: Settings, worker: Worker, code: str, now: datetime) -> Offer | None:
    """The worker's offer of the job numbered `code`: the one they hold, or one made now when they may
    take the job without an offer; None when neither."""
    lock_worker(session, worker.id)  # worker, then job: as every answer locks them
    job = session.scalar(select(Job).where(Job.code == code))
    if job is None:
        return None
    held = [offer for offer in open_offers(session, worker, now) if offer.job_id == job.id]
    if held:
        return held[0]
    if not pull.may_take(session, settings, job, worker, now):
        return None
    return pull.offer_listed(session, settings, job, worker, now)


STEPS = {
    "worker_menu": Step(ask_menu, answer_menu),
    "who": Step(ask_who, answer_who),
    JOB_CODE: Step(ask_job_code, answer_job_code),
    wage_voice.STEP: Step(wage_voice.ask, wage_voice.answer),
}
