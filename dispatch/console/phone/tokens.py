"""The softphone's access token: a short-lived JWT letting the browser place calls through the TwiML App.

Without an API key, secret and TwiML App the console's phone works offline on a first run, against the
simulator (dispatch/console/static/phone_offline.js); a real deployment without them has no phone
("unconfigured": the bar says so, and an agent cannot choose available, so no caller waits for them).
"""

from __future__ import annotations

from typing import Any

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from dispatch.models import Agent
from dispatch.settings import Settings

TWILIO = "twilio"
OFFLINE = "offline"
UNCONFIGURED = "unconfigured"
IDENTITY_PREFIX = "agent_"


def phone_mode(settings: Settings) -> str:
    """ "twilio" when the account can mint voice tokens; else "offline" on a first run (the simulator is
    there to call), else "unconfigured" (a real deployment whose softphone is not set up)."""
    ready = settings.TWILIO_API_KEY and settings.TWILIO_API_SECRET and settings.TWILIO_TWIML_APP_SID
    if ready:
        return TWILIO
    return OFFLINE if settings.is_first_run else UNCONFIGURED


def can_take_calls(settings: Settings) -> bool:
    return phone_mode(settings) != UNCONFIGURED


def identity(agent: Agent) -> str:
    """The agent's Twilio client identity: `agent_<id>` (a username may hold characters Twilio refuses)."""
    return f"{IDENTITY_PREFIX}{agent.id}"


def agent_id_of(raw_identity: str) -> int | None:
    """The agent id in a client identity made by `identity`, else None."""
    number = raw_identity.removeprefix(IDENTITY_PREFIX)
    if number == raw_identity or not (number.isascii() and number.isdigit() and len(number) < 10):
        return None
    return int(number)


def voice_token(settings: Settings, agent: Agent) -> dict[str, Any]:
    """The token endpoint's answer. The TwiML App's request names the identity as
    `From=client:agent_<id>`, which is how /voice/agent knows who is calling."""
    mode = phone_mode(settings)
    if mode != TWILIO:
        return {"mode": mode}
    token = AccessToken(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_API_KEY,
        settings.TWILIO_API_SECRET,
        identity=identity(agent),
        ttl=settings.VOICE_TOKEN_TTL_SECONDS,
    )
    # Calls go out through the TwiML App only; the device is never registered to ring.
    token.add_grant(VoiceGrant(outgoing_application_sid=settings.TWILIO_TWIML_APP_SID, incoming_allow=False))
    return {
        "mode": TWILIO,
        "token": token.to_jwt(),
        "identity": identity(agent),
        "ttl": settings.VOICE_TOKEN_TTL_SECONDS,
    }
