#!/usr/bin/env python3
"""The load generators of scripts/bench_webhooks.py, run as processes of their own.

    python scripts/bench_webhooks_load.py open   --rate R --duration S --requests FILE --url URL
    python scripts/bench_webhooks_load.py closed --connections C --duration S --requests FILE --url URL

A requests file has one request a line, `<X-Twilio-Signature>\\t<form-encoded body>` (a POST), all
made and signed before the timed run; an empty file means a plain GET of the URL. Each request is
sent once, in file order: a run never repeats a MessageSid. Prints one JSON object on stdout.

`open` is an open-loop generator (as wrk2 is): request i is due at start + i/R whatever happened to
the others, and its latency is measured from that due time, not from when it could be sent, so a
stalled server is charged for every request that waited behind it (no coordinated omission).
`closed` keeps C requests in flight (each connection sends its next request when the last answer
came); it measures the maximum rate, and is the fallback when wrk is not installed.

Standard library only: non-blocking sockets on one epoll loop, one connection per request (gunicorn's
sync workers close every connection after the response), so that it costs the shared cores little.
The JSON says how much CPU the generator itself used.
"""

from __future__ import annotations

import argparse
import errno
import json
import math
import selectors
import socket
import sys
import time
from collections import Counter, deque
from urllib.parse import urlsplit

TIMEOUT = 15.0  # Twilio gives a webhook 15 s in all; a slower answer is an error


