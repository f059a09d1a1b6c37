"""The Flask class of create_app: what its apps share within a process, compiled once for them all."""

from __future__ import annotations

from typing import Any

from flask import Flask

from dispatch.templating import BYTECODE_CACHE
from dispatch.url_rules import CachedRule


class DispatchFlask(Flask):
    """Flask, with URL builders (dispatch/url_rules.py) and templates (dispatch/templating.py) compiled
    once per process. Class attributes, so that Flask.__init__'s own static route has them too."""

    url_rule_class = CachedRule
    # Declared as Flask declares it (read once, when the app's Jinja environment is made; never changed).
    jinja_options: dict[str, Any] = {**Flask.jinja_options, "bytecode_cache": BYTECODE_CACHE}  # noqa: RUF012
