"""The app's URL rules, whose URL builders are compiled once per process instead of once per app.

Werkzeug compiles two Python functions for every rule it binds (to build the rule's URL, with and
without extra query arguments) by generating and compiling code: about four fifths of `create_app`'s
time for our ~130 rules. Production builds one app per process, so this changes nothing there; the
test suite builds an app per test. A builder is a pure function of what it is generated from (the
rule's text, its parsed parts, its defaults, its converters' classes): the function takes the rule
as its first argument and reads the rule's converters from it when called. So builders generated
from equal inputs are interchangeable, and one is kept per distinct key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule

# Bounded by the distinct rules of the code (two builders each): no eviction needed.
_BUILDERS: dict[tuple[Any, ...], Callable[..., tuple[str, str]]] = {}


class CachedRule(Rule):
    """A werkzeug Rule whose builders come from the process-wide cache (`app.url_rule_class`)."""

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        key = (
            self.rule,
            tuple(self._trace),  # the parsed domain and path: static text and variable names, in order
            append_unknown,
            # A default of a variable in the rule is built in as a constant (through its converter).
            repr(sorted((self.defaults or {}).items())),
            tuple(sorted((name, type(converter)) for name, converter in self._converters.items())),
        )
        builder = _BUILDERS.get(key)
        if builder is None:
            builder = _BUILDERS[key] = super()._compile_builder(append_unknown)
        return builder
