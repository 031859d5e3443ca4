"""The process's live resources (store clients, limiter, token codec), opened once and closed once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import httpx

from app.config import Settings
from app.events import EventPublisher, LoggingPublisher
from app.http.public_cache import PublicCache
from app.http.ratelimit import RateLimiter
from app.security.tokens import TokenCodec
from app.stores.callers import Callers
from app.stores.login_attempts import LoginAttempts, ThrottlePolicy
from app.stores.mongo import DocumentStore
from app.stores.redis import create_redis
from app.stores.revocation import RevocationList
from app.stores.sql import Database
from realtime.hub import Hub
from realtime.redis_client import RedisClient

P = TypeVar("P")


@dataclass
class StoreUrls:
    database_url: str
    redis_url: str
    mongo_url: str


@dataclass
class Runtime:
    settings: Settings
    urls: StoreUrls
    db: Database
    redis: RedisClient
    documents: DocumentStore
    rate_limiter: RateLimiter
    tokens: TokenCodec
    revocations: RevocationList
    callers: Callers
    login_attempts: LoginAttempts
    http: httpx.AsyncClient
    events: EventPublisher
    public_cache: PublicCache
    hub: Hub | None = None
    _parts: dict[Callable[[Runtime], Any], Any] = field(default_factory=dict, repr=False)

    def part(self, build: Callable[[Runtime], P]) -> P:
        """The object `build` makes from this runtime, made on first use and then kept for the process.

        A domain keeps its own process-wide state this way (the telemetry stream, the rankings cache)
        without this module importing the domain; `build` is a module-level function of that domain, so
        every caller gets the same object. Parts with an async `close()` are closed with the runtime.
        """
        try:
            return cast(P, self._parts[build])
        except KeyError:
            made = self._parts[build] = build(self)
            return made

    @classmethod
    def open(cls, settings: Settings, urls: StoreUrls) -> Runtime:
        redis = create_redis(urls.redis_url)
        db = Database(urls.database_url)
        documents = DocumentStore(urls.mongo_url, settings.mongo_database)
        revocations = RevocationList(redis, settings.access_token_ttl_seconds)
        return cls(
            settings=settings,
            urls=urls,
            db=db,
            redis=redis,
            documents=documents,
            rate_limiter=RateLimiter(urls.redis_url, enabled=settings.rate_limit_enabled),
            tokens=TokenCodec(settings.jwt_secret, settings.access_token_ttl_seconds),
            revocations=revocations,
            callers=Callers(db, redis, revocations),
            login_attempts=LoginAttempts(
                redis,
                ThrottlePolicy(
                    free_failures=settings.login_free_failures,
                    window_seconds=settings.login_failure_window_seconds,
                    max_delay_seconds=settings.login_max_delay_seconds,
                    known_client_seconds=settings.login_known_client_days * 86400,
                ),
            ),
            http=httpx.AsyncClient(timeout=10.0),
            events=LoggingPublisher(),
            public_cache=PublicCache(settings.public_cache_seconds),
        )

    async def close(self) -> None:
        if self.hub is not None:
            await self.hub.stop()
        await self.public_cache.stop()
        await self.http.aclose()
        await self.documents.close()
        await self.redis.aclose()
        await self.rate_limiter.close()
        for made in self._parts.values():
            close = getattr(made, "close", None)
            if close is not None:
                await close()
        self._parts.clear()
        await self.db.close()
