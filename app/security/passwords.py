"""bcrypt hashing, always off the event loop (each call costs tens of milliseconds by design)."""

from __future__ import annotations

import asyncio

import bcrypt

# bcrypt ignores everything past 72 bytes; longer passwords are rejected by the schemas instead.
_MAX_BYTES = 72
# Compared against when the account does not exist, so timing does not reveal which emails exist.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-real-password", bcrypt.gensalt(4)).decode()


def _hash(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode()[:_MAX_BYTES], bcrypt.gensalt(rounds)).decode()


def _verify(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode()[:_MAX_BYTES], password_hash.encode())
    except ValueError:
        return False


async def hash_password(password: str, *, rounds: int) -> str:
    return await asyncio.to_thread(_hash, password, rounds)


async def verify_password(password: str, password_hash: str | None) -> bool:
    return (
        await asyncio.to_thread(_verify, password, password_hash or _DUMMY_HASH) and password_hash is not None
    )
