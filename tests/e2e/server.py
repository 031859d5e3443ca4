"""A real `learnflow serve` for the browser tests, on the session's servers but isolated from the rest of
the suite: its own PostgreSQL database, Redis logical database and MongoDB database, seeded with the demo
data, its in-process workers running so the live views (activity, analytics) flow."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pymongo
import redis
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.runtime import StoreUrls
from app.stores.embedded import free_port
from app.stores.sql import async_url
from harness.cluster import ManagedProcess, learnflow
from tests.conftest import make_settings
from tests.telemetry.conftest import with_redis_db

ROOT = Path(__file__).resolve().parents[2]
E2E_DATABASE = "learnflow_e2e"
# The suite flushes the default Redis db between tests and tests/telemetry owns db 9.
E2E_REDIS_DB = 12
E2E_MONGO_DATABASE = "learnflow_e2e"


# The server is a process of the multi-instance harness: output in a log file, ready when /api/ready
# answers, killed with the test run.
Server = ManagedProcess


def isolated_urls(urls: StoreUrls) -> StoreUrls:
    database = make_url(urls.database_url).set(database=E2E_DATABASE)
    return replace(
        urls,
        database_url=database.render_as_string(hide_password=False),
        redis_url=with_redis_db(urls.redis_url, E2E_REDIS_DB),
    )


async def _recreate_database(database_url: str) -> None:
    url = make_url(async_url(database_url))
    engine = create_async_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            await connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        await engine.dispose()


def reset(urls: StoreUrls) -> None:
    """Empty stores for this run: a fresh database (migrated by the CLI), an empty Redis db and Mongo db."""
    asyncio.run(_recreate_database(urls.database_url))
    client = redis.Redis.from_url(urls.redis_url)
    try:
        client.flushdb()
    finally:
        client.close()
    mongo: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(urls.mongo_url)
    try:
        mongo.drop_database(E2E_MONGO_DATABASE)
    finally:
        mongo.close()


def environment(urls: StoreUrls, workdir: Path) -> dict[str, str]:
    settings = make_settings()
    return {
        **os.environ,
        "LEARNFLOW_ENV": "test",
        "DATABASE_URL": urls.database_url,
        "REDIS_URL": urls.redis_url,
        "MONGO_URL": urls.mongo_url,
        "MONGO_DATABASE": E2E_MONGO_DATABASE,
        "JWT_SECRET": settings.jwt_secret,
        "BCRYPT_ROUNDS": "4",
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "console",
        "RUN_WORKERS_IN_PROCESS": "true",
        "LEARNFLOW_DATA_DIR": str(workdir / "data"),
        "MEDIA_DIR": str(workdir / "media"),
        # Every scenario signs people up and in from 127.0.0.1; the limits have tests of their own.
        "RATE_LIMIT_REGISTER": "200/minute",
        "RATE_LIMIT_LOGIN": "200/minute",
        "RATE_LIMIT_DEFAULT": "2000/minute",
    }


def start(urls: StoreUrls, workdir: Path, extra_env: Callable[[str], dict[str, str]] | None = None) -> Server:
    """`extra_env(base_url)` adds settings that must name the server's own address (OAuth redirects)."""
    reset(urls)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**environment(urls, workdir), **(extra_env(base_url) if extra_env else {})}
    seeded = subprocess.run(
        learnflow("seed-demo"),
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=180,
    )
    if seeded.returncode != 0:
        raise RuntimeError(f"seed-demo failed: {seeded.stdout.decode()}\n{seeded.stderr.decode()}")
    server = ManagedProcess(
        "e2e-api", learnflow("serve", "--port", "{port}"), env, workdir, ready="http:/api/ready", port=port
    )
    return server.start(timeout=60)


def stop(server: Server) -> None:
    server.stop()
