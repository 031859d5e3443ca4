"""The process's live resources (store clients, limiter, token codec), opened once and closed once."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from app.config import Settings
from app.courses.public_cache import PublicCache
from app.events import EventPublisher, LoggingPublisher
from app.http.ratelimit import RateLimiter
from app.leaderboards.cache import RankingCache
from app.security.tokens import TokenCodec
from app.stores.login_attempts import LoginAttempts, ThrottlePolicy
from app.stores.mongo import DocumentStore
from app.stores.redis import create_redis
from app.stores.revocation import RevocationList
from app.stores.sql import Database
from app.telemetry.stream import TelemetryStream
from app.telemetry.targets import HeartbeatTargets
from realtime.hub import Hub
from realtime.redis_client import RedisClient


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
    login_attempts: LoginAttempts
    http: httpx.AsyncClient
    events: EventPublisher
    telemetry: TelemetryStream
    heartbeat_targets: HeartbeatTargets
    rankings: RankingCache
    public_cache: PublicCache
    hub: Hub | None = None

    @classmethod
    def open(cls, settings: Settings, urls: StoreUrls) -> Runtime:
        redis = create_redis(urls.redis_url)
        db = Database(urls.database_url)
        documents = DocumentStore(urls.mongo_url, settings.mongo_database)
        return cls(
            settings=settings,
            urls=urls,
            db=db,
            redis=redis,
            documents=documents,
            rate_limiter=RateLimiter(urls.redis_url, enabled=settings.rate_limit_enabled),
            tokens=TokenCodec(settings.jwt_secret, settings.access_token_ttl_seconds),
            revocations=RevocationList(redis, settings.access_token_ttl_seconds),
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
            telemetry=TelemetryStream(
                # Not yet laid out for a Redis Cluster (one stream, cross-slot accept script): README.
                create_redis(urls.redis_url, retries=0),  # type: ignore[arg-type]
                tolerance_seconds=settings.telemetry_tolerance_seconds,
                first_heartbeat_max_seconds=settings.telemetry_first_heartbeat_max_seconds,
            ),
            heartbeat_targets=HeartbeatTargets(db, documents),
            rankings=RankingCache(settings.leaderboard_cache_seconds),
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
        await self.telemetry.close()
        await self.db.close()
