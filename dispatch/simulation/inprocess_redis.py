"""The simulation's in-process Redis: fakeredis, with each command handed to the fake server as its
list of arguments instead of through the emulated socket.

redis-py packs every command into the wire protocol (RESP) and fakeredis parses it back, byte by byte,
in Python: about a tenth of a simulated day went to that round trip (docs/benchmarks.md "Simulation").
Here the packer keeps the encoded arguments (exactly what fakeredis's parser would have read off the
wire) and the fake socket runs them at once. Everything after that, the command itself, its reply,
MULTI/EXEC, Lua, expiries on the virtual clock, is fakeredis's as ever.
"""

from __future__ import annotations

import queue
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import fakeredis
from fakeredis import FakeRedisConnection
from fakeredis._msgs import CONNECTION_ERROR_MSG
from fakeredis._socket import FakeSocket


class Arguments(list[bytes]):
    """One command's arguments, encoded: what the fake server's parser would have read."""


class ArgumentsPacker:
    """redis-py's command packer (PythonRespSerializer.pack), without the packing."""

    def __init__(self, encode: Callable[[Any], bytes]) -> None:
        self.encode = encode

    def pack(self, *args: Any) -> list[Arguments]:
        # A command name may carry literal arguments ("CONFIG GET"): the server sees them apart.
        if isinstance(args[0], str):
            args = tuple(args[0].encode().split()) + args[1:]
        elif b" " in args[0]:
            args = tuple(args[0].split()) + args[1:]
        return [Arguments(map(self.encode, args))]


class Replies(deque[Any]):
    """The replies waiting to be read, for one thread: a command runs inside its sendall, so its reply
    is there when the client reads (fakeredis's queue.Queue takes a lock for each)."""

    put = deque.append

    def get(self) -> Any:
        return self.popleft()

    def get_nowait(self) -> Any:
        if not self:
            raise queue.Empty
        return self.popleft()

    def qsize(self) -> int:
        return len(self)

    def __bool__(self) -> bool:  # put_response tests the socket's queue for being open, not empty
        return True


class ArgumentsSocket(FakeSocket):
    """A fake socket that runs a command given as its arguments (bytes still go through the parser)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.responses = Replies()  # type: ignore[assignment]  # what fakeredis uses of a Queue

    def sendall(self, data: Any) -> None:
        if type(data) is not Arguments:
            super().sendall(data)
            return
        if not self._server.connected or self._killed:
            raise self._connection_error_class(CONNECTION_ERROR_MSG)
        self._process_command(data)


class ArgumentsConnection(FakeRedisConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._command_packer = ArgumentsPacker(self.encoder.encode)

    def pack_commands(self, commands: Iterable[Any]) -> list[Arguments]:
        return [packed for command in commands for packed in self._command_packer.pack(*command)]

    def _connect(self) -> FakeSocket:  # fakeredis's FakeBaseConnection._connect, with our socket
        if self._server is None or not self._server.connected:
            raise self._connection_error_class(CONNECTION_ERROR_MSG)
        return ArgumentsSocket(
            self._server,
            client_class=self._client_class,
            db=self.db,
            lua_modules=self._lua_modules,
            client_info=self._client_info,
        )


def in_process_redis() -> fakeredis.FakeRedis:
    """A fresh in-process Redis of its own."""
    return fakeredis.FakeRedis(server=fakeredis.FakeServer(), connection_class=ArgumentsConnection)
