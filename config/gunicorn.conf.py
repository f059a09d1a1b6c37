"""gunicorn settings for the web app: `gunicorn -c config/gunicorn.conf.py dispatch.wsgi:app`."""

import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
# Twilio gives a webhook 15 s in all; anything near that is a bug, not a slow request.
timeout = 15
graceful_timeout = 10
keepalive = 5
accesslog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
