"""CORS: only the configured origins get Access-Control-Allow-Origin."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.main import create_app
from tests.conftest import make_settings

ALLOWED = "https://app.example.com"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"cors_origins": f"{ALLOWED}, https://admin.example.com"}


def preflight_headers(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type",
    }


async def test_preflight_from_a_listed_origin_is_allowed(client: httpx.AsyncClient) -> None:
    response = await client.options("/api/auth/login", headers=preflight_headers(ALLOWED))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed_headers = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed_headers and "content-type" in allowed_headers
    assert response.headers["vary"].lower().find("origin") >= 0
    assert response.headers.get("x-request-id")

    second = await client.options(
        "/api/users/1/role", headers=preflight_headers("https://admin.example.com", "PUT")
    )
    assert second.headers["access-control-allow-origin"] == "https://admin.example.com"


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example.com", "http://app.example.com", "https://app.example.com.evil.io", "null"],
)
async def test_preflight_from_an_unlisted_origin_is_not_allowed(
    client: httpx.AsyncClient, origin: str
) -> None:
    response = await client.options("/api/auth/login", headers=preflight_headers(origin))
    assert response.status_code >= 400
    assert "access-control-allow-origin" not in response.headers
    assert "Traceback" not in response.text


async def test_simple_requests_carry_the_header_only_for_listed_origins(client: httpx.AsyncClient) -> None:
    allowed = await client.get("/api/health", headers={"Origin": ALLOWED})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    exposed = allowed.headers["access-control-expose-headers"].lower()
    for name in ("x-request-id", "retry-after", "x-total-count", "link", "x-ratelimit-remaining"):
        assert name in exposed

    denied = await client.get("/api/health", headers={"Origin": "https://evil.example.com"})
    assert denied.status_code == 200
    assert "access-control-allow-origin" not in denied.headers

    # Error responses get it too, so the browser app can read the JSON error.
    error = await client.get("/api/auth/me", headers={"Origin": ALLOWED})
    assert error.status_code == 401
    assert error.headers["access-control-allow-origin"] == ALLOWED


async def test_no_origin_is_allowed_when_none_is_configured(app_and_runtime: Any) -> None:
    _, runtime = app_and_runtime
    app = create_app(make_settings(), runtime.urls)  # cors_origins defaults to none
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        # No lifespan is needed: the CORS middleware answers the preflight before any route runs.
        response = await http.options("/api/auth/login", headers=preflight_headers(ALLOWED))
        assert "access-control-allow-origin" not in response.headers
        assert response.status_code >= 400
