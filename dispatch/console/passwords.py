"""Agent passwords: hashed with werkzeug's scrypt (PASSWORD_HASH_METHOD); a minimum length, nothing
cleverer."""

from __future__ import annotations

from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

from dispatch.runtime import get_runtime
from dispatch.settings import Settings

MIN_PASSWORD_LENGTH = 8
DEFAULT_METHOD = Settings.PASSWORD_HASH_METHOD  # scrypt


class PasswordTooShort(ValueError):
    pass


def hash_method() -> str:
    """The running service's PASSWORD_HASH_METHOD (web, worker, tests); scrypt outside one."""
    try:
        return get_runtime().settings.PASSWORD_HASH_METHOD
    except RuntimeError:  # no runtime: a command that was given its method, or none
        return DEFAULT_METHOD


def hash_password(password: str, method: str | None = None) -> str:
    """`method`: werkzeug's name, by default `hash_method()`."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordTooShort(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return generate_password_hash(password, method or hash_method())


@cache
def _dummy_hash(method: str) -> str:
    """Checked against when the username is unknown, so a wrong username takes as long as a wrong
    password (hashed as the service hashes passwords: one per method, made when first needed)."""
    return generate_password_hash("not-a-real-password", method)


_dummy_hash(DEFAULT_METHOD)  # made at import, as before: production's first unknown username is not slower


def check_password(password_hash: str | None, password: str) -> bool:
    stored = password_hash or _dummy_hash(hash_method())
    return check_password_hash(stored, password) and password_hash is not None
