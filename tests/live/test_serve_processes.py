"""`learnflow serve --processes 2`: two api processes on one port, each with its own hub behind the relay;
the stream workers run once, in the parent."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import psutil
import pytest
from redis.asyncio import Redis

from app.runtime import Runtime, StoreUrls
from app.telemetry.stream import GROUP, STREAM
from tests.helpers import Api
from tests.live.conftest import Instance, start_instance, stop_instance
from tests.live.test_hub_multi_instance import make_course

SUBSCRIBERS = 12


@pytest.fixture(scope="module")
def two_processes(store_urls: StoreUrls) -> Iterator[Instance]:
    instance = start_instance(store_urls, "--processes", "2", RUN_WORKERS_IN_PROCESS="true")
    try:
        yield instance
    finally:
        stop_instance(instance)


def api_processes(instance: Instance) -> list[psutil.Process]:
    return psutil.Process(instance.pid).children()


def connections_per_process(instance: Instance) -> dict[int, int]:
    """Established server-side connections on the instance's port, by api process."""
    return {
        child.pid: sum(
            1
            for conn in child.net_connections(kind="tcp")
            if conn.status == psutil.CONN_ESTABLISHED and conn.laddr and conn.laddr.port == instance.port
        )
        for child in api_processes(instance)
    }


async def test_two_processes_serve_one_port_and_relay_to_each_other(
    two_processes: Instance, api: Api, client: httpx.AsyncClient, ws_connect: Any
) -> None:
    assert len(api_processes(two_processes)) == 2
    _, learner, course_id, lessons = await make_course(api, client)
    channel = f"user:{learner.id}"
    watchers = []
    for _ in range(SUBSCRIBERS):
        watcher = await ws_connect(two_processes.ws, learner.access_token)
        assert (await watcher.request(op="subscribe", channel=channel))["ok"]
        watchers.append(watcher)
    # The kernel spreads connections over both processes' sockets, so some subscribers sit on the
    # process that did not handle the publishing request: they get it through Redis.
    spread = connections_per_process(two_processes)
    assert all(count >= 1 for count in spread.values()), spread
    async with httpx.AsyncClient(base_url=two_processes.http) as remote:
        done = await remote.post(
            f"/api/courses/{course_id}/progress", headers=learner.headers, json={"lesson_id": lessons[0]}
        )
        assert done.status_code == 200, done.text
    for watcher in watchers:
        message = await watcher.until(lambda m: m.get("channel") == channel)
        assert message["event"] == "progress.updated"
        assert message["data"]["progress"] == 33.33


async def consumer_pids(redis: Redis) -> list[int]:
    """The process ids in the names of the telemetry group's consumers (`<host>-<pid>-<random>`)."""
    try:
        consumers = await redis.xinfo_consumers(STREAM, GROUP)
    except Exception:  # noqa: BLE001 - no stream or group yet
        return []
    return [int(str(consumer["name"]).rsplit("-", 2)[1]) for consumer in consumers]


async def test_the_workers_run_once_in_the_parent(two_processes: Instance, runtime: Runtime) -> None:
    children = {child.pid for child in api_processes(two_processes)}
    async with asyncio.timeout(15):
        while two_processes.pid not in await consumer_pids(runtime.redis):
            await asyncio.sleep(0.2)
    pids = await consumer_pids(runtime.redis)
    assert pids.count(two_processes.pid) == 1
    assert not children & set(pids)


async def test_processes_must_be_positive() -> None:
    from app.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["serve", "--processes", "0"])
    assert exited.value.code == 2


def test_an_api_process_that_dies_stops_the_whole(store_urls: StoreUrls) -> None:
    instance = start_instance(store_urls, "--processes", "2")
    try:
        victim, survivor = api_processes(instance)
        victim.kill()
        # The parent notices, stops the other api process and exits, so a supervisor restarts the whole.
        assert instance.process is not None
        assert instance.process.wait(timeout=20) == 1
        assert not survivor.is_running() or survivor.status() == psutil.STATUS_ZOMBIE
    finally:
        stop_instance(instance)
