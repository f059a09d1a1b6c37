"""The send rate per sender: slots spaced 1/rate apart, handed out atomically by Redis to every worker.

A message of n segments takes n slots: carriers count segments (a long code sends about 1 a second).
"""

from __future__ import annotations

import math

from redis import Redis

# Reserve the next free slot unless the wait exceeds the caller's limit. Redis's own clock is used so
# that every worker process (and a test's travelling clock) agrees on the time.
_RESERVE_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(next_free, now)
local wait = slot - now
if wait > tonumber(ARGV[2]) then
  return {0, wait}
end
local ttl_ms = math.floor((wait + tonumber(ARGV[1])) / 1000) + 1000
redis.call('SET', KEYS[1], tostring(slot + tonumber(ARGV[1])), 'PX', ttl_ms)
return {1, wait}
"""


class SendRateLimiter:
    def __init__(self, redis: Redis, per_second: float) -> None:
        self.redis = redis
        # Rounded up: a slot a microsecond short would let the rate be exceeded.
        self.interval_us = math.ceil(1_000_000 / per_second)
        self._script = redis.register_script(_RESERVE_SLOT)

    def reserve(self, sender: str, max_wait_seconds: float, segments: int = 1) -> tuple[bool, float]:
        """(True, wait): a slot is yours after `wait` seconds. (False, wait): none within the limit;
        nothing was reserved, try again in about `wait` seconds."""
        reserved, wait_us = self._script(
            keys=[f"dispatch:sms-rate:{sender}"],
            args=[self.interval_us * max(1, segments), int(max_wait_seconds * 1_000_000)],
        )
        return bool(reserved), int(wait_us) / 1_000_000
