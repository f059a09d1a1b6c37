"""The webhook load benchmark, run by scripts/bench_webhooks.py (the CLI is `benchwebhooks.cli`).

Only what several modules share lives here; benchwebhooks.wsgi imports it inside gunicorn, so it
stays free of anything heavy.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent  # the checkout
AUTH_TOKEN = "bench-auth-token-5f0c1e8d2b7a4c69"
ACCOUNT_SID = "AC" + "b" * 32
TRIVIAL_PATH = "/ping"
WEBHOOK_PATH = "/sms/inbound"
# The floor: the signature checked and the message stored in one transaction, nothing else
# (served by benchwebhooks.wsgi only, never by the production app).
FLOOR_PATH = "/bench/store-inbound"
SIGNED_PATHS = (FLOOR_PATH, WEBHOOK_PATH)
# Every measurement runs the endpoints in this order: the webhook last, as a webhook that cannot
# keep up leaves a backlog behind it.
PATHS = (TRIVIAL_PATH, FLOOR_PATH, WEBHOOK_PATH)
