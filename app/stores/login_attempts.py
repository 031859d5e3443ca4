"""Failed sign-ins per (account, client) and the clients an account signed in from, in Redis.

The account is the normalised email as typed, whether or not anyone registered it, so unknown and known
addresses are throttled alike. The client is the caller's IP address.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from realtime.redis_client import RedisClient

# One hash tag per account, so the transactions below touch one Redis Cluster slot.
_FAILURES = "lf:login:{{{account}}}:fail:{client}"
_NEXT = "lf:login:{{{account}}}:next:{client}"
_KNOWN = "lf:login:{{{account}}}:known"
_KNOWN_KEEP = 20  # the most recent clients remembered per account


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int
    window_seconds: int
    max_delay_seconds: int
    known_client_seconds: int

    def delay_after(self, failures: int) -> int:
        """Seconds before the next attempt after `failures` consecutive failures: 0 while they are free,
        then 1, 2, 4, … capped at the maximum."""
        beyond = failures - self.free_failures
        if beyond <= 0:
            return 0
        return min(self.max_delay_seconds, 1 << min(beyond - 1, 30))


def _account_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


class LoginAttempts:
    def __init__(self, redis: RedisClient, policy: ThrottlePolicy) -> None:
        self._redis = redis
        self.policy = policy

    def _keys(self, email: str, client: str) -> tuple[str, str]:
        account = _account_key(email)
        return _FAILURES.format(account=account, client=client), _NEXT.format(account=account, client=client)

    async def wait_seconds(self, email: str, client: str) -> int:
        """How long this client must still wait before trying this account again (0: go ahead)."""
        _, next_key = self._keys(email, client)
        remaining_ms = await self._redis.pttl(next_key)
        return math.ceil(int(remaining_ms) / 1000) if remaining_ms and remaining_ms > 0 else 0

    async def failed(self, email: str, client: str) -> tuple[int, int]:
        """Count a failure; returns (consecutive failures, seconds the client must now wait)."""
        failures_key, next_key = self._keys(email, client)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(failures_key)
            pipe.expire(failures_key, self.policy.window_seconds)
            count, _ = await pipe.execute()
        delay = self.policy.delay_after(int(count))
        if delay:
            await self._redis.set(next_key, "1", ex=delay)
        return int(count), delay

    async def succeeded(self, email: str, client: str) -> None:
        failures_key, next_key = self._keys(email, client)
        known_key = _KNOWN.format(account=_account_key(email))
        now = time.time()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(failures_key, next_key)
            pipe.zadd(known_key, {client: now})
            pipe.zremrangebyscore(known_key, "-inf", now - self.policy.known_client_seconds)
            pipe.zremrangebyrank(known_key, 0, -_KNOWN_KEEP - 1)
            pipe.expire(known_key, self.policy.known_client_seconds)
            await pipe.execute()

    async def is_known(self, email: str, client: str) -> bool:
        """Whether this client signed in to this account recently."""
        seen = await self._redis.zscore(_KNOWN.format(account=_account_key(email)), client)
        return seen is not None and float(seen) >= time.time() - self.policy.known_client_seconds
