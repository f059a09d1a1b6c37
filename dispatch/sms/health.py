"""Whether an SMS provider is failing, as every worker process sees it: a circuit breaker kept in Redis.

Each attempt's outcome is recorded (a provider failure: no answer, unreachable, 5xx; a refusal of the
message itself, such as an invalid number or a frequency limit, is an answer and counts as success).
When, over the last SMS_FAILOVER_WINDOW_SECONDS, at least SMS_FAILOVER_MIN_ATTEMPTS attempts were made
and SMS_FAILOVER_ERROR_RATE of them failed, the provider is `down` for SMS_FAILOVER_COOLDOWN_SECONDS:
routing sends elsewhere. After that, one attempt at a time is let through as a probe (its lease is
SEND_LEASE_SECONDS, so a probe whose worker died does not block the next one); the probe's success
closes the breaker, its failure opens it for another cool-down.

Times are our clock's (dispatch.clock), passed into the scripts, so that tests move them; each key also
carries a Redis expiry so an idle provider's state goes away by itself.
"""

from __future__ import annotations

import enum
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from redis import Redis

from dispatch.settings import Settings

log = logging.getLogger(__name__)
KEY = "dispatch:sms-health:{provider}"
EXPIRE_SECONDS = 86_400


class State(enum.StrEnum):
    UP = "up"
    PROBE = "probe"  # down, cool-down over: this attempt is the one probe
    DOWN = "down"


# KEYS: state hash, ok events, failed events. ARGV: now (s), probe lease (s), expiry (s).
_CHECK = """
local down = tonumber(redis.call('HGET', KEYS[1], 'down_until') or '0')
if down == 0 then return 'up' end
local now = tonumber(ARGV[1])
if now < down then return 'down' end
local probe = tonumber(redis.call('HGET', KEYS[1], 'probe_until') or '0')
if now < probe then return 'down' end
redis.call('HSET', KEYS[1], 'probe_until', tostring(now + tonumber(ARGV[2])))
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 'probe'
"""

# ARGV: now, ok (1/0), member, window, min attempts, error rate, cool-down, expiry.
# Returns 'opened', 'closed', 'reopened' or 'same'.
_RECORD = """
local now = tonumber(ARGV[1])
local ok = ARGV[2] == '1'
local down = tonumber(redis.call('HGET', KEYS[1], 'down_until') or '0')
local expiry = ARGV[8]
if down ~= 0 then
  if now < down then return 'same' end
  if ok then
    redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
    return 'closed'
  end
  redis.call('HSET', KEYS[1], 'down_until', tostring(now + tonumber(ARGV[7])), 'probe_until', '0')
  redis.call('EXPIRE', KEYS[1], expiry)
  return 'reopened'
end
local key = ok and KEYS[2] or KEYS[3]
redis.call('ZADD', key, now, ARGV[3])
redis.call('EXPIRE', key, expiry)
local since = now - tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. since)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. since)
local failed = redis.call('ZCARD', KEYS[3])
local total = failed + redis.call('ZCARD', KEYS[2])
if total >= tonumber(ARGV[5]) and failed >= tonumber(ARGV[6]) * total then
  redis.call('HSET', KEYS[1], 'down_until', tostring(now + tonumber(ARGV[7])), 'probe_until', '0')
  redis.call('EXPIRE', KEYS[1], expiry)
  redis.call('DEL', KEYS[2], KEYS[3])
  return 'opened'
end
return 'same'
"""


@dataclass
class ProviderHealth:
    redis: Redis
    settings: Settings

    def __post_init__(self) -> None:
        self._check = self.redis.register_script(_CHECK)
        self._record = self.redis.register_script(_RECORD)

    @staticmethod
    def _keys(provider: str) -> list[str]:
        key = KEY.format(provider=provider)
        return [key, f"{key}:ok", f"{key}:failed"]

    def check(self, provider: str, now: datetime) -> State:
        """UP or DOWN; PROBE (once per lease) when the cool-down is over and this caller may try it."""
        lease = self.settings.SEND_LEASE_SECONDS
        answer = self._check(keys=self._keys(provider), args=[now.timestamp(), lease, EXPIRE_SECONDS])
        return State(answer.decode() if isinstance(answer, bytes) else answer)

    def record(self, provider: str, ok: bool, now: datetime) -> None:
        s = self.settings
        change = self._record(
            keys=self._keys(provider),
            args=[
                now.timestamp(),
                "1" if ok else "0",
                uuid.uuid4().hex,
                s.SMS_FAILOVER_WINDOW_SECONDS,
                s.SMS_FAILOVER_MIN_ATTEMPTS,
                s.SMS_FAILOVER_ERROR_RATE,
                s.SMS_FAILOVER_COOLDOWN_SECONDS,
                EXPIRE_SECONDS,
            ],
        )
        change = change.decode() if isinstance(change, bytes) else change
        if change == "opened":
            log.error(
                "SMS provider %s is failing; sending through the next one for %s s",
                provider,
                s.SMS_FAILOVER_COOLDOWN_SECONDS,
            )
        elif change == "reopened":
            log.warning("SMS provider %s: the probe failed; still failing over", provider)
        elif change == "closed":
            log.warning("SMS provider %s: the probe went through; sending through it again", provider)
