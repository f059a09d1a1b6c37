"""The WSGI entry point for gunicorn: `gunicorn -c config/gunicorn.conf.py dispatch.wsgi:app`."""

from dispatch import create_app

app = create_app()
