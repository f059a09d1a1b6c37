"""The operator's side: one-line errors at the command line, `dispatch check`, `/readyz` and `/metrics`.

Nothing here imports prometheus_client at import time (see dispatch/metrics.py for why that matters).
"""
