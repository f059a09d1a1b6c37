#!/usr/bin/env python3
"""Webhook load benchmark (the code is in scripts/benchwebhooks/): `scripts/bench_webhooks.py --help`."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout: scripts/ is not a package
sys.path.insert(0, str(ROOT / "scripts"))

from benchwebhooks.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
