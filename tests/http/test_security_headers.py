"""Browser-hardening headers on every kind of response, the policy the web app runs under, and token
responses that no cache keeps."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from app.http.security_headers import content_security_policy
from tests.helpers import PASSWORD, Api

ROOT = Path(__file__).resolve().parents[2]


def policy(response: httpx.Response) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in response.headers["content-security-policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_hardened(response: httpx.Response) -> None:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    directives = policy(response)
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert directives["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in headers["content-security-policy"]
    assert "'unsafe-eval'" not in headers["content-security-policy"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/health", 200),
        ("GET", "/api/courses", 200),
        ("GET", "/api/auth/me", 401),
        ("GET", "/api/nothing-here", 404),
        ("DELETE", "/api/health", 405),
        ("GET", "/", 200),  # the web app (or the "not built" page)
        ("GET", "/courses/1", 200),
        ("GET", "/api/docs", 200),
        ("GET", "/metrics", 200),
    ],
)
async def test_every_response_carries_the_headers(
    client: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path)
    assert response.status_code == status, response.text
    assert_hardened(response)


async def test_the_policy_names_this_origins_websocket(client: httpx.AsyncClient) -> None:
    response = await client.get("/", headers={"Host": "learn.example.org:8443"})
    connect = policy(response)["connect-src"]
    assert connect == ["'self'", "ws://learn.example.org:8443", "wss://learn.example.org:8443"]
    # A Host header that is not a plain host[:port] is not copied into the policy.
    odd = await client.get("/", headers={"Host": "evil.example; script-src *"})
    assert policy(odd)["connect-src"] == ["'self'"]
    assert policy(odd)["script-src"] == ["'self'"]


def test_the_policy_admits_what_the_web_app_loads() -> None:
    directives = dict(part.strip().split(" ", 1) for part in content_security_policy("h:1").split(";"))
    assert directives["frame-src"] == "https://www.youtube-nocookie.com https://player.vimeo.com"
    assert directives["img-src"] == "'self' data: blob: https:"
    assert directives["style-src"] == "'self'"


@pytest.mark.parametrize("path", ["/api/auth/register", "/api/auth/login"])
async def test_token_responses_are_never_cached(client: httpx.AsyncClient, api: Api, path: str) -> None:
    if path.endswith("register"):
        response = await client.post(
            path, json={"email": "nc@example.com", "first_name": "N", "last_name": "C", "password": PASSWORD}
        )
    else:
        account = await api.register()
        response = await client.post(path, json={"email": account.email, "password": PASSWORD})
    assert response.status_code in (200, 201), response.text
    assert response.headers["cache-control"] == "no-store"
    assert_hardened(response)


def test_the_built_web_app_has_no_inline_script_and_no_source_maps() -> None:
    """Checked on the sources (the build follows them) and on frontend/dist when it is there."""
    index = (ROOT / "frontend" / "index.html").read_text()
    for line in index.splitlines():
        if "<script" in line:
            assert " src=" in line, f"inline script in index.html: {line.strip()}"
    assert "sourcemap: false" in (ROOT / "frontend" / "vite.config.ts").read_text()
    dist = ROOT / "frontend" / "dist"
    if dist.is_dir():
        assert not list(dist.rglob("*.map")), "source maps in frontend/dist"
        for script in (dist / "assets").glob("*.js"):
            assert "sourceMappingURL" not in script.read_text(errors="replace"), script.name
