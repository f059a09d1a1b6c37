"""Logging for every dispatch process: one format, quiet where a line would be noise, and no phone
number in full in any line.

The code logs ids and masked numbers (`dispatch.sms.gateway.mask_phone`), never a number; the filter
here is a safety net for what slips through (a database error's DETAIL, a URL, a traceback). Polls
(the queue page every 3 s, the simulator's chat every second) leave no access line unless they fail,
and the access lines never carry a query string.
"""

from __future__ import annotations

import logging
import re
import sys

from dispatch.sms.gateway import mask_phone

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Loggers that say too much at INFO for an operator: the migrations' every step, Twilio's HTTP client.
QUIET = {"alembic": logging.WARNING, "twilio.http_client": logging.WARNING}
# gunicorn's loggers do not propagate to the root, so they get the masking filter of their own.
GUNICORN_LOGGERS = ("gunicorn.error", "gunicorn.access")

# A phone number as it may turn up in a line: E.164 (+8613800138000, also URL-encoded as %2B86...),
# a CN mobile (13800138000, 138 0013 8000, 138-0013-8000), or any other run of 11-15 digits. Not the
# tail of an ASCII word, a hex id or a decimal (Chinese text right before a number does not shield it).
PHONE_LIKE = re.compile(
    r"(?<![A-Za-z0-9_.-])"
    r"(?:\+|%2[Bb])?"
    r"(?:(?:86[ -]?)?1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4}|[0-9]{11,15})"
    r"(?![0-9])"
)

# The pages that poll; a successful poll is not worth a line (a failed one still is).
POLLS = re.compile(
    r"^/(?:console/tickets/rows|console/people/(?:workers|employers)/\d+/timeline|sim/phone/[^/]+/messages)$"
)
QUIET_STATUSES = {"200", "204", "304"}
_REQUEST_LINE = re.compile(r"^(?P<method>[A-Z]+) (?P<target>\S+)(?P<rest> HTTP/[\d.]+)?$")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_TRACEBACKS = logging.Formatter()  # formats a traceback as every handler's formatter would


def mask_numbers(text: str) -> str:
    """Every phone-like run in `text` as 138****5678."""
    return PHONE_LIKE.sub(_mask_match, text)


def _mask_match(match: re.Match[str]) -> str:
    digits = re.sub(r"[^0-9]", "", match.group(0).removeprefix("%2B").removeprefix("%2b"))
    return mask_phone(digits)


class MaskPhoneNumbers(logging.Filter):
    """Renders a record's message (with its arguments), traceback and stack once, masked; every handler
    after this one sees only the masked text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: keep both, masked
            message = f"{record.msg!s} (arguments: {record.args!r})"
        record.msg, record.args = mask_numbers(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_numbers(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_numbers(record.stack_info)
        return True


def _without_query(target: str) -> str:
    return target.split("?", 1)[0]


class QuietRequests(logging.Filter):
    """The development server's request lines (werkzeug): none for a successful poll, and the path
    without its query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not (isinstance(args, tuple) and len(args) == 3 and isinstance(args[0], str)):
            return True  # not a request line: the banner, an error
        line = _REQUEST_LINE.match(_ANSI.sub("", args[0]))
        if line is None:
            return True
        path = _without_query(line["target"])
        if line["method"] in {"GET", "HEAD"} and POLLS.match(path) and str(args[1]) in QUIET_STATUSES:
            return False
        record.args = (f"{line['method']} {path}{line['rest'] or ''}", *args[1:])
        return True


class QuietAccessLog(logging.Filter):
    """gunicorn's access lines: none for a successful poll; the query string and the referrer's never
    logged, whatever access_log_format says."""

    def filter(self, record: logging.LogRecord) -> bool:
        atoms = record.args
        if not isinstance(atoms, dict):
            return True
        method, path, status = atoms.get("m"), atoms.get("U") or "", str(atoms.get("s"))
        if method in {"GET", "HEAD"} and POLLS.match(path) and status in QUIET_STATUSES:
            return False
        atoms["r"] = f"{method} {path} {atoms.get('H')}"
        atoms["q"] = "-"
        if isinstance(atoms.get("f"), str):
            atoms["f"] = _without_query(atoms["f"])
        return True


def configure_logging(debug: bool = False) -> None:
    """One format on stderr at INFO (DEBUG with `debug`), numbers masked in every line, the noisy
    loggers quiet. Idempotent; handlers already on the root (a test runner's) are kept."""
    root = logging.getLogger()
    if not root.handlers:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(stream)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for handler in root.handlers:
        _add_once(handler, MaskPhoneNumbers)
    for name, level in QUIET.items():
        logging.getLogger(name).setLevel(logging.INFO if debug and name == "alembic" else level)
    _add_once(logging.getLogger("werkzeug"), QuietRequests)
    configure_gunicorn_loggers()


def configure_gunicorn_loggers() -> None:
    """gunicorn's error and access loggers mask numbers too (their handlers are gunicorn's own and are
    replaced on a reload; a filter on the logger stays)."""
    _add_once(logging.getLogger("gunicorn.access"), QuietAccessLog)
    for name in GUNICORN_LOGGERS:
        _add_once(logging.getLogger(name), MaskPhoneNumbers)


def _add_once(target: logging.Logger | logging.Handler, kind: type[logging.Filter]) -> None:
    if not any(isinstance(existing, kind) for existing in target.filters):
        target.addFilter(kind())
