"""Liveness, readiness (503 naming the store that does not answer) and Prometheus metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from prometheus_client.parser import text_string_to_metric_families

from app.main import create_app
from app.runtime import StoreUrls
from app.stores.embedded import EmbeddedMongo, EmbeddedValkey, free_port
from tests.conftest import make_settings
from tests.helpers import PASSWORD, Api, bearer

# What /api/ready checks: the stores, and the relay of the process's hub.
CHECKS = ("postgres", "redis", "mongo", "relay")


def request_count(text: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        if family.name != "learnflow_http_requests":
            continue
        for sample in family.samples:
            if sample.name.endswith("_total") and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def label_values(text: str) -> set[str]:
    """Every label value of every sample, so a check on them is not fooled by a number elsewhere."""
    return {
        value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        for value in sample.labels.values()
    }


@asynccontextmanager
async def separate_app(urls: StoreUrls, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An app of its own on the given stores, so a test may stop one of them."""
    app = create_app(make_settings(**overrides), urls)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


@pytest.fixture
def mongo(tmp_path: Path) -> Iterator[EmbeddedMongo]:
    server = EmbeddedMongo(tmp_path / "mongo")
    yield server
    server.stop()


def assert_not_ready(response: httpx.Response, *failing: str) -> None:
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "not_ready"
    for check in CHECKS:
        assert (check in error["message"]) == (check in failing), error["message"]
    assert error["details"]["checks"] == {
        check: ("unavailable" if check in failing else "ok") for check in CHECKS
    }


def checks_of(response: httpx.Response) -> dict[str, str]:
    body = response.json()
    answer = body if response.status_code == 200 else body["error"]["details"]
    return dict(answer["checks"])


async def ready_when(http: httpx.AsyncClient, relay: str = "ok", seconds: float = 5.0) -> httpx.Response:
    """/api/ready once its relay check says `relay` (a process just started is not ready until its relay
    has subscribed; one whose Redis went away notices on its own, a moment later)."""
    async with asyncio.timeout(seconds):
        while checks_of(response := await http.get("/api/ready"))["relay"] != relay:
            await asyncio.sleep(0.1)
    return response


# --- against the healthy shared stores ---------------------------------------------------------


async def test_health_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health")
    assert response.status_code == 200
    unchecked = "not checked here; see /api/ready"
    assert response.json() == {"status": "ok", "databases": {"postgresql": unchecked, "mongodb": unchecked}}


async def test_ready_checks_every_store_and_the_relay(client: httpx.AsyncClient) -> None:
    response = await ready_when(client)
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {check: "ok" for check in CHECKS}}


async def test_metrics_count_requests_by_route_template_and_status(
    client: httpx.AsyncClient, api: Api
) -> None:
    before = (await client.get("/metrics")).text
    await client.get("/api/health")
    await client.get("/api/health")
    await client.get("/api/no-such-route-12345")
    admin = await api.account("admin")
    assert (await client.get("/api/users/987654", headers=admin.headers)).status_code == 404

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE learnflow_http_requests_total counter" in text
    assert 'learnflow_http_requests_total{method="GET",route="/api/health",status="200"}' in text

    def delta(**labels: str) -> float:
        return request_count(text, **labels) - request_count(before, **labels)

    assert delta(method="GET", route="/api/health", status="200") == 2
    # Unknown paths and path parameters never become label values of their own.
    assert delta(method="GET", route="unmatched", status="404") == 1
    assert delta(method="GET", route="/api/users/{user_id:int}", status="404") == 1
    # Checked on label values: a sample's value (a creation timestamp) may contain the digits by chance.
    assert not any("no-such-route-12345" in value or "987654" in value for value in label_values(text))

    assert "# TYPE learnflow_http_request_duration_seconds histogram" in text
    assert (
        'learnflow_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/health"}' in text
    )


# --- a store that does not answer ------------------------------------------------------------------


