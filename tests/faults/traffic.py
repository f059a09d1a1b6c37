"""Inbound SMS as Twilio delivers them: signed form posts to /sms/inbound, one at a time or as steady load.

Twilio gives a webhook 15 s in all and never retries an SMS webhook that failed or timed out: a post
answered late, or with anything but 200, is a message lost.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import requests
from twilio.request_validator import RequestValidator

TWILIO_WEBHOOK_LIMIT = 15.0


@dataclass
class Post:
    """One inbound SMS and what became of its webhook."""

    sender: str
    seq: int  # the sender's sequence number: the order in which they texted
    sid: str
    body: str
    started: float = 0.0  # time.monotonic() when the post began
    elapsed: float | None = None
    status: int | None = None
    error: str | None = None

    def ok(self, limit: float = TWILIO_WEBHOOK_LIMIT) -> bool:
        return self.status == 200 and self.elapsed is not None and self.elapsed <= limit

    def outcome(self) -> str:
        if self.error is not None:
            return self.error
        return f"HTTP {self.status}"


class Webhooks:
    def __init__(self, public_base_url: str, account_sid: str, auth_token: str, service_number: str) -> None:
        self.url = public_base_url.rstrip("/") + "/sms/inbound"
        self.account_sid = account_sid
        self.validator = RequestValidator(auth_token)
        self.service_number = service_number

    def post(self, sender: str, body: str, seq: int = 0) -> Post:
        """Deliver one SMS and wait for the webhook's answer."""
        return self.deliver(Post(sender=sender, seq=seq, sid="SM" + uuid.uuid4().hex, body=body))

    def deliver(self, post: Post) -> Post:
        """POST `post` as Twilio does: form-encoded, signed over the URL and the form."""
        sender, body = post.sender, post.body
        form = {
            "MessageSid": post.sid,
            "AccountSid": self.account_sid,
            "From": sender,
            "To": self.service_number,
            "Body": body,
            "NumSegments": "1",
        }
        headers = {"X-Twilio-Signature": self.validator.compute_signature(self.url, form)}
        post.started = time.monotonic()
        try:
            answer = requests.post(self.url, data=form, headers=headers, timeout=TWILIO_WEBHOOK_LIMIT)
            post.status = answer.status_code
        except requests.Timeout:
            post.error = "timed out (Twilio gives up at 15 s)"
        except requests.RequestException as exc:
            post.error = f"{type(exc).__name__}"
        post.elapsed = time.monotonic() - post.started
        return post


class Load:
    """Texts at a steady total `rate` from `senders` in turn, each sender numbering its own texts.

    Runs in a thread so that a test can inject its fault meanwhile; every post runs in a pool big enough
    that a hung service never slows the senders down (Twilio does not wait for one webhook to send the next).
    """

    def __init__(self, hooks: Webhooks, senders: list[str], rate: float, bodies: list[str]) -> None:
        self.hooks = hooks
        self.senders = senders
        self.rate = rate
        self.bodies = bodies  # sender i always sends bodies[i % len(bodies)]
        self.pool = ThreadPoolExecutor(max_workers=96, thread_name_prefix="fault-webhook")
        self.futures: list[Future[Post]] = []
        self.posts: list[Post] = []  # every text so far, its sid known before its webhook is answered
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="fault-load", daemon=True)

    def start(self) -> Load:
        self.thread.start()
        return self

    def _run(self) -> None:
        started = time.monotonic()
        for k in range(10**6):
            due = started + k / self.rate
            if self.stop_event.wait(max(0.0, due - time.monotonic())):
                return
            index = k % len(self.senders)
            body = self.bodies[index % len(self.bodies)]
            post = Post(self.senders[index], k // len(self.senders), "SM" + uuid.uuid4().hex, body)
            self.posts.append(post)
            self.futures.append(self.pool.submit(self.hooks.deliver, post))

    def finish(self) -> list[Post]:
        """Stop sending and wait for every webhook's answer (each at most Twilio's 15 s)."""
        self.stop_event.set()
        self.thread.join()
        posts = [future.result() for future in self.futures]
        self.pool.shutdown(wait=True)
        return posts
