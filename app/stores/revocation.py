"""Revoked access tokens (by jti) and sessions (by refresh family), kept in Redis until they expire."""

from __future__ import annotations

from realtime.redis_client import RedisClient

_JTI = "lf:revoked:jti:"
_SESSION = "lf:revoked:sid:"
_USED = "lf:used:"


class RevocationList:
    def __init__(self, redis: RedisClient, access_ttl_seconds: int) -> None:
        self._redis = redis
        self._ttl = access_ttl_seconds

    async def revoke_token(self, jti: str, seconds_left: int) -> None:
        await self._redis.set(_JTI + jti, "1", ex=max(1, seconds_left))

    async def revoke_sessions(self, session_ids: list[str]) -> None:
        """Access tokens of these sessions stop working; they live at most one access lifetime."""
        if not session_ids:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for session_id in session_ids:
                pipe.set(_SESSION + session_id, "1", ex=self._ttl)
            await pipe.execute()

    async def is_revoked(self, jti: str, session_id: str) -> bool:
        return bool(await self._redis.exists(*self.keys_of(jti, session_id)))

    @staticmethod
    def keys_of(jti: str, session_id: str) -> tuple[str, str]:
        """The keys that exist while the token, or its session, is revoked."""
        return _JTI + jti, _SESSION + session_id

    async def use_once(self, name: str, ttl_seconds: int) -> bool:
        """True the first time `name` is used within `ttl_seconds` (one-time values such as OAuth states)."""
        return bool(await self._redis.set(_USED + name, "1", nx=True, ex=max(1, ttl_seconds)))
