"""Workers' answers to offers by SMS (how they are read: reading.py).

An answer naming a job code acts on that offer; a bare answer acts on the worker's only open offer,
and with several open the worker is asked which. A code the worker was never offered gets a clear
reply. Texts from numbers that are not workers are left to the other handlers.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.matching import notices, pull, services
from dispatch.matching.locking import lock_worker
from dispatch.matching.reading import Answer, glued_digits, read_reply
from dispatch.models import (
    OPEN_OFFER_STATUSES,
    Job,
    JobStatus,
    Message,
    Offer,
    OfferStatus,
    Worker,
)
from dispatch.settings import Settings
from dispatch.sms.parser import Command

# An answer may still mean an offer that lapsed this recently, if its job still wants workers; a yes
# takes such an offer only when it names the job's code.
RECENT = timedelta(hours=24)


def handle_coded_reply(session: Session, settings: Settings, message: Message, command: Command) -> bool:
    """A reply naming the code of a job the worker was offered; True when acted on. A code the worker
    was never offered is left to the router (a dialogue may read `300 1`; else tell_unknown_code)."""
    answer = read_reply(command.text)
    if answer is None or answer.code is None or message.worker_id is None:
        return False
    locked = None
    if answer.answer == Answer.YES:
        # A yes locks the worker first (as accept would), so that the offer is read once, as committed.
        locked = lock_worker(session, message.worker_id)
    # The offer, its job and what the answer's texts name, in one statement (a webhook's cost
    # follows its round trips).
    offer = session.scalars(
        services.offers_with_jobs().where(Job.code == answer.code, Offer.worker_id == message.worker_id)
    ).first()
    if offer is None:
        return False
    _act(session, settings, message, offer, answer.answer, locked)
    return True


def take_a_listed_job(session: Session, settings: Settings, message: Message, command: Command) -> bool:
    """`1 101` for a job the worker was never offered, read off the hall's screen or the public list
    (/screen, /j/101), which tell everyone to text it: taken as a `找活` listing's offer would be, when
    matching would offer it to this worker (trade, pay, blocks, clashes, insurance) and there is time to
    answer before its start. Otherwise the router goes on (tell_unknown_code says which codes are theirs)."""
    answer = read_reply(command.text)
    if answer is None or answer.code is None or answer.answer != Answer.YES or message.worker_id is None:
        return False
    worker = lock_worker(session, message.worker_id)  # worker, then job: as every answer locks them
    job = session.scalar(select(Job).where(Job.code == answer.code))
    if job is None or not pull.may_take(session, settings, job, worker, message.created_at):
        return False
    offer = pull.offer_listed(session, settings, job, worker, message.created_at)
    _act(session, settings, message, offer, Answer.YES, worker)
    return True


def tell_unknown_code(session: Session, settings: Settings, message: Message, command: Command) -> bool:
    """A yes or no naming a code the worker was never offered: which codes they may answer."""
    answer = read_reply(command.text)
    if answer is None or answer.code is None or message.worker_id is None:
        return False
    worker = session.get(Worker, message.worker_id)
    assert worker is not None
    codes = [o.job.code for o in _open_offers(session, worker)][: notices.MAX_CODES_LISTED]
    notices.tell_worker(
        session,
        settings,
        message,
        worker,
        "match_unknown_code",
        "match.unknown_code",
        code=answer.code,
        codes=codes,
    )
    return True


def handle_bare_reply(session: Session, settings: Settings, message: Message, command: Command) -> bool:
    """A yes/no without a code, for the worker's only open offer; True when acted on."""
    answer = read_reply(command.text)
    if answer is None or answer.code is not None or message.worker_id is None:
        return False
    worker = session.get(Worker, message.worker_id)
    assert worker is not None
    offers = _open_offers(session, worker)
    if not offers:
        return _no_offer_waiting(session, settings, message, worker, answer.answer)
    if len(offers) > 1:
        _ask_which(session, settings, message, worker, offers, cancel=False)
        return True
    _act(session, settings, message, offers[0], answer.answer)
    return True


def handle_glued_reply(session: Session, settings: Settings, message: Message, command: Command) -> bool:
    """`1101`: a yes (or `2101` a no) glued to code 101, taken only when exactly one open offer of the
    worker has a code the text ends with, and that code is not the whole text (offers 101 and 1101
    make `1101` a question for an agent, not a guess); anything else is left to the router."""
    reading = glued_digits(command.text)
    if reading is None or message.worker_id is None:
        return False
    worker = session.get(Worker, message.worker_id)
    assert worker is not None
    text = command.text.strip()
    ending = [offer for offer in _open_offers(session, worker) if text.endswith(offer.job.code or "-")]
    if len(ending) != 1 or ending[0].job.code != reading.code:
        return False
    _act(session, settings, message, ending[0], reading.answer)
    return True


def _no_offer_waiting(
    session: Session, settings: Settings, message: Message, worker: Worker, answer: Answer
) -> bool:
    """A bare answer when no offer waits for the worker: to a lapsed offer, to one closed by others, to
    the place they hold (不去了), or to an offer long expired (已过期). False: an agent reads it."""
    if answer == Answer.CANCEL:
        # `取消` alone: a place is given back only when its code is said.
        held = _placements(session, settings, worker)
        if not held:
            return False
        _ask_which(session, settings, message, worker, held, cancel=True)
        return True
    lapsed = _recently_lapsed(session, worker)
    if lapsed:
        if answer == Answer.YES or len(lapsed) > 1:
            # `好`, `ok`, `行` may be a thank-you: a lapsed offer is taken only with its code (`1 123`).
            _ask_which(session, settings, message, worker, lapsed, cancel=False)
        else:
            _act(session, settings, message, lapsed[0], answer)
        return True
    if _answer_closed(session, settings, message, worker, answer):
        return True
    if answer == Answer.NO:
        held = _placements(session, settings, worker)
        if held:
            # `不去了` from a worker holding a place: said plainly before anything is given back.
            codes = [offer.job.code for offer in held][: notices.MAX_CODES_LISTED]
            template, kind = "match_confirm_cancel", "match.confirm_cancel"
            notices.tell_worker(session, settings, message, worker, template, kind, codes=codes)
            return True
    return _tell_expired(session, settings, message, worker)


