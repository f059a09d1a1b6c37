"""Where a webhook's time goes: webhooks posted in-process through the app's test client under
pyinstrument, one at a time (no gunicorn, no load generator); time by stage, SQL statements."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from benchwebhooks import WEBHOOK_PATH
from benchwebhooks.measure import Bench

PROFILE_STAGES = {
    "signature_is_valid": "check the Twilio signature",
    "store_inbound": "store the message (INSERT ... ON CONFLICT)",
    "handle_stored_inbound": "act on it (handlers, reply, outbox row, savepoint)",
    "relay_outbox_after_commit": "relay the outbox row to Redis (2nd transaction)",
}


def profile_webhooks(bench: Bench, count: int) -> dict[str, Any] | None:
    """Post `count` webhooks in this process through the app's test client under pyinstrument (no
    gunicorn, no load generator): where one webhook's wall time goes, stage by stage, and how many
    SQL statements it runs."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("  --profile needs pyinstrument (pip install pyinstrument)")
        return None
    from sqlalchemy import event

    from dispatch import create_app

    assert bench.webhooks is not None
    app = create_app(bench.env())
    engine = app.extensions["dispatch.runtime"].db.engine
    path = bench.tmp / "profile-requests.txt"
    bench.webhooks.write(path, count + 50, bench.base + WEBHOOK_PATH)
    rows = [line.rstrip("\n").split("\t", 1) for line in path.read_text().splitlines()]
    client = app.test_client()
    statements = 0

    def counted(*_: Any) -> None:
        nonlocal statements
        statements += 1

    def post(signature: str, body: str) -> None:
        response = client.post(
            WEBHOOK_PATH,
            data=body,
            headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
        )
        if response.status_code != 200:
            raise RuntimeError(f"profiled webhook answered {response.status_code}")

    for signature, body in rows[:50]:  # warm: imports, templates, prepared statements
        post(signature, body)
    event.listen(engine, "before_cursor_execute", counted)
    profiler = Profiler(interval=0.0005)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    profiler.start()
    for signature, body in rows[50:]:
        post(signature, body)
    profiler.stop()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    event.remove(engine, "before_cursor_execute", counted)
    engine.dispose()
    stages: Counter[str] = Counter()

    def walk(frame: Any) -> None:
        if frame.function in PROFILE_STAGES:
            stages[frame.function] += frame.time
            return
        for child in frame.children:
            walk(child)

    walk(profiler.last_session.root_frame())
    (bench.tmp / "profile.txt").write_text(profiler.output_text(unicode=True, show_all=False))
    profiler.write_html(str(bench.tmp / "profile.html"))
    sampled = profiler.last_session.duration
    result = {
        "webhooks": count,
        "wall_ms": wall * 1000 / count,
        "cpu_ms": cpu * 1000 / count,
        "sql_statements": statements / count,
        "stages_ms": {PROFILE_STAGES[name]: stages[name] * 1000 / count for name in PROFILE_STAGES},
    }
    result["stages_ms"]["the rest: transaction commit, Flask, WSGI"] = (
        (sampled - sum(stages.values())) * 1000 / count
    )
    print(
        f"  in-process, under the profiler: {result['wall_ms']:.1f} ms wall, {result['cpu_ms']:.1f} ms CPU, "
        f"{result['sql_statements']:.1f} SQL statements a webhook (profile in {bench.tmp / 'profile.txt'})"
    )
    for name, value in result["stages_ms"].items():
        print(f"    {value:6.2f} ms  {100 * value / max(1e-9, result['wall_ms']):4.0f}%  {name}")
    return result
