"""Fault suite: the production shape (gunicorn, workers, PostgreSQL, Redis, fake Twilio) under faults."""
