"""How urgent each kind of ticket is (1 most urgent), in one table rather than at every call site.

A kind has one usual priority; a few summaries are more or less urgent than their kind (a worker
gone after the work started, a hang-up at the menu), and a ticket may be marked urgent by whoever
opens it (a held job that starts today).
"""

from __future__ import annotations

from dispatch.models import TicketKind

URGENT = 1  # work under way or about to start: before anyone waiting
LOW = 4  # worth a call when the queue is quiet

PRIORITY: dict[TicketKind, int] = {
    TicketKind.FAILED_SMS: 2,  # our fault: the sender heard nothing useful
    TicketKind.UNPARSED_SMS: 3,
    TicketKind.UNFILLED_JOB: 2,
    TicketKind.VOICEMAIL: 2,
    TicketKind.AGENT_CALL: 2,
    TicketKind.CALL_BACK: 2,
    TicketKind.RECORDED_NAME: 3,
    TicketKind.FOLLOW_UP: 3,
    TicketKind.WAGE_CASE: 2,  # a worker's unpaid wages: after callers waiting, before routine items
    TicketKind.INSURANCE: 2,  # high-risk: the worker was not placed until an agent fixes the details
    TicketKind.HELD_JOB: 2,  # no offer goes out until an agent looks
}

# Summaries whose urgency differs from their kind's.
BY_SUMMARY: dict[str, int] = {
    "unfilled_after_start": URGENT,  # the employer is short of a worker right now
    "unfilled_no_time": URGENT,  # no offer could reach a worker before the start: phone them now
    "call_back_at_menu": LOW,  # nothing was asked for yet
    "insurance_placed": LOW,  # the worker works all the same, only uninsured
}


def priority(kind: TicketKind, summary_key: str | None = None, urgent: bool = False) -> int:
    """The priority a new ticket of this kind (and summary) gets."""
    if urgent:
        return URGENT
    if summary_key is not None and summary_key in BY_SUMMARY:
        return BY_SUMMARY[summary_key]
    return PRIORITY[kind]
