"""Which store URLs this process uses: configured ones, or embedded servers started for the missing ones."""

from __future__ import annotations

from app.config import Settings
from app.runtime import StoreUrls
from app.stores.embedded import EmbeddedServers


def resolve_store_urls(settings: Settings) -> tuple[StoreUrls, EmbeddedServers | None]:
    if not settings.uses_embedded_servers:
        assert settings.database_url and settings.redis_url and settings.mongo_url
        return StoreUrls(settings.database_url, settings.redis_url, settings.mongo_url), None
    embedded = EmbeddedServers(settings.data_dir)
    started = embedded.start(
        need_postgres=not settings.database_url,
        need_redis=not settings.redis_url,
        need_mongo=not settings.mongo_url,
    )
    urls = StoreUrls(
        database_url=settings.database_url or started["database_url"],
        redis_url=settings.redis_url or started["redis_url"],
        mongo_url=settings.mongo_url or started["mongo_url"],
    )
    return urls, embedded
