"""Every api and worker process prepares the MongoDB collections at start; compose starts the replicas
together on a new database. None may fail because another one created a collection first."""

from __future__ import annotations

import asyncio
import uuid

from app.stores.mongo import INDEXES, DocumentStore
from harness.cluster import Cluster


async def test_processes_preparing_a_new_database_together_all_succeed(healthy: Cluster) -> None:
    database = f"learnflow_race_{uuid.uuid4().hex[:8]}"
    stores = [DocumentStore(healthy.urls.mongo_url, database) for _ in range(6)]
    try:
        await asyncio.gather(*(store.ensure_schema() for store in stores))
        assert set(INDEXES) <= set(await stores[0].db.list_collection_names())
    finally:
        await stores[0].client.drop_database(database)
        for store in stores:
            await store.close()
