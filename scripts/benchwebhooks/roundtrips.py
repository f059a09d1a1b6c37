"""PostgreSQL round trips a webhook makes, by kind of message: counted on the wire.

A webhook's CPU cost follows its round trips to PostgreSQL (issue 14: 0.46 ms each, r = 0.995 over 13
kinds of message), so they are counted exactly, between the app and the server: the app connects
through a small TCP proxy (sslmode=disable, so the protocol can be read) that counts what the client
sends and then waits for: a simple Query ('Q': BEGIN, COMMIT, a ping) or the Sync ('S') closing an
extended-protocol statement. Every statement, BEGIN, COMMIT, SAVEPOINT and pool ping is one; nothing
the ORM or the driver does is left out. The webhooks are posted in-process (Flask's test client, one
at a time, the after-commit relay included), after a few of each kind to warm up.
"""

from __future__ import annotations

import contextlib
import re
import socket
import statistics
import struct
import threading
import unicodedata
from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from benchwebhooks import WEBHOOK_PATH
from benchwebhooks.measure import Bench
from benchwebhooks.webhooks import REPLY_MIX

WAITED_FOR = {b"Q", b"S"}  # client messages after which the client waits for ReadyForQuery


class CountingProxy:
    """127.0.0.1:<port> → the PostgreSQL server; counts the client's round trips on all connections."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.round_trips = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            threading.Thread(target=self._client_to_server, args=(client, server), daemon=True).start()
            threading.Thread(target=_pipe, args=(server, client), daemon=True).start()

    def _client_to_server(self, client: socket.socket, server: socket.socket) -> None:
        buffer, started = b"", False
        while True:
            try:
                data = client.recv(65536)
            except OSError:
                data = b""
            if not data:
                _close(client, server)
                return
            server.sendall(data)
            buffer += data
            while True:
                if not started:  # the startup packet: length, then contents, no type byte
                    if len(buffer) < 4 or len(buffer) < struct.unpack("!I", buffer[:4])[0]:
                        break
                    buffer, started = buffer[struct.unpack("!I", buffer[:4])[0] :], True
                    continue
                if len(buffer) < 5:
                    break
                size = struct.unpack("!I", buffer[1:5])[0]
                if len(buffer) < 1 + size:
                    break
                if buffer[:1] in WAITED_FOR:
                    with self._lock:
                        self.round_trips += 1
                buffer = buffer[1 + size :]


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    while True:
        try:
            data = source.recv(65536)
        except OSError:
            data = b""
        if not data:
            _close(source, sink)
            return
        try:
            sink.sendall(data)
        except OSError:
            _close(source, sink)
            return


def _close(*sockets: socket.socket) -> None:
    for one in sockets:
        with contextlib.suppress(OSError):
            one.close()


def proxied_url(database_url: str, port: int) -> str:
    parts = urlsplit(database_url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    query = "&".join(filter(None, [parts.query, "sslmode=disable"]))
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host, query=query))


def count_round_trips(bench: Bench, per_kind: int, warm_up: int = 10) -> dict[str, Any]:
    """Post `per_kind` webhooks of every kind of REPLY_MIX through the app, counting each one's round
    trips; accepts are split by what they got (a place, or the job already full)."""
    from sqlalchemy import create_engine, text

    from dispatch import create_app

    assert bench.webhooks is not None
    target = urlsplit(bench.args.database_url)
    proxy = CountingProxy(target.hostname or "127.0.0.1", target.port or 5432)
    app = create_app(bench.env(DATABASE_URL=proxied_url(bench.args.database_url, proxy.port)))
    client = app.test_client()
    direct = create_engine(bench.args.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    counts: dict[str, list[int]] = defaultdict(list)
    sent = 0
    try:
        for kind, _share in REPLY_MIX:
            for number in range(warm_up + per_kind):
                sent += 1
                sid = f"SMrt{sent:030x}"
                sender, body = bench.webhooks.reply(kind)
                params = bench.webhooks.params(sid, sender, body)
                signature = bench.webhooks.validator.compute_signature(bench.base + WEBHOOK_PATH, params)
                before = proxy.round_trips
                response = client.post(WEBHOOK_PATH, data=params, headers={"X-Twilio-Signature": signature})
                trips = proxy.round_trips - before
                if response.status_code != 200:
                    raise RuntimeError(f"{kind}: the webhook answered {response.status_code}")
                if number < warm_up:
                    continue
                counts[_label(direct, text, kind, sid, body)].append(trips)
    finally:
        app.extensions["dispatch.runtime"].db.engine.dispose()
        direct.dispose()
        proxy.close()
    result = {
        label: {"webhooks": len(trips), "mean": statistics.fmean(trips), "min": min(trips), "max": max(trips)}
        for label, trips in sorted(counts.items())
    }
    print(f"  PostgreSQL round trips a webhook, counted on the wire ({per_kind} of each kind):")
    for label, figures in result.items():
        print(
            f"    {figures['mean']:5.1f}  (min {figures['min']}, max {figures['max']}, "
            f"{figures['webhooks']} webhooks)  {label}"
        )
    return result


def _label(direct: Any, text: Any, kind: str, sid: str, body: str) -> str:
    """The kind, and for an accept what the worker got (the reply's kind) and whether the job's trade
    is high-risk (a place on one is insured first, in a savepoint: 3 round trips more)."""
    if not kind.startswith("accept"):
        return kind
    code = re.search(r"\d{3,8}", unicodedata.normalize("NFKC", body))
    with direct.connect() as connection:
        reply = connection.execute(
            text(
                "SELECT r.kind FROM message r JOIN message m ON r.in_reply_to_id = m.id "
                "WHERE m.provider_sid = :sid ORDER BY r.id LIMIT 1"
            ),
            {"sid": sid},
        ).scalar()
        high_risk = connection.execute(
            text("SELECT t.high_risk FROM job j JOIN trade t ON t.id = j.trade_id WHERE j.code = :code"),
            {"code": code.group(0) if code else ""},
        ).scalar()
    if reply != "placement.worker":
        return f"{kind}: no place ({reply})"
    return f"{kind}: a place, {'high-risk trade (insured first)' if high_risk else 'other trades'}"
