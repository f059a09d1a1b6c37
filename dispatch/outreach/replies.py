"""What a worker texts about outreach: `退订活动` / `订阅活动` (event texts off and on again, job
offers untouched), `报名 7` (sign up) and `取消报名 7` (cancel it). Router handlers
(dispatch/inbound/routes.py)."""

from __future__ import annotations

from dispatch.clock import utcnow
from dispatch.inbound import keywords
from dispatch.inbound.context import Inbound
from dispatch.outreach import services, signups
from dispatch.sms.services import reply


def events_off(inbound: Inbound) -> None:
    inbound.contact.events_opted_out_at = inbound.contact.events_opted_out_at or utcnow()
    reply(inbound.session, inbound.settings, inbound.message, "events_opt_out_confirm", "outreach.events_off")


def events_on(inbound: Inbound) -> None:
    inbound.contact.events_opted_out_at = None
    reply(inbound.session, inbound.settings, inbound.message, "events_opt_in_confirm", "outreach.events_on")


def sign_up(inbound: Inbound) -> None:
    """`报名 7`: a place, the waiting list, already signed up, or no such event open."""
    session, settings, message = inbound.session, inbound.settings, inbound.message
    event_id = keywords.sign_up_for(inbound.command.text) or 0
    if inbound.worker is None:
        reply(session, settings, message, "not_registered", "not_registered")
        return
    result = signups.sign_up(session, settings, inbound.worker, event_id, inbound.now)
    if result.event is None:
        reply(session, settings, message, "event_unknown", "outreach.unknown", event_id=event_id)
        return
    context = services.event_context(settings, result.event, inbound.contact.language)
    context = {name: context[name] for name in signups.WHEN_AND_WHERE}
    if result.outcome == "booked":
        reply(session, settings, message, "event_booked", "outreach.booked", **context)
    elif result.outcome == "waiting":
        reply(
            session,
            settings,
            message,
            "event_waiting",
            "outreach.waiting",
            event_title=context["event_title"],
            position=result.position,
        )
    else:
        reply(
            session,
            settings,
            message,
            "event_already",
            "outreach.already",
            event_title=context["event_title"],
            waiting=bool(result.position),
        )


def cancel(inbound: Inbound) -> None:
    """`取消报名 7`: cancelled (a place goes to the first waiting, who is texted), or no such sign-up."""
    session, settings, message = inbound.session, inbound.settings, inbound.message
    event_id = keywords.sign_up_cancelled_for(inbound.command.text) or 0
    if inbound.worker is None:
        reply(session, settings, message, "not_registered", "not_registered")
        return
    result = signups.cancel_for_worker(session, settings, inbound.worker, event_id, inbound.now)
    if result.signup is None:
        reply(session, settings, message, "event_not_signed_up", "outreach.not_signed_up", event_id=event_id)
        return
    title = result.signup.event.title(inbound.contact.language)
    reply(session, settings, message, "event_cancelled", "outreach.cancelled", event_title=title)
