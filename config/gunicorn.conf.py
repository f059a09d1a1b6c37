"""gunicorn settings for the web app: `gunicorn -c config/gunicorn.conf.py dispatch.wsgi:app`."""

import glob
import os
import tempfile

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
# Twilio gives a webhook 15 s in all; anything near that is a bug, not a slow request.
timeout = 15
graceful_timeout = 10
keepalive = 5
accesslog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 25.1+ opens a control socket at $XDG_RUNTIME_DIR or ~/.gunicorn/gunicorn.ctl, one path for
# every master of the user: two services would fight over it, and it is a door nobody here uses.
control_socket_disable = True
# No query string and no referrer (either may carry a phone number typed into a search): the path,
# method, status, size, time taken (ms) and user agent. dispatch.logs also drops successful polls.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'


def post_fork(server, worker):
    """In each worker, before the app loads: dispatch's log format and masking, for gunicorn's own
    loggers too (the master logs no request and imports no app code, so a HUP reload loads new code)."""
    from dispatch.logs import configure_logging

    configure_logging(debug=server.cfg.loglevel.lower() == "debug")


def on_starting(server):
    """/metrics adds up the webhook latencies of every worker process (prometheus_client's multiprocess
    mode): each worker writes its samples under PROMETHEUS_MULTIPROC_DIR. It is set here, in the master,
    before any worker imports prometheus_client, and emptied at each start. (A hook, not module code:
    reading this file must not change the environment of whoever reads it.)"""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="dispatch-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    os.makedirs(directory, exist_ok=True)
    for stale in glob.glob(os.path.join(directory, "*.db")):
        os.remove(stale)
