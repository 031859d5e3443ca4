"""The healthcheck commands of compose.yaml, run for real against the local cluster: the api's succeeds
against a ready instance and fails when a store is down; the worker's succeeds while this host's
telemetry consumer polls the group and fails where there is no group."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.cluster import Cluster
from tests.telemetry.conftest import with_redis_db

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(120)


def healthcheck(service: str) -> list[str]:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    test: list[str] = compose["services"][service]["healthcheck"]["test"]
    assert test[0] == "CMD" and test[1] == "python" and test[2] == "-c"
    return [sys.executable, "-c", test[3]]


def run(argv: list[str], **env: str) -> int:
    return subprocess.run(argv, env={**os.environ, **env}, capture_output=True, timeout=30).returncode


async def test_the_api_healthcheck_follows_readiness(healthy: Cluster) -> None:
    api = healthy.apis[0]
    argv = [arg.replace("http://127.0.0.1:8000", api.http) for arg in healthcheck("api")]
    assert await asyncio.to_thread(run, argv) == 0
    await asyncio.to_thread(healthy.stores.stop_redis)
    try:
        assert await asyncio.to_thread(run, argv) != 0
    finally:
        await asyncio.to_thread(healthy.stores.start_redis)


async def test_the_worker_healthcheck_finds_this_hosts_live_consumer(healthy: Cluster) -> None:
    argv = healthcheck("worker")
    assert await asyncio.to_thread(run, argv, REDIS_URL=healthy.urls.redis_url) == 0
    elsewhere = with_redis_db(healthy.urls.redis_url, 5)  # no stream, no group, no consumer
    assert await asyncio.to_thread(run, argv, REDIS_URL=elsewhere) != 0
