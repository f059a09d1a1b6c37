"""The simulation's in-process Redis (commands handed to fakeredis as their arguments) answers as
fakeredis through its emulated socket does: replies, errors, transactions, Lua, expiries."""

from __future__ import annotations

from typing import Any

import fakeredis
import pytest
from redis import Redis
from redis.exceptions import ResponseError

from dispatch.simulation.inprocess_redis import ArgumentsSocket, in_process_redis


def _session(redis: Redis) -> list[Any]:
    """What RQ and the service ask of Redis, and the replies."""
    replies: list[Any] = [
        redis.set("plain", 1),
        redis.get("plain"),
        redis.set("with space", "a b"),  # a key with a space is one argument, not two
        redis.get("with space"),
        redis.set("lock", "1", nx=True, ex=30),
        redis.set("lock", "1", nx=True, ex=30),
        0 < redis.ttl("lock") <= 30,
        redis.hset("job", mapping={"status": "queued", "n": 3, "f": 1.5, "raw": b"\x00\xff"}),
        redis.hmget("job", ["status", "n", "missing"]),
        redis.zadd("registry", {"a": 2, "b": 1}),
        redis.zrange("registry", 0, -1, withscores=True),
        redis.rpush("queue", "x", "y"),
        redis.lpop("queue"),
        redis.eval("return redis.call('hget', KEYS[1], ARGV[1])", 1, "job", "status"),
        redis.script_load("return 1"),  # a command name of two words: SCRIPT LOAD
        redis.client_setname("simulation"),
        redis.client_getname(),
    ]
    with redis.pipeline() as pipeline:  # MULTI/EXEC, as RQ's bookkeeping runs
        pipeline.watch("job")
        pipeline.multi()
        pipeline.hset("job", "status", "finished")
        pipeline.zrem("registry", "a")
        pipeline.expire("job", 60)
        pipeline.hgetall("job")
        replies.append(pipeline.execute())
    with pytest.raises(ResponseError) as wrong_type:
        redis.lpush("job", "x")
    replies.append(str(wrong_type.value))
    unchecked = redis.pipeline(transaction=False)
    unchecked.get("plain").lpush("job", "x").get("lock")
    replies.append(
        [str(r) if isinstance(r, Exception) else r for r in unchecked.execute(raise_on_error=False)]
    )
    return replies


def test_it_answers_as_fakeredis_through_its_socket_does() -> None:
    redis = in_process_redis()
    assert _session(redis) == _session(fakeredis.FakeRedis(server=fakeredis.FakeServer()))
    # and it did not go through the socket's parser
    assert isinstance(redis.connection_pool.get_connection()._sock, ArgumentsSocket)  # type: ignore[attr-defined]
