"""The call telling an employer who cannot take SMS who is coming, once they pick up: for each job
not yet over, the workers who took a place, names and numbers read slowly, digits one by one; 9
hears it again. The call's state lives in its `Call` row (flow "notice_call"), as in the menu."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.ivr import offers, prompts
from dispatch.ivr.offer_call import hang_up, remember
from dispatch.ivr.turn import DONE, Step, Turn
from dispatch.matching import notices
from dispatch.models import Employer
from dispatch.settings import Settings
from dispatch.voice import notice_calls, outbound

log = logging.getLogger(__name__)
FLOW = notice_calls.FLOW


def begin(
    session: Session,
    settings: Settings,
    form: Mapping[str, str],
    base_url: str,
    employer_id: int | None,
    key: int,
    attempt: int,
) -> str:
    """The employer picked up: who is coming (or, should nobody be any more, a short goodbye)."""
    sid = form.get("CallSid", "").strip()
    claim = outbound.claim_sid("notice", f"{employer_id or 0}-{key}", attempt)
    call = outbound.adopt(session, claim, sid)
    if call is None:
        employer = session.get(Employer, employer_id) if employer_id else None
        if employer is None:
            log.warning("notice call %s for unknown employer %s", sid, employer_id)
            return hang_up(settings, base_url, "zh")
        call, _ = notice_calls.row_for(session, employer, key, sid, attempt, "in-progress")
    if call.flow != FLOW:
        return hang_up(settings, base_url, call.language)
    if call.last_key or call.turn:
        return call.last_twiml
    call.turn, call.status = 1, (form.get("CallStatus") or "in-progress")[:24]
    turn = Turn(session, settings, call, base_url, form)
    if not _jobs(turn):
        turn.say("notice_none")
        turn.response.hangup()
        call.step = "done"
    else:
        turn.say("notice_intro")
        call.step = "notice"
        ask_notice(turn, "")
    return remember(turn, "answer:0")


def _jobs(turn: Turn) -> list[dict[str, Any]]:
    now = utcnow()
    employer_id = turn.call.employer_id or 0
    return [
        {
            **offers.job_context(turn.settings, item.job, turn.language, now),
            "workers": [
                {
                    "name": notices.person_name(worker.name, turn.language),
                    "phone": prompts.spoken_phone(worker.phone, turn.language),
                }
                for worker in item.workers
            ],
        }
        for item in notice_calls.coming(turn.session, turn.settings, employer_id, now)
    ]


def ask_notice(turn: Turn, retry: str) -> None:
    gather = turn.gather("notice")
    turn.say("notice_list", gather, jobs=_jobs(turn))
    turn.say("notice_keys", gather)


def answer_notice(turn: Turn, digits: str) -> str:
    """9 hears it again; anything else (silence too: they heard it) ends the call."""
    if digits == "9":
        return "notice"
    turn.say("call_bye")
    turn.response.hangup()
    turn.call.step = "done"
    return DONE


STEPS = {"notice": Step(ask_notice, answer_notice)}
