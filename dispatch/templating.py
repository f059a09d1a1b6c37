"""Page templates compiled once per process, whatever number of apps it builds.

Each Flask app has a Jinja environment of its own, which compiles each template the first time a page
uses it (tens of milliseconds a template: Jinja parses it, generates Python and compiles that). A
server process builds one app, so this changes nothing there; the test suite builds an app per test
and paid that again in every test that renders a page. Jinja's bytecode caches exist for this: the
compiled code is kept under the template's name and file, with the checksum of its source (a
template edited since is compiled again, as without the cache), here in memory for the process.

Compiled code also depends on how the environment parses and checks templates, so the key says that
too: two environments configured alike share their templates' code, others do not.
"""

from __future__ import annotations

import threading
from typing import Any

from jinja2 import Environment
from jinja2.bccache import Bucket, BytecodeCache


def _configuration(environment: Environment) -> tuple[Any, ...]:
    """What a template's compiled code depends on besides its source: the syntax and whitespace
    options, the extensions, the filters and tests known at compile time (an unknown one is an error
    then), autoescaping, finalize and async."""
    autoescape: Any = environment.autoescape
    if not isinstance(autoescape, bool):
        # A function of the template's name, called when compiling: Flask's is a method of the app
        # (select_jinja_autoescape), a new bound method each time, so its function and class are kept.
        owner = getattr(autoescape, "__self__", None)
        autoescape = (getattr(autoescape, "__func__", autoescape), type(owner))
    return (
        type(environment),
        environment.block_start_string,
        environment.block_end_string,
        environment.variable_start_string,
        environment.variable_end_string,
        environment.comment_start_string,
        environment.comment_end_string,
        environment.line_statement_prefix,
        environment.line_comment_prefix,
        environment.trim_blocks,
        environment.lstrip_blocks,
        environment.newline_sequence,
        environment.keep_trailing_newline,
        environment.optimized,
        environment.is_async,
        environment.finalize is not None,
        autoescape,
        tuple(sorted(environment.extensions)),
        tuple(sorted(environment.filters)),
        tuple(sorted(environment.tests)),
    )


class ProcessBytecodeCache(BytecodeCache):
    """Jinja bytecode kept in memory for the process, shared by every environment given it."""

    def __init__(self) -> None:
        self._code: dict[tuple[Any, ...], bytes] = {}
        self._lock = threading.Lock()  # a threaded server's requests may compile at once

    def _key(self, bucket: Bucket) -> tuple[Any, ...]:
        return (bucket.key, _configuration(bucket.environment))

    def load_bytecode(self, bucket: Bucket) -> None:
        with self._lock:
            code = self._code.get(self._key(bucket))
        if code is not None:
            bucket.bytecode_from_string(code)  # ignored (compiled again) if the source's checksum differs

    def dump_bytecode(self, bucket: Bucket) -> None:
        code = bucket.bytecode_to_string()
        with self._lock:
            self._code[self._key(bucket)] = code


# Bounded by the templates of the code times the environments' configurations (one, the app's).
BYTECODE_CACHE = ProcessBytecodeCache()