def _tell_expired(session: Session, settings: Settings, message: Message, worker: Worker) -> bool:
    """A yes or no to the last offer texted, which lapsed unanswered and can no longer be taken: a short
    已过期, not an agent's ticket (there is nothing an agent could do for it)."""
    latest = _latest_offer(session, worker)
    if latest is None or latest.status != OfferStatus.EXPIRED or _placed_since(session, worker, latest):
        return False
    notices.tell_worker(
        session, settings, message, worker, "match_expired", "match.expired", code=latest.job.code
    )
    return True


def on_opt_out(session: Session, settings: Settings, message: Message) -> None:
    """A bare opt-out from a worker: any place they hold goes to an agent to follow up."""
    if message.worker_id is None:
        return
    worker = session.get(Worker, message.worker_id)
    assert worker is not None
    services.on_worker_opted_out(session, settings, worker, utcnow())


def _act(
    session: Session,
    settings: Settings,
    message: Message,
    offer: Offer,
    answer: Answer,
    locked: Worker | None = None,
) -> None:
    now = utcnow()
    if answer == Answer.YES:
        services.accept(session, settings, offer, message, now, locked_worker=locked)
    elif answer == Answer.NO:
        services.decline(session, settings, offer, message, now)
    elif offer.status == OfferStatus.ACCEPTED:
        services.give_back(session, settings, offer, message, now)
    else:
        services.decline(session, settings, offer, message, now)


def _ask_which(
    session: Session, settings: Settings, message: Message, worker: Worker, offers: list[Offer], cancel: bool
) -> None:
    codes = [offer.job.code for offer in offers][: notices.MAX_CODES_LISTED]
    notices.tell_worker(
        session, settings, message, worker, "match_which_code", "match.which_code", codes=codes, cancel=cancel
    )


def _open_offers(session: Session, worker: Worker) -> list[Offer]:
    query = (
        select(Offer)
        .join(Job, Job.id == Offer.job_id)
        .where(Offer.worker_id == worker.id, Offer.status.in_(OPEN_OFFER_STATUSES))
        .order_by(Offer.id)
    )
    return list(session.scalars(query))


def _placements(session: Session, settings: Settings, worker: Worker) -> list[Offer]:
    """The places the worker holds on jobs not yet over."""
    query = (
        select(Offer)
        .join(Job, Job.id == Offer.job_id)
        .where(
            Offer.worker_id == worker.id,
            Offer.status == OfferStatus.ACCEPTED,
            services.not_over(settings, utcnow()),
        )
        .order_by(Offer.id)
    )
    return list(session.scalars(query))


def _answer_closed(
    session: Session, settings: Settings, message: Message, worker: Worker, answer: Answer
) -> bool:
    """A bare yes/no to an offer that closed meanwhile (its job filled or was called off) is not an
    unreadable text for an agent: a yes is answered as `1 <code>` would be (名额已满, standby, or the
    job is over), a no takes a standby worker off the list and otherwise needs no answer.

    Only when that offer is the last one the worker was texted and they took no place since: else a
    bare `好` is a thank-you for the place they hold, not a yes to a job they never answered."""
    if answer not in (Answer.YES, Answer.NO):
        return False
    latest = _latest_offer(session, worker)
    if latest is None or latest.status not in (OfferStatus.CANCELLED, OfferStatus.STANDBY):
        return False
    if latest.job.status not in (JobStatus.FILLED, JobStatus.CANCELLED):
        return False
    if _placed_since(session, worker, latest):
        return False
    if answer == Answer.YES or latest.status == OfferStatus.STANDBY:
        _act(session, settings, message, latest, answer)  # a no takes the worker off the standby list
    return True


def _latest_offer(session: Session, worker: Worker) -> Offer | None:
    """The offer texted to the worker last, within RECENT."""
    query = (
        select(Offer)
        .where(Offer.worker_id == worker.id, Offer.sent_at > utcnow() - RECENT)
        .order_by(Offer.sent_at.desc(), Offer.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def _placed_since(session: Session, worker: Worker, offer: Offer) -> bool:
    """Whether the worker took a place after `offer` was texted (a bare `好` is then a thank-you)."""
    query = select(Offer.id).where(
        Offer.worker_id == worker.id,
        Offer.status == OfferStatus.ACCEPTED,
        Offer.responded_at >= offer.sent_at,
    )
    return session.scalar(query.limit(1)) is not None


def _recently_lapsed(session: Session, worker: Worker) -> list[Offer]:
    """Offers that expired lately on jobs still wanting workers: a late `1 123` may still get a place."""
    query = (
        select(Offer)
        .join(Job, Job.id == Offer.job_id)
        .where(
            Offer.worker_id == worker.id,
            Offer.status == OfferStatus.EXPIRED,
            Offer.expires_at > utcnow() - RECENT,
            Job.status.in_(services.TAKING),
        )
        .order_by(Offer.id)
    )
    return list(session.scalars(query))