def load_requests(path: str, url: str) -> list[bytes]:
    """Raw HTTP/1.1 requests, built before the run so that the timed loop only writes bytes."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    host = parts.netloc
    with open(path, encoding="ascii") as lines:
        rows = [line.rstrip("\n") for line in lines if line.strip()]
    if not rows:
        return [f"GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: bench\r\n\r\n".encode()]
    requests = []
    for row in rows:
        signature, body = row.split("\t", 1)
        requests.append(
            (
                f"POST {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: TwilioProxy/1.1\r\n"
                f"X-Twilio-Signature: {signature}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n{body}"
            ).encode("ascii")
        )
    return requests


class Results:
    def __init__(self) -> None:
        self.latencies: list[float] = []  # seconds, of every request that got a response
        self.statuses: Counter[int] = Counter()
        self.failures: Counter[str] = Counter()  # no response: refused, reset, timed out

    def summary(self, wall: float, cpu: float) -> dict[str, object]:
        ordered = sorted(self.latencies)
        answered = len(ordered)
        non_200 = sum(count for status, count in self.statuses.items() if status != 200)

        def pct(share: float) -> float | None:
            if not ordered:
                return None
            return ordered[min(answered - 1, max(0, math.ceil(share * answered) - 1))] * 1000

        return {
            "requests": answered + sum(self.failures.values()),
            "ok": self.statuses.get(200, 0),
            "errors": non_200 + sum(self.failures.values()),
            "statuses": {str(status): count for status, count in sorted(self.statuses.items())},
            "failures": dict(self.failures),
            "seconds": wall,
            "rate": self.statuses.get(200, 0) / wall if wall else 0.0,
            "latency_ms": {
                "p50": pct(0.50),
                "p90": pct(0.90),
                "p99": pct(0.99),
                "p99.9": pct(0.999),
                "max": ordered[-1] * 1000 if ordered else None,
                "mean": sum(ordered) / answered * 1000 if ordered else None,
            },
            "client_cpu_seconds": cpu,
            "client_cpu_share": cpu / wall if wall else 0.0,
        }


class Exchange:
    """One request on a connection of its own, from the moment it was due (open loop) or sent."""

    __slots__ = ("buffer", "expected", "payload", "sent", "since", "sock", "status")

    def __init__(self, sock: socket.socket, payload: bytes, since: float) -> None:
        self.sock = sock
        self.payload = payload
        self.sent = 0
        self.since = since
        self.buffer = bytearray()
        self.status = 0
        self.expected = -1  # total bytes of the response, once its headers are in

    def read(self, data: bytes) -> bool:
        """Take response bytes; True once the whole response (headers + Content-Length) is in."""
        self.buffer += data
        if self.expected < 0:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return False
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            self.status = int(head[0].split(" ", 2)[1])
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    self.expected = end + 4 + int(value)
            if self.expected < 0:
                return False  # no length: the response ends when the server closes
        return len(self.buffer) >= self.expected


class Engine:
    """Non-blocking sockets on one epoll loop: a handful of system calls a request and no tasks or
    futures, so that the generator takes as little as it can of the cores the server needs."""

    def __init__(self, address: tuple[str, int], results: Results) -> None:
        self.address = address
        self.results = results
        self.selector = selectors.DefaultSelector()
        self.inflight: dict[int, Exchange] = {}
        self.on_finish = lambda: None  # the closed loop sends its next request from here

    def start(self, payload: bytes, since: float) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        error = sock.connect_ex(self.address)
        if error not in (0, errno.EINPROGRESS):
            sock.close()
            self.results.failures[errno.errorcode.get(error, str(error))] += 1
            self.on_finish()
            return
        exchange = Exchange(sock, payload, since)
        self.inflight[sock.fileno()] = exchange
        self.selector.register(sock, selectors.EVENT_WRITE, exchange)

    def poll(self, timeout: float) -> None:
        for key, _ in self.selector.select(timeout):
            exchange: Exchange = key.data
            sock = exchange.sock
            try:
                if exchange.sent < len(exchange.payload):
                    error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if error:
                        self._finish(exchange, errno.errorcode.get(error, str(error)))
                        continue
                    exchange.sent += sock.send(exchange.payload[exchange.sent :])
                    if exchange.sent >= len(exchange.payload):
                        self.selector.modify(sock, selectors.EVENT_READ, exchange)
                    continue
                data = sock.recv(65536)
            except OSError as exc:
                self._finish(exchange, errno.errorcode.get(exc.errno or 0, type(exc).__name__))
                continue
            if not data:  # the server closed: complete only if the response had no length
                complete = exchange.status and exchange.expected < 0
                self._finish(exchange, None if complete else "closed early")
            elif exchange.read(data):
                self._finish(exchange, None)

    def expire(self, now: float) -> None:
        for exchange in [e for e in self.inflight.values() if now - e.since > TIMEOUT]:
            self._finish(exchange, "timeout")

    def _finish(self, exchange: Exchange, failure: str | None) -> None:
        now = time.perf_counter()
        self.selector.unregister(exchange.sock)
        del self.inflight[exchange.sock.fileno()]
        exchange.sock.close()
        if failure is None:
            self.results.statuses[exchange.status] += 1
            self.results.latencies.append(now - exchange.since)
        else:
            self.results.failures[failure] += 1
        self.on_finish()


def open_loop(
    requests: list[bytes], address: tuple[str, int], rate: float, duration: float, max_open: int
) -> dict[str, object]:
    count = int(rate * duration)
    if count > len(requests) and len(requests) > 1:
        raise SystemExit(f"{count} requests are due but the file holds {len(requests)}")
    results = Results()
    engine = Engine(address, results)
    waiting: deque[tuple[bytes, float]] = deque()  # due, but over the socket bound: still late
    lag = 0.0  # how late the generator itself was in starting a request, at worst
    cpu0 = time.process_time()
    start = time.perf_counter() + 0.05
    sent = 0
    last_expiry = start
    while sent < count or engine.inflight or waiting:
        now = time.perf_counter()
        while sent < count and start + sent / rate <= now:
            due = start + sent / rate
            lag = max(lag, now - due)
            waiting.append((requests[sent % len(requests)], due))
            sent += 1
        while waiting and len(engine.inflight) < max_open:
            engine.start(*waiting.popleft())
        if now - last_expiry > 0.1:
            engine.expire(now)
            while waiting and now - waiting[0][1] > TIMEOUT:
                waiting.popleft()
                results.failures["timeout"] += 1
            last_expiry = now
        next_due = start + sent / rate if sent < count else now + 0.05
        engine.poll(max(0.0, min(next_due - now, 0.05)))
    # The rate answered is over the whole run, until the last answer: a server that falls behind
    # gets no credit for the requests it finishes after the sending stopped.
    wall = time.perf_counter() - start
    summary = results.summary(wall, time.process_time() - cpu0)
    summary.update(mode="open", target_rate=rate, generator_max_lag_ms=lag * 1000)
    return summary


def closed_loop(
    requests: list[bytes], address: tuple[str, int], connections: int, duration: float
) -> dict[str, object]:
    results = Results()
    engine = Engine(address, results)
    cpu0 = time.process_time()
    start = time.perf_counter()
    stop_at = start + duration
    state = {"next": 0, "ran_out": False}

    def send_next() -> None:
        now = time.perf_counter()
        if now >= stop_at:
            return
        index = state["next"]
        if len(requests) > 1 and index >= len(requests):
            state["ran_out"] = True
            return
        state["next"] = index + 1
        engine.start(requests[index % len(requests)], now)

    engine.on_finish = send_next
    for _ in range(connections):
        send_next()
    while engine.inflight:
        engine.poll(0.05)
        engine.expire(time.perf_counter())
    wall = time.perf_counter() - start
    summary = results.summary(wall, time.process_time() - cpu0)
    summary.update(mode="closed", connections=connections, ran_out=state["ran_out"])
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=["open", "closed"])
    parser.add_argument("--url", required=True, help="e.g. http://127.0.0.1:8000/sms/inbound")
    parser.add_argument("--requests", required=True, help="the requests file (empty: GET the URL)")
    parser.add_argument("--duration", type=float, required=True, help="seconds")
    parser.add_argument("--rate", type=float, default=0.0, help="open: requests a second")
    parser.add_argument("--connections", type=int, default=16, help="closed: requests in flight")
    parser.add_argument("--max-open", type=int, default=512, help="open: most sockets at once")
    args = parser.parse_args(argv)
    parts = urlsplit(args.url)
    requests = load_requests(args.requests, args.url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    if args.mode == "open":
        if args.rate <= 0:
            parser.error("open needs --rate")
        result = open_loop(requests, (host, port), args.rate, args.duration, args.max_open)
    else:
        result = closed_loop(requests, (host, port), args.connections, args.duration)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


# wrk's Lua side of the closed-loop run: each thread sends its own share of the prepared requests
# (every n-th line) once, so no MessageSid is sent twice; any status but 200 is counted as an error.
WRK_SCRIPT = r"""
local path = os.getenv("BENCH_REQUESTS")
local target = os.getenv("BENCH_PATH")
local nthreads = tonumber(os.getenv("BENCH_THREADS"))
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  prepared = {}
  non200 = 0
  wrapped = 0
  index = 0
  local n = 0
  for line in io.lines(path) do
    if line ~= "" then
      if n % nthreads == id then
        local signature, body = line:match("^([^\t]*)\t(.*)$")
        prepared[#prepared + 1] = wrk.format("POST", target, {
          ["X-Twilio-Signature"] = signature,
          ["Content-Type"] = "application/x-www-form-urlencoded",
          ["User-Agent"] = "TwilioProxy/1.1",
        }, body)
      end
      n = n + 1
    end
  end
  if #prepared == 0 then
    prepared[1] = wrk.format("GET", target)
    wrapped = -1
  end
end

function request()
  index = index + 1
  if index > #prepared then
    index = 1
    if wrapped >= 0 then wrapped = wrapped + 1 end
  end
  return prepared[index]
end

function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end

function done(summary, latency, requests)
  local bad, wraps = 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non200")
    wraps = math.max(wraps, thread:get("wrapped"))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "seconds": %.6f, "non_200": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d, "wrapped": %d, "p50": %.3f, "p90": %.3f, "p99": %.3f, ' ..
    '"p99.9": %.3f, "max": %.3f, "mean": %.3f}\n',
    summary.requests, summary.duration / 1e6, bad, e.connect, e.read, e.write, e.timeout, wraps,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000, latency.mean / 1000))
end
"""

if __name__ == "__main__":
    sys.exit(main())
