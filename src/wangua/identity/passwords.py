"""Password hashing with argon2id (R-12a: the password is the second factor)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile unless configured


def configure_password_hashing(time_cost: int, memory_kib: int, parallelism: int) -> None:
    """Set the argon2id cost for new hashes; existing hashes verify with their own."""
    global _hasher  # noqa: PLW0603  (one hasher per process, set once at start-up)
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
