"""Workers' answers to offers by SMS: `1 123`, `Y 123`, `接123`, `2 123`, `没空`, `取消 123`, `CANCEL 123`.

The parser has already normalised the text (full-width forms, punctuation, 【】, Chinese numerals).
An answer naming a job code acts on that offer; a bare answer acts on the worker's only open offer,
and with several open the worker is asked which. A code the worker was never offered gets a clear
reply. Texts from numbers that are not workers are left to the other handlers.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.matching import notices, services
from dispatch.matching.locking import lock_worker
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


class Answer(enum.StrEnum):
    YES = "yes"
    NO = "no"
    CANCEL = "cancel"  # give back a place (or, for an offer not yet taken, a no)


ANSWER_WORDS: dict[str, Answer] = {
    **dict.fromkeys(
        ["1", "y", "yes", "ok", "是", "接", "好", "好的", "可以", "行", "要", "接单", "能去", "去"],
        Answer.YES,
    ),
    **dict.fromkeys(
        ["2", "n", "no", "不", "否", "没空", "不接", "不要", "不去", "不行", "没时间", "算了", "pass"],
        Answer.NO,
    ),
    **dict.fromkeys(["取消", "cancel"], Answer.CANCEL),
}
CODE = re.compile(r"\d{3,8}")
# `接123`, `y123`, `取消123`: a word glued to a code (digits alone are never split: `1123` is no answer).
_GLUED = re.compile(
    "^("
    + "|".join(sorted((re.escape(w) for w in ANSWER_WORDS if not w.isdigit()), key=len, reverse=True))
    + r")(\d{3,8})$"
)
# An answer may still mean an offer that lapsed this recently, if its job still wants workers; a yes
# takes such an offer only when it names the job's code.
RECENT = timedelta(hours=24)


@dataclass(frozen=True)
class Reply:
    answer: Answer
    code: str | None


def read_reply(text: str) -> Reply | None:
    """The answer in a normalised text, or None when the text is not an answer to an offer."""
    tokens = text.casefold().split()
    if len(tokens) == 2:
        first, second = tokens
        if first in ANSWER_WORDS and CODE.fullmatch(second):
            return Reply(ANSWER_WORDS[first], second)
        if second in {"1", "2"} and CODE.fullmatch(first):  # `123 1`
            return Reply(ANSWER_WORDS[second], first)
        return None
    if len(tokens) == 1:
        token = tokens[0]
        if token in ANSWER_WORDS:
            return Reply(ANSWER_WORDS[token], None)
        glued = _GLUED.match(token)
        if glued:
            return Reply(ANSWER_WORDS[glued.group(1)], glued.group(2))
    return None


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
    if answer.answer == Answer.CANCEL and not offers:
        # `取消` alone: a place is given back only when its code is said.
        held = _placements(session, settings, worker)
        if not held:
            return False
        _ask_which(session, settings, message, worker, held, cancel=True)
        return True
    if not offers:
        lapsed = _recently_lapsed(session, worker)
        if not lapsed:
            return _answer_closed(session, settings, message, worker, answer.answer)
        if answer.answer == Answer.YES:
            # `好`, `ok`, `行` may be a thank-you: a lapsed offer is taken only with its code (`1 123`).
            _ask_which(session, settings, message, worker, lapsed, cancel=False)
            return True
        offers = lapsed
    if len(offers) > 1:
        _ask_which(session, settings, message, worker, offers, cancel=False)
        return True
    _act(session, settings, message, offers[0], answer.answer)
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
    latest = session.scalars(
        select(Offer)
        .where(Offer.worker_id == worker.id, Offer.sent_at > utcnow() - RECENT)
        .order_by(Offer.sent_at.desc(), Offer.id.desc())
        .limit(1)
    ).first()
    if latest is None or latest.status not in (OfferStatus.CANCELLED, OfferStatus.STANDBY):
        return False
    if latest.job.status not in (JobStatus.FILLED, JobStatus.CANCELLED):
        return False
    took_a_place_since = session.scalar(
        select(Offer.id).where(
            Offer.worker_id == worker.id,
            Offer.status == OfferStatus.ACCEPTED,
            Offer.responded_at >= latest.sent_at,
        )
    )
    if took_a_place_since is not None:
        return False
    if answer == Answer.YES or latest.status == OfferStatus.STANDBY:
        _act(session, settings, message, latest, answer)  # a no takes the worker off the standby list
    return True


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
