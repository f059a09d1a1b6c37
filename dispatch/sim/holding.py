"""A simulated caller in an agents' queue, as Twilio holds one after <Enqueue>.

Twilio asks the waitUrl (with the caller's place and time in the queue) and plays what it answers,
asking again when that ends; a <Gather> there takes keys while the caller holds (its action's TwiML
plays in the queue too), a <Leave> takes the caller out, and the <Enqueue> action hears why the
caller left the queue: `leave`, `hangup`, `queue-full`, or `bridged` once a call with an agent ends.
The switchboard keeps who waits where, so that an agent's answer takes the longest waiter.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from dispatch.clock import utcnow
from dispatch.sim.screen import Screen
from dispatch.sim.switchboard import MAX_QUEUE_SIZE, Waiter, queue_sid
from dispatch.sim.twiml import SimError, Verb, gathered, parse, shown, to_int, waiting_for

if TYPE_CHECKING:
    from dispatch.sim.services import PhoneCall

MAX_HOPS = 12
SPOKEN_CHARS_PER_SECOND = 4  # how long a <Say> takes, for when the browser asks the waitUrl again
MIN_HOLD_SECONDS = 5


def queue_params(call: PhoneCall, queue: str, queue_time: int) -> dict[str, str]:
    """What Twilio sends the waitUrl: the caller's place and the queue's size and average wait."""
    place, size, since = call.switch.position(call.call_sid) if call.switch else (0, 0, [])
    now = utcnow()
    average = round(sum((now - t).total_seconds() for t in since) / len(since)) if since else queue_time
    return call.params(
        QueueSid=queue_sid(queue),
        QueueTime=str(queue_time),
        QueuePosition=str(place or 1),
        CurrentQueueSize=str(size or 1),
        AvgQueueTime=str(max(0, average)),
        MaxQueueSize=str(MAX_QUEUE_SIZE),
    )


def left_params(call: PhoneCall, queue: str, result: str, queue_time: int) -> dict[str, str]:
    """What Twilio sends the <Enqueue> action when the caller leaves the queue."""
    return call.params(QueueResult=result, QueueSid=queue_sid(queue), QueueTime=str(queue_time))


def enqueue(call: PhoneCall, screen: Screen, twiml: str, url: str, index: int, queue_time: int) -> Screen:
    """The caller joins the queue (or holds on in it): the waitUrl is asked, and what it answers plays."""
    verb = parse(twiml)[index]
    if call.switch is not None:
        waiter = Waiter(call.call_sid, call.phone, verb.text, twiml, url, index, utcnow())
        if not call.switch.enqueue(waiter):
            if call.switch.line_of_call(call.call_sid) is not None:
                # An old hold request after an agent answered: the line is what the caller hears now.
                screen.wait = {"kind": "line"}
                return screen
            screen.events.append({"kind": "queue_full"})
            return call._fetch(
                screen, *call._action(verb, url), left_params(call, verb.text, "queue-full", 0)
            )
    screen.twiml, screen.url = twiml, url
    screen.wait = _waiting(call, verb, index, queue_time)
    wait_url = verb.attrs.get("waitUrl")
    if not wait_url:
        return screen
    target = urljoin(url, wait_url)
    posted = call._request(
        screen, verb.attrs.get("waitUrlMethod", "POST"), target, queue_params(call, verb.text, queue_time)
    )
    if posted is None:
        return screen
    return run_hold(call, screen, twiml, url, index, queue_time, posted.body, target)


def run_hold(
    call: PhoneCall,
    screen: Screen,
    twiml: str,
    url: str,
    index: int,
    queue_time: int,
    hold_twiml: str,
    hold_url: str,
    start: int = 0,
    hops: int = 0,
) -> Screen:
    """Play a hold document (the waitUrl's, or a hold <Gather> action's) from verb `start`."""
    verb = parse(twiml)[index]
    screen.twiml, screen.url = twiml, url
    screen.wait = _waiting(call, verb, index, queue_time)
    seconds = 0
    held_verbs = parse(hold_twiml)
    for at in range(start, len(held_verbs)):
        held = held_verbs[at]
        if held.name == "Leave":
            return leave(call, screen, twiml, url, index, queue_time)
        if held.name == "Hangup":
            if call.switch is not None:
                call.switch.leave(call.call_sid)
            return call._end(screen, "hangup")
        if held.name == "Redirect":
            if hops >= MAX_HOPS:
                screen.events.append({"kind": "error", "status": 0, "text": "redirect loop"})
                return screen
            target = urljoin(hold_url, held.text)
            params = queue_params(call, verb.text, queue_time)
            posted = call._request(screen, held.attrs.get("method", "POST"), target, params)
            if posted is None:
                return screen
            return run_hold(call, screen, twiml, url, index, queue_time, posted.body, target, 0, hops + 1)
        if held.name == "Gather":
            # The keypad is open while the nested prompts play, and for the Gather's timeout after.
            screen.events.extend(shown(child) | {"hold": True} for child in held.children)
            seconds += sum(_seconds(child) for child in held.children) + (
                to_int(held.attrs.get("timeout"), 5) or 0
            )
            screen.wait |= {"gather": waiting_for(held, at), "hold_twiml": hold_twiml, "hold_url": hold_url}
            break
        screen.events.append(shown(held) | {"hold": True})
        seconds += _seconds(held)
    # When the document has played, Twilio asks the waitUrl again: the page does, after this long.
    screen.wait["hold_seconds"] = max(MIN_HOLD_SECONDS, seconds)
    return screen


def press_on_hold(
    call: PhoneCall,
    twiml: str,
    url: str,
    index: int,
    hold_twiml: str,
    hold_url: str,
    hold_index: int,
    keys: str,
    queue_time: int,
) -> Screen:
    """Keys for the <Gather> of a hold document: its action is asked, and what it answers plays in the
    queue (a <Leave> there takes the caller out, for the call-back key)."""
    verbs = parse(hold_twiml)
    if not 0 <= hold_index < len(verbs) or verbs[hold_index].name != "Gather":
        raise SimError(f"no hold <Gather> at verb {hold_index}")
    gather = verbs[hold_index]
    wait = waiting_for(gather, hold_index)
    digits, finished_on = gathered(keys, wait["num_digits"], wait["finish_on_key"])
    if not digits:
        raise SimError("no digits: press a key")
    screen = Screen()
    extra = {"Digits": digits} | ({"FinishedOnKey": finished_on} if finished_on else {})
    method, action = call._action(gather, hold_url)
    posted = call._request(screen, method, action, call.params(**extra))
    if posted is None:
        return run_hold(call, screen, twiml, url, index, queue_time, "<Response/>", hold_url)
    return run_hold(call, screen, twiml, url, index, queue_time, posted.body, action)


def leave(call: PhoneCall, screen: Screen, twiml: str, url: str, index: int, queue_time: int) -> Screen:
    """<Leave>: out of the queue; the <Enqueue> action hears `leave` and the call goes on with it."""
    verb = parse(twiml)[index]
    if call.switch is not None:
        call.switch.leave(call.call_sid)
    screen.events.append({"kind": "left_queue"})
    screen.wait = {}
    return call._fetch(screen, *call._action(verb, url), left_params(call, verb.text, "leave", queue_time))


def hang_up_waiting(call: PhoneCall, screen: Screen, verb: Verb, url: str, queue_time: int) -> None:
    """The caller hangs up in the queue: out of it, and the <Enqueue> action hears `hangup`."""
    if call.switch is not None:
        call.switch.leave(call.call_sid)
    if verb.attrs.get("action"):
        call._request(screen, *call._action(verb, url), left_params(call, verb.text, "hangup", queue_time))


def after_bridge(
    call: PhoneCall, waiter: Waiter, queue_time: int, caller_hung_up: bool, duration: int
) -> Screen:
    """A call with an agent has ended: the <Enqueue> action hears `bridged`. After the agent hung up
    the caller hears what it answers; after the caller did, the call is over."""
    screen = Screen()
    verb = parse(waiter.twiml)[waiter.index]
    params = left_params(call, waiter.queue, "bridged", queue_time)
    action = call._action(verb, waiter.url)
    if caller_hung_up:
        call._request(screen, *action, params)
        return call._end(screen, "hangup", duration)
    screen.events.append({"kind": "agent_hung_up"})
    return call._fetch(screen, *action, params)


def _waiting(call: PhoneCall, verb: Verb, index: int, queue_time: int) -> dict[str, Any]:
    place, size, _ = call.switch.position(call.call_sid) if call.switch else (0, 0, [])
    return waiting_for(verb, index) | {"queue_time": queue_time, "position": place, "size": size}


def _seconds(verb: Verb) -> int:
    if verb.name == "Pause":
        return to_int(verb.attrs.get("length"), 1) or 0
    if verb.name == "Say":
        return math.ceil(len(verb.text) / SPOKEN_CHARS_PER_SECOND)
    return 0
