"""The requests: signed inbound-SMS webhooks from the market's numbers, a realistic mix of replies,
each with a MessageSid never used before, made and signed before the timed run."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from benchwebhooks import ACCOUNT_SID, AUTH_TOKEN
from benchwebhooks.market import Market

SERVICE_NUMBER = "+8610690000"

# The replies sent, by share: (what, share). Every kind reaches a real handler (see `Webhooks.reply`).
REPLY_MIX = (
    ("accept `1 <code>`", 0.30),
    ("decline `2 <code>`", 0.15),
    ("bare `1`/`好`/`没空`", 0.10),
    ("`忙`", 0.08),
    ("`空`", 0.08),
    ("`我的`", 0.08),
    ("unreadable text", 0.11),
    ("new number", 0.05),
    ("`帮助`", 0.05),
)
UNREADABLE = (
    "师傅明天几点到",
    "收到谢谢老板",
    "多少钱一天啊",
    "在哪里集合？",
    "ok thanks see u",
    "下周还有活吗",
)


class Webhooks:
    """Signed inbound-SMS webhooks, each with a MessageSid never used before, whatever URL it is for."""

    def __init__(self, market: Market, rng: random.Random) -> None:
        self.market = market
        self.rng = rng
        self.validator = RequestValidator(AUTH_TOKEN)
        self.batch = 0
        self.new_numbers = 0
        self.kinds: Counter[str] = Counter()
        self._names = [name for name, _ in REPLY_MIX]
        self._weights = [share for _, share in REPLY_MIX]

    def reply(self, kind: str | None = None) -> tuple[str, str]:
        """(sender, body) of one reply of `kind`, or of one drawn from REPLY_MIX."""
        rng, market = self.rng, self.market
        kind = kind or rng.choices(self._names, self._weights)[0]
        self.kinds[kind] += 1
        if kind.startswith("accept"):
            phone, code = rng.choice(market.offers)
            return phone, rng.choice([f"1 {code}", f"接{code}", f"Y {code}", f"１ {code}"])
        if kind.startswith("decline"):
            phone, code = rng.choice(market.offers)
            return phone, f"2 {code}"
        if kind.startswith("bare"):
            return rng.choice(market.offers)[0], rng.choice(["1", "好", "没空", "2"])
        if kind == "unreadable text":
            return rng.choice(market.worker_phones), rng.choice(UNREADABLE)
        if kind == "new number":
            self.new_numbers += 1
            return f"+86188{self.new_numbers:08d}", rng.choice(["你好", "有活吗", "hello"])
        if kind == "`帮助`":
            return rng.choice(market.worker_phones), "帮助"
        return rng.choice(market.worker_phones), kind.strip("`")

    def write(self, path: Path, count: int, url: str) -> str:
        """Write `count` requests signed for `url` to `path`; returns the MessageSid prefix of the batch."""
        self.batch += 1
        prefix = f"SM{self.batch:04x}"
        with open(path, "w", encoding="ascii") as out:
            for number in range(count):
                sender, body = self.reply()
                sid = f"{prefix}{number:028x}"
                params = self.params(sid, sender, body)
                signature = self.validator.compute_signature(url, params)
                out.write(f"{signature}\t{urlencode(params)}\n")
        return prefix

    def params(self, sid: str, sender: str, body: str) -> dict[str, str]:
        """All of Twilio's parameters of an inbound SMS webhook."""
        return {
            "ToCountry": "CN",
            "ToState": "",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ToCity": "",
            "FromZip": "",
            "SmsSid": sid,
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": body,
            "FromCountry": "CN",
            "To": SERVICE_NUMBER,
            "ToZip": "",
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": sender,
            "ApiVersion": "2010-04-01",
        }
