"""The spool: signed webhooks kept on local disk while the database cannot take them, replayed later.

RapidPro's courier does the same: Twilio never retries an SMS webhook, so a request answered with an
error while PostgreSQL is stopped or hung is a message lost. Instead the request is written to
SPOOL_DIR (one fsynced file each), answered 200, and fed through the normal path, in arrival order,
once the database answers again (replay.py). While anything waits there, new requests queue behind
it, so one sender's texts are handled in the order they came.
"""
