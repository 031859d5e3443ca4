"""An api at its open-file limit keeps descriptors for its stores: the hub holds at most the socket budget
(app/descriptors.py), turns further sockets away before their upgrade with 503 and Retry-After, and
requests that need fresh store connections still succeed while every place is taken."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import psutil
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from app.descriptors import socket_budget
from app.runtime import StoreUrls
from realtime.session import FULL_RETRY_AFTER_SECONDS
from tests.helpers import PASSWORD
from tests.live.conftest import Instance, start_instance, stop_instance

OPEN_FILES = 1000
BUDGET = socket_budget(OPEN_FILES)
# In all, more sockets than the process has descriptors; opened a wave at a time, as a refused socket
# holds its descriptor until its 503 is written (an instant burst larger than the reserve would find the
# process out of descriptors, and libuv drops what it cannot accept).
ATTEMPTS = OPEN_FILES + 100
WAVE = 100
CONCURRENT_REQUESTS = 40  # more than the idle pooled connections: the pools must open new ones


@pytest.fixture(scope="module")
def tight(store_urls: StoreUrls) -> Iterator[Instance]:
    instance = start_instance(
        store_urls,
        open_file_limit=OPEN_FILES,
        WS_AUTH_TIMEOUT_SECONDS="120",  # the sockets stay while the test runs
        RATE_LIMIT_REGISTER="1000000/minute",
        RATE_LIMIT_DEFAULT="1000000/minute",
    )
    try:
        yield instance
    finally:
        stop_instance(instance)


async def open_socket(instance: Instance) -> ClientConnection | int:
    """A socket, or the HTTP status its upgrade was refused with."""
    try:
        return await connect(instance.ws, open_timeout=30)
    except InvalidStatus as refused:
        assert refused.response.headers.get("Retry-After") == str(FULL_RETRY_AFTER_SECONDS)
        return refused.response.status_code


async def register(client: httpx.AsyncClient) -> int:
    email = f"fd-{uuid.uuid4().hex[:12]}@example.com"
    response = await client.post(
        "/api/auth/register",
        json={"email": email, "first_name": "Fd", "last_name": "Budget", "password": PASSWORD},
    )
    if response.status_code != 201:
        return response.status_code
    token = response.json()["access_token"]
    me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    return me.status_code


async def test_sockets_past_the_budget_are_refused_and_the_stores_stay_reachable(tight: Instance) -> None:
    assert BUDGET is not None and BUDGET < OPEN_FILES
    outcomes: list[ClientConnection | int] = []
    for start in range(0, ATTEMPTS, WAVE):
        wave = min(WAVE, ATTEMPTS - start)
        outcomes += await asyncio.gather(*(open_socket(tight) for _ in range(wave)))
    held = [outcome for outcome in outcomes if isinstance(outcome, ClientConnection)]
    refused = [outcome for outcome in outcomes if not isinstance(outcome, ClientConnection)]
    try:
        assert len(held) == BUDGET
        assert refused == [503] * (ATTEMPTS - BUDGET)
        assert psutil.Process(tight.pid).num_fds() < OPEN_FILES
        async with httpx.AsyncClient(base_url=tight.http, timeout=30) as client:
            statuses = await asyncio.gather(*(register(client) for _ in range(CONCURRENT_REQUESTS)))
            assert statuses == [200] * CONCURRENT_REQUESTS
            assert (await client.get("/api/health")).status_code == 200
        # A place given back is taken again.
        await held.pop().close()
        async with asyncio.timeout(10):
            while True:
                again = await open_socket(tight)
                if isinstance(again, ClientConnection):
                    held.append(again)
                    break
                await asyncio.sleep(0.05)
    finally:
        await asyncio.gather(*(socket.close() for socket in held))
