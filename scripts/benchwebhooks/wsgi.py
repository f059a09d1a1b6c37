"""The benchmark's WSGI app: the production app (`create_app()`, as dispatch.wsgi) plus one route,
the floor of what any design of the inbound-SMS webhook must pay.

    gunicorn -c config/gunicorn.conf.py --pythonpath scripts benchwebhooks.wsgi:app

The floor checks the Twilio signature and stores the inbound message in one transaction, as
POST /sms/inbound does first, and nothing else: no handlers, no reply, no outbox row, no relay. It is
what the webhook would cost the web tier if acting on the message moved to a queue job (less the
enqueue such a design would add). Never registered on the production app.
"""

from __future__ import annotations

from flask import Response, current_app, request

from benchwebhooks import FLOOR_PATH
from dispatch import create_app
from dispatch.models import MessageStatus
from dispatch.sms.services import store_inbound
from dispatch.sms.views import EMPTY_TWIML
from dispatch.twilio_auth import twilio_signed


@twilio_signed
def store_only() -> Response:
    """Check the signature, store the message in one transaction, answer empty TwiML."""
    runtime = current_app.extensions["dispatch.runtime"]
    form = request.form.to_dict(flat=True)
    with runtime.db.transaction() as session:
        message = store_inbound(session, runtime.settings, form)
        if message is not None and message.status == MessageStatus.REJECTED:
            return Response(message.error_message, status=400, mimetype="text/plain")
    return Response(EMPTY_TWIML, mimetype="text/xml")


app = create_app()
app.add_url_rule(FLOOR_PATH, view_func=store_only, methods=["POST"])
