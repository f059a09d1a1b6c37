"""The softphone's access token: a short-lived JWT letting the browser place calls through the TwiML App.

Without an API key, secret and TwiML App (a first run) the console's phone works offline, against the
simulator (dispatch/console/static/phone_offline.js), and no token is made.
"""

from __future__ import annotations

from typing import Any

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from dispatch.models import Agent
from dispatch.settings import Settings

TWILIO = "twilio"
OFFLINE = "offline"


def phone_mode(settings: Settings) -> str:
    """ "twilio" when the account can mint voice tokens, else "offline"."""
    ready = settings.TWILIO_API_KEY and settings.TWILIO_API_SECRET and settings.TWILIO_TWIML_APP_SID
    return TWILIO if ready else OFFLINE


def voice_token(settings: Settings, agent: Agent) -> dict[str, Any]:
    """The token endpoint's answer. The identity is the agent's username: the TwiML App's request names
    it as `From=client:<username>`, which is how /voice/agent knows who is calling."""
    if phone_mode(settings) == OFFLINE:
        return {"mode": OFFLINE}
    token = AccessToken(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_API_KEY,
        settings.TWILIO_API_SECRET,
        identity=agent.username,
        ttl=settings.VOICE_TOKEN_TTL_SECONDS,
    )
    # Calls go out through the TwiML App only; incoming is allowed so a registered device may ring.
    token.add_grant(VoiceGrant(outgoing_application_sid=settings.TWILIO_TWIML_APP_SID, incoming_allow=True))
    return {
        "mode": TWILIO,
        "token": token.to_jwt(),
        "identity": agent.username,
        "ttl": settings.VOICE_TOKEN_TTL_SECONDS,
    }
