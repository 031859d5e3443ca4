"""PostgreSQL stops under a running api instance: `/api/ready` answers 503 naming `postgres`, a request
that needs the database answers 503 `store_unavailable` with a plain JSON error (no traceback), the
anonymous catalogue already in the process's public cache is still answered from it, and once
PostgreSQL is back the same process answers 200 again, without a restart."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from harness.cluster import Cluster
from tests.faults.helpers import report
from tests.helpers import Api

pytestmark = pytest.mark.timeout(180)
DOWN_SECONDS = 3.0


async def first_200(http: httpx.AsyncClient, path: str, headers: dict[str, str], since: float) -> float:
    while True:
        try:
            if (await http.get(path, headers=headers)).status_code == 200:
                return time.monotonic() - since
        except httpx.HTTPError:
            pass
        assert time.monotonic() - since < 60, f"{path} never answered 200 again"
        await asyncio.sleep(0.02)


async def test_postgres_outage_is_reported_and_recovered_without_restart(
    healthy: Cluster, apis: list[Api]
) -> None:
    learner = await apis[0].register()
    api = healthy.apis[0]
    pids = [process.pid for process in healthy.processes]
    async with httpx.AsyncClient(base_url=api.http, timeout=15) as http:
        cached = await http.get("/api/courses")
        assert cached.status_code == 200
        assert (await http.get("/api/auth/me", headers=learner.headers)).status_code == 200

        stopped_at = time.monotonic()
        await asyncio.to_thread(healthy.stores.stop_postgres)
        ready = await http.get("/api/ready")
        catalogue = await http.get("/api/courses")
        categories = await http.get("/api/categories")
        me = await http.get("/api/auth/me", headers=learner.headers)
        health = await http.get("/api/health")
        await asyncio.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - stopped_at)))

        assert ready.status_code == 503, ready.text
        assert ready.json()["error"]["code"] == "not_ready"
        assert ready.json()["error"]["details"]["checks"] == {
            "postgres": "unavailable",
            "redis": "ok",
            "mongo": "ok",
            "relay": "ok",
        }
        assert "postgres" in ready.json()["error"]["message"]
        # Cached a moment ago (PUBLIC_CACHE_SECONDS), the anonymous catalogue needs no database.
        assert catalogue.status_code == 200 and catalogue.content == cached.content
        for response in (categories, me):
            assert response.status_code == 503, response.text
            assert response.headers["content-type"].startswith("application/json")
            assert response.json() == {
                "error": {
                    "code": "store_unavailable",
                    "message": "The postgres store is unavailable; try again shortly.",
                    "details": {"store": "postgres"},
                },
                "detail": "The postgres store is unavailable; try again shortly.",
            }
            assert "Traceback" not in response.text and "asyncpg" not in response.text
        assert health.status_code == 200  # alive, only not ready: no orchestrator restarts it

        await asyncio.to_thread(healthy.stores.start_postgres)
        back_at = time.monotonic()
        ready_after = await first_200(http, "/api/ready", {}, back_at)
        categories_after = await first_200(http, "/api/categories", {}, back_at)
        me_after = await first_200(http, "/api/auth/me", learner.headers, back_at)
        async with httpx.AsyncClient(base_url=healthy.apis[1].http, timeout=15) as second:
            other = await first_200(second, "/api/categories", {}, back_at)
    report(
        "faults_postgres_outage",
        {
            "postgres_down_s": round(back_at - stopped_at, 2),
            "ready_while_down": ready.status_code,
            "ready_checks_while_down": ready.json()["error"]["details"]["checks"],
            "db_request_while_down": [categories.status_code, categories.json()["error"]["code"]],
            "cached_catalogue_while_down": catalogue.status_code,
            "recovered_ready_s": round(ready_after, 3),
            "recovered_categories_s": round(categories_after, 3),
            "recovered_auth_me_s": round(me_after, 3),
            "recovered_other_instance_s": round(other, 3),
            "processes_restarted": sum(p.pid != pid for p, pid in zip(healthy.processes, pids, strict=True)),
        },
    )
    assert all(process.alive for process in healthy.processes)
    assert [process.pid for process in healthy.processes] == pids  # recovered without a restart
