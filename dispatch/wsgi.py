"""The WSGI entry point for gunicorn: `gunicorn -c config/gunicorn.conf.py dispatch.wsgi:app`.

Each gunicorn worker imports this after the fork (no preload_app), so each runs its own spool replayer
thread; a file lock lets one at a time replay.
"""

from dispatch import create_app
from dispatch.logs import configure_logging
from dispatch.spool.replay import SpoolReplayer

configure_logging()  # also under a server started without config/gunicorn.conf.py (it may run twice)
app = create_app()
SpoolReplayer(app.extensions["dispatch.runtime"]).start()
