"""CPU a webhook costs in-process, by kind of message, against the floor (signature + store only).

The max-rate rounds say how fast the whole server is; this says what each kind of text costs the web
process's Python, without gunicorn, the load generator or other people's work in the figure (CPU time,
not wall time: waiting on PostgreSQL or Redis is not counted). Flask's test client, one at a time.
"""

from __future__ import annotations

import time
from typing import Any

from benchwebhooks import FLOOR_PATH, WEBHOOK_PATH
from benchwebhooks.measure import Bench
from benchwebhooks.webhooks import REPLY_MIX


def cpu_by_kind(bench: Bench, per_kind: int = 60, warm_up: int = 20) -> dict[str, Any]:
    """Milliseconds of this process's CPU a webhook, the floor and each kind of REPLY_MIX."""
    from benchwebhooks.wsgi import store_only
    from dispatch import create_app

    assert bench.webhooks is not None
    app = create_app(bench.env())
    app.add_url_rule(FLOOR_PATH, view_func=store_only, methods=["POST"])
    client = app.test_client()
    sent = 0

    def signed(path: str, kind: str) -> tuple[str, dict[str, str]]:
        nonlocal sent
        sent += 1
        assert bench.webhooks is not None
        sender, body = bench.webhooks.reply(kind)
        params = bench.webhooks.params(f"SMck{sent:030x}", sender, body)
        return bench.webhooks.validator.compute_signature(bench.base + path, params), params

    def cpu_ms(path: str, kind: str) -> float:
        requests = [signed(path, kind) for _ in range(warm_up + per_kind)]
        started = 0.0
        for number, (signature, params) in enumerate(requests):
            if number == warm_up:
                started = time.process_time()
            response = client.post(path, data=params, headers={"X-Twilio-Signature": signature})
            if response.status_code != 200:
                raise RuntimeError(f"{path} {kind}: answered {response.status_code}")
        return (time.process_time() - started) / per_kind * 1000

    try:
        floor = cpu_ms(FLOOR_PATH, "`帮助`")
        kinds = {kind: round(cpu_ms(WEBHOOK_PATH, kind), 2) for kind, _share in REPLY_MIX}
    finally:
        app.extensions["dispatch.runtime"].db.engine.dispose()
    mix = sum(share * kinds[kind] for kind, share in REPLY_MIX) / sum(share for _, share in REPLY_MIX)
    for kind, ms in kinds.items():
        print(f"  {kind:32s} {ms:5.2f} ms  ({ms / floor:.1f}x the floor)")
    print(f"  the floor (signature + store): {floor:.2f} ms; the mix: {mix:.2f} ms ({mix / floor:.1f}x)")
    return {"floor_ms": round(floor, 2), "mix_ms": round(mix, 2), "kinds_ms": kinds}
