"""A wage claim by phone: key 7 on the worker line, then the job's code and #, as the SMS `欠薪 101`
(dispatch/wages/claims.py decides which placement it is and opens or finds its case). The worker hears
the case opened, that it is open already, or their recent jobs' codes; then their menu again."""

from __future__ import annotations

import logging

from dispatch.clock import utcnow
from dispatch.ivr.turn import INVALID, TIMEOUT, Turn
from dispatch.models import OPEN_WAGE_CASE_STATUSES, CallOutcome, CaseOpenedVia, Worker
from dispatch.wages import claims

log = logging.getLogger(__name__)
KEY = "8"  # on the worker line (7 is a job by its code)
STEP = "wage_claim"
MAX_CODE_DIGITS = 8  # Job.code


def ask(turn: Turn, retry: str) -> None:
    turn.say("wage_claim_ask", turn.entry(STEP, retry))


def answer(turn: Turn, digits: str) -> str:
    if not digits:
        return TIMEOUT
    if digits == "0":  # back to the menu without claiming
        return "worker_menu"
    if not (digits.isascii() and digits.isdigit()) or len(digits) > MAX_CODE_DIGITS:
        return INVALID
    worker = turn.session.get(Worker, turn.call.worker_id) if turn.call.worker_id else None
    if worker is None:
        return "worker_menu"
    turn.call.outcome = CallOutcome.WORKER_LINE
    result = claims.claim(turn.session, turn.settings, worker, digits, utcnow(), via=CaseOpenedVia.VOICE)
    case = result.case
    if case is None:
        turn.say("wage_claim_which", code=digits, codes=result.recent)
    elif result.opened:
        turn.say("wage_claim_opened", code=digits, owed=case.amount_owed)
        log.info("call %s: wage case %s opened by the worker", turn.call.call_sid, case.id)
    else:
        turn.say("wage_claim_already", code=digits, open=case.status in OPEN_WAGE_CASE_STATUSES)
    return "worker_menu"
