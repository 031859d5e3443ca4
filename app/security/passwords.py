"""bcrypt hashing, always off the event loop (each call costs tens of milliseconds by design)."""

from __future__ import annotations

import asyncio
from functools import cache

import bcrypt

# bcrypt ignores everything past 72 bytes; longer passwords are rejected by the schemas instead.
_MAX_BYTES = 72


@cache
def _dummy_hash(rounds: int) -> str:
    """Compared against when the account does not exist or has no password, at the configured cost, so
    the time an answer takes does not tell which emails are registered."""
    return bcrypt.hashpw(b"not-a-real-password", bcrypt.gensalt(rounds)).decode()


def _hash(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode()[:_MAX_BYTES], bcrypt.gensalt(rounds)).decode()


def _verify(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode()[:_MAX_BYTES], password_hash.encode())
    except ValueError:
        return False


async def hash_password(password: str, *, rounds: int) -> str:
    return await asyncio.to_thread(_hash, password, rounds)


def _verify_or_spend(password: str, password_hash: str | None, rounds: int) -> bool:
    if password_hash is None:
        _verify(password, _dummy_hash(rounds))
        return False
    return _verify(password, password_hash)


async def verify_password(password: str, password_hash: str | None, *, rounds: int) -> bool:
    """Whether `password` matches; without a hash the same work is done against a dummy one."""
    return await asyncio.to_thread(_verify_or_spend, password, password_hash, rounds)
