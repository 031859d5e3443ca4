"""What authenticating a request needs to know about its caller, in one Redis read on most requests.

The read (one MGET for all the requests authenticated in one event-loop tick) asks Redis whether the
token or its session is revoked and which *version* of the account is current. The account row itself
(role, block, activity) is kept in the process beside the version it was read under, and read again
from PostgreSQL only when Redis names another version, names none, or the kept row is older than
`MAX_AGE_SECONDS`.

Every change of an account's role, block or activity calls `account_changed` after its commit, which
gives the account a new version in Redis, so the next request on any instance reads the row again: an
admin's change counts on the caller's very next request, as when every request read the row.
`MAX_AGE_SECONDS` bounds how long a change made outside the app (SQL typed into psql) goes unseen.

Ordering that keeps this right: a version is only ever *replaced* after the commit it announces, and
a process that finds no version claims one (`SET NX`) *before* it reads the row, so a row read before a
commit is always kept under a version that the commit's `account_changed` replaces.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from redis.asyncio.cluster import RedisCluster

from app.stores.accounts import AccountState, account_state
from app.stores.revocation import RevocationList
from app.stores.sql import Database
from app.tick_batch import TickBatcher
from realtime.redis_client import RedisClient

ACCOUNT_VERSION = "lf:account-version:"
# A version only has to outlive the rows kept under it; one that expired is claimed afresh.
VERSION_SECONDS = 86_400
MAX_AGE_SECONDS = 10.0
KEPT_ACCOUNTS = 50_000


@dataclass(frozen=True)
class Caller:
    revoked: bool
    account: AccountState | None


@dataclass(frozen=True)
class _Kept:
    version: str
    account: AccountState
    stale_at: float


class Callers:
    def __init__(self, db: Database, redis: RedisClient, revocations: RevocationList) -> None:
        self._db = db
        self._redis = redis
        self._revocations = revocations
        # A request's keys live in different slots of a cluster; its client splits the MGET by slot.
        self._in_cluster = isinstance(redis, RedisCluster)
        # Requests authenticated in the same event-loop tick share one MGET.
        self._reads: TickBatcher[tuple[str, ...], tuple[str | None, ...]] = TickBatcher(self._read)
        self._kept: dict[int, _Kept] = {}

    async def caller(self, jti: str, session_id: str, user_id: int) -> Caller:
        keys = (*self._revocations.keys_of(jti, session_id), ACCOUNT_VERSION + str(user_id))
        revoked_token, revoked_session, version = await self._reads.submit(keys)
        if revoked_token is not None or revoked_session is not None:
            return Caller(revoked=True, account=None)
        return Caller(revoked=False, account=await self._account(user_id, version))

    @property
    def redis_reads(self) -> int:
        """MGETs made so far (each answers every request of one tick)."""
        return self._reads.batches

    async def _read(self, key_groups: Sequence[tuple[str, ...]]) -> list[tuple[str | None, ...]]:
        keys = [key for group in key_groups for key in group]
        if self._in_cluster:
            values = await cast(RedisCluster, self._redis).mget_nonatomic(keys)
        else:
            values = await self._redis.mget(keys)
        answers = iter(_text(value) for value in values)
        return [tuple(next(answers) for _ in group) for group in key_groups]

    async def account_changed(self, user_id: int) -> None:
        """Call after committing a change of the account's role, block or activity."""
        self._kept.pop(user_id, None)
        await self._redis.set(ACCOUNT_VERSION + str(user_id), uuid.uuid4().hex, ex=VERSION_SECONDS)

    async def _account(self, user_id: int, version: str | None) -> AccountState | None:
        now = time.monotonic()
        if version is not None:
            kept = self._kept.get(user_id)
            if kept is not None and kept.version == version and now < kept.stale_at:
                return kept.account
        else:
            version = uuid.uuid4().hex
            key = ACCOUNT_VERSION + str(user_id)
            claimed = await self._redis.set(key, version, nx=True, ex=VERSION_SECONDS)
            if not claimed:
                version = None  # another process claimed one meanwhile: read the row, keep nothing
        account = await account_state(self._db, user_id)
        self._kept.pop(user_id, None)
        if account is None or version is None:
            return account
        if len(self._kept) >= KEPT_ACCOUNTS:
            del self._kept[next(iter(self._kept))]  # the longest kept goes first
        # Between half and all of MAX_AGE_SECONDS, so rows read together are not all read again together.
        self._kept[user_id] = _Kept(version, account, now + MAX_AGE_SECONDS * (0.5 + random.random() / 2))
        return account


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value
