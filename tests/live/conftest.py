"""Two real `learnflow serve` processes sharing the test stores, for multi-instance hub tests."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from app.runtime import StoreUrls
from harness.cluster import ManagedProcess, learnflow
from tests.conftest import TEST_MONGO_DATABASE, make_settings
from tests.ws_client import WsClient as WsClient

# A `learnflow serve` process of the multi-instance harness: output in a log file, ready when
# /api/health answers, killed with the test run even if pytest itself is killed.
Instance = ManagedProcess


def start_instance(urls: StoreUrls, *args: str, open_file_limit: int | None = None, **env: str) -> Instance:
    """`open_file_limit`: the process runs under that limit on open files (soft and hard)."""
    settings = make_settings()
    environment = {
        **os.environ,
        "LEARNFLOW_ENV": "test",
        "DATABASE_URL": urls.database_url,
        "REDIS_URL": urls.redis_url,
        "MONGO_URL": urls.mongo_url,
        "MONGO_DATABASE": TEST_MONGO_DATABASE,
        "JWT_SECRET": settings.jwt_secret,
        "BCRYPT_ROUNDS": "4",
        "LOG_LEVEL": "WARNING",
        "WS_PRESENCE_TTL_SECONDS": "3",
        # Workers of these long-lived instances would take stream entries from the telemetry tests.
        "RUN_WORKERS_IN_PROCESS": "false",
        **env,
    }
    workdir = Path(tempfile.mkdtemp(prefix="learnflow-instance-"))
    argv = learnflow("serve", "--port", "{port}", *args)
    if open_file_limit is not None:
        argv = with_open_file_limit(open_file_limit, argv)
    instance = ManagedProcess("api", argv, environment, workdir, ready="http:/api/health")
    return instance.start(timeout=30)


def with_open_file_limit(limit: int, argv: list[str]) -> list[str]:
    """`argv` run under `limit` open files: the limit is set, then the program replaces the Python that
    set it (same process, so the harness's pid and signals reach the program)."""
    code = (
        "import os, resource, sys; "
        f"resource.setrlimit(resource.RLIMIT_NOFILE, ({limit}, {limit})); "
        "os.execv(sys.argv[1], sys.argv[1:])"
    )
    return [sys.executable, "-c", code, *argv]


def stop_instance(instance: Instance) -> None:
    instance.stop(10)
    shutil.rmtree(instance.workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def instances(store_urls: StoreUrls) -> Iterator[tuple[Instance, Instance]]:
    first, second = start_instance(store_urls), start_instance(store_urls)
    try:
        yield first, second
    finally:
        stop_instance(first)
        stop_instance(second)


@pytest.fixture(scope="session")
def instance_with(store_urls: StoreUrls) -> Iterator[Callable[..., Instance]]:
    """One instance per distinct environment (e.g. small hub limits), started on first use and shared by
    the session."""
    started: dict[tuple[tuple[str, str], ...], Instance] = {}

    def get(**env: str) -> Instance:
        key = tuple(sorted(env.items()))
        if key not in started:
            started[key] = start_instance(store_urls, **env)
        return started[key]

    try:
        yield get
    finally:
        for instance in started.values():
            stop_instance(instance)


@pytest.fixture
async def ws_connect() -> AsyncIterator[Any]:
    opened: list[ClientConnection] = []

    async def open_client(url: str, token: str | None = None) -> WsClient:
        connection = await connect(url, max_size=2**22)
        opened.append(connection)
        client = WsClient(connection)
        if token is not None:
            answer = await client.request(op="auth", token=token)
            assert answer["ok"], answer
        return client

    yield open_client
    for connection in opened:
        await connection.close()
