"""Password hashing with argon2id, the OWASP-recommended default."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_LENGTH = 10


@functools.cache
def _dummy_hash() -> str:
    # Verified against when a user does not exist, so a wrong name costs as long as a wrong
    # password. Made on first use: hashing at import would slow every `watchkeeper` command.
    return _hasher.hash("not a password of anyone's")


def weakness(password: str) -> str | None:
    """Given a proposed password, return why it is refused, or None if it will do."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if password.strip() != password:
        return "a password cannot start or end with white space"
    return None


def hash_password(password: str) -> str:
    """Given a password, return its argon2id hash (salted, with its parameters)."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Given a stored hash (None for an unknown user) and a password, return True if they match."""
    try:
        return (
            _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
        )
    except (VerificationError, InvalidHashError):
        return False
