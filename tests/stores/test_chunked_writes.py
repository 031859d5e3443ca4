"""The document store's chunked writes (app/stores/mongo.py) against the real server: unordered chunks go
CHUNKS_AT_ONCE at a time, every one is applied and counted, and a failure is raised only once no chunk
of the call is still in flight; ordered chunks go one at a time and stop at the first failure."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent

from app.runtime import Runtime
from app.stores import mongo
from app.stores.mongo import DocumentStore, bulk_write, insert_missing


class InFlight(CommandListener):
    """Write commands sent and not answered yet: how many at most, and how many at each failure."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0
        self.sent = 0

    def started(self, event: CommandStartedEvent) -> None:
        if event.command_name in ("update", "insert"):
            self.now += 1
            self.sent += 1
            self.most = max(self.most, self.now)

    def succeeded(self, event: CommandSucceededEvent) -> None:
        if event.command_name in ("update", "insert"):
            self.now -= 1

    def failed(self, event: CommandFailedEvent) -> None:
        if event.command_name in ("update", "insert"):
            self.now -= 1


@pytest.fixture
async def watched(runtime: Runtime) -> AsyncIterator[tuple[Any, InFlight]]:
    flights = InFlight()
    store = DocumentStore(runtime.urls.mongo_url, runtime.settings.mongo_database, event_listeners=[flights])
    try:
        yield store.db[f"chunked_{uuid.uuid4().hex[:8]}"], flights
    finally:
        await store.close()


async def test_unordered_chunks_go_a_few_at_a_time_and_all_count(
    watched: tuple[Any, InFlight], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mongo, "WRITE_CHUNK", 5)
    coll, flights = watched
    assert await insert_missing(coll, [{"_id": i, "n": 0} for i in range(40)]) == []
    assert flights.sent == 8 and 1 < flights.most <= mongo.CHUNKS_AT_ONCE
    # 37 of the 40 exist again, in every chunk: their positions come back in the order given.
    again = [{"_id": i, "n": 0} for i in [*range(100, 103), *range(37)]]
    assert await insert_missing(coll, again) == list(range(3, 40))

    flights.most = 0
    ops = [UpdateOne({"_id": i}, {"$inc": {"n": 1}}) for i in [*range(40), 999]]
    assert await bulk_write(coll, ops, ordered=False) == 40  # the 41st matches nothing
    assert 1 < flights.most <= mongo.CHUNKS_AT_ONCE
    assert sorted([doc["n"] async for doc in coll.find({"_id": {"$lt": 100}})]) == [1] * 40


@pytest.mark.parametrize("ordered", [False, True])
async def test_a_failed_write_is_raised_once_nothing_is_in_flight(
    watched: tuple[Any, InFlight], monkeypatch: pytest.MonkeyPatch, ordered: bool
) -> None:
    """Unordered, every other write of every chunk is applied (the failed chunk's others included);
    ordered, chunks go one at a time and none is sent after the failed one."""
    monkeypatch.setattr(mongo, "WRITE_CHUNK", 5)
    coll, flights = watched
    await insert_missing(coll, [{"_id": i, "n": 0, "text": "a"} for i in range(30)])
    flights.most = flights.sent = 0
    ops: list[Any] = [UpdateOne({"_id": i}, {"$inc": {"n": 1}}) for i in range(30)]
    ops[7] = UpdateOne({"_id": 7}, {"$inc": {"text": 1}})  # $inc of a string: this one write fails
    with pytest.raises(BulkWriteError):
        await bulk_write(coll, ops, ordered=ordered)
    assert flights.now == 0
    counts = {doc["_id"]: doc["n"] async for doc in coll.find({})}
    if ordered:
        assert flights.most == 1 and flights.sent == 2  # the failing chunk was the last one sent
        assert counts == {i: 1 if i < 7 else 0 for i in range(30)}
    else:
        assert flights.sent == 6 and flights.most == mongo.CHUNKS_AT_ONCE
        assert counts == {i: 0 if i == 7 else 1 for i in range(30)}