async def test_redis_down_fails_readiness_and_answers_503_not_500(
    store_urls: StoreUrls, valkey: EmbeddedValkey, api: Api
) -> None:
    urls = StoreUrls(store_urls.database_url, valkey.start(), store_urls.mongo_url)
    async with separate_app(urls) as http:
        account = await api.register()  # on the shared app: the separate one shares its PostgreSQL
        assert (await ready_when(http)).status_code == 200
        login = await http.post("/api/auth/login", json={"email": account.email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        assert (await http.get("/api/auth/me", headers=bearer(token))).status_code == 200

        await asyncio.to_thread(valkey.stop)

        assert_not_ready(await ready_when(http, relay="unavailable"), "redis", "relay")
        # Login counts its rate limit on Redis first: a clear 503, never a 500.
        for call in (
            http.post("/api/auth/login", json={"email": account.email, "password": PASSWORD}),
            http.get("/api/auth/me", headers=bearer(token)),
        ):
            response = await call
            assert response.status_code == 503, response.text
            error = response.json()["error"]
            assert error["code"] == "store_unavailable"
            assert error["details"] == {"store": "redis"}
            assert "redis" in error["message"]
            assert response.headers["retry-after"].isdigit()
            assert response.headers.get("x-request-id")
        # Liveness does not depend on any store, whatever header comes along.
        assert (await http.get("/api/health")).status_code == 200
        assert (await http.get("/api/health", headers=bearer(token))).status_code == 200


async def test_mongo_down_fails_readiness(store_urls: StoreUrls, mongo: EmbeddedMongo) -> None:
    urls = StoreUrls(store_urls.database_url, store_urls.redis_url, mongo.start())
    async with separate_app(urls) as http:
        assert (await ready_when(http)).status_code == 200
        await asyncio.to_thread(mongo.stop)
        assert_not_ready(await http.get("/api/ready"), "mongo")
        assert (await http.get("/api/health")).status_code == 200


async def test_postgres_down_fails_readiness(store_urls: StoreUrls) -> None:
    dead = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/learnflow"
    async with separate_app(StoreUrls(dead, store_urls.redis_url, store_urls.mongo_url)) as http:
        assert_not_ready(await ready_when(http), "postgres")
        assert (await http.get("/api/health")).status_code == 200


async def test_postgres_down_at_start_with_admin_bootstrap_still_starts(store_urls: StoreUrls) -> None:
    dead = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/learnflow"
    urls = StoreUrls(dead, store_urls.redis_url, store_urls.mongo_url)
    async with separate_app(urls, admin_email="root@example.com", admin_password=PASSWORD) as http:
        assert_not_ready(await ready_when(http), "postgres")
        assert (await http.get("/api/health")).status_code == 200


async def test_postgres_down_answers_503_not_500(store_urls: StoreUrls) -> None:
    dead = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/learnflow"
    async with separate_app(StoreUrls(dead, store_urls.redis_url, store_urls.mongo_url)) as http:
        response = await http.post(
            "/api/auth/login",
            json={"email": "someone@example.com", "password": PASSWORD},
            headers={"X-Forwarded-For": "192.0.2.201"},
        )
        assert response.status_code == 503, response.text
        error = response.json()["error"]
        assert error["code"] == "store_unavailable"
        assert error["details"] == {"store": "postgres"}


# --- who may read /metrics -------------------------------------------------------------------------------


@asynccontextmanager
async def metrics_client(
    store_urls: StoreUrls, peer: str, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(**overrides), store_urls)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app, client=(peer, 50002))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def test_metrics_without_a_token_are_for_this_machine_only(store_urls: StoreUrls) -> None:
    async with metrics_client(store_urls, "127.0.0.1") as local:
        assert (await local.get("/metrics")).status_code == 200
        # Through a proxy on this machine, the client is the forwarded address: not local.
        forwarded = await local.get("/metrics", headers={"X-Forwarded-For": "198.51.100.20"})
        assert forwarded.status_code == 403 and forwarded.json()["error"]["code"] == "forbidden"
    async with metrics_client(store_urls, "203.0.113.9") as remote:
        response = await remote.get("/metrics")
        assert response.status_code == 403
        assert "learnflow_http_requests" not in response.text


async def test_metrics_with_a_token_need_it_from_everyone(store_urls: StoreUrls) -> None:
    token = "scrape-" + "x" * 30
    async with metrics_client(store_urls, "203.0.113.9", metrics_token=token) as remote:
        for headers in ({}, bearer("wrong"), {"Authorization": f"Basic {token}"}):
            refused = await remote.get("/metrics", headers=headers)
            assert refused.status_code == 401, headers
            assert refused.json()["error"]["code"] == "metrics_token_required"
            assert refused.headers["www-authenticate"] == "Bearer"
        allowed = await remote.get("/metrics", headers=bearer(token))
        assert allowed.status_code == 200 and "learnflow_http_requests_total" in allowed.text
    async with metrics_client(store_urls, "127.0.0.1", metrics_token=token) as local:
        assert (await local.get("/metrics")).status_code == 401
