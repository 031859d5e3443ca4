"""The api process serves the built web app: real files with their caching, index.html for deep links,
and the API's own 404/405 answers untouched. Uses a temporary dist folder, never a real build."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.main import create_app
from app.runtime import StoreUrls
from tests.conftest import make_settings

INDEX = "<!doctype html><html><body><div id=root></div><script src=/assets/app-1a2b3c.js></script></body>"
SCRIPT = "console.log('app')"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    folder = tmp_path / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text(INDEX)
    (folder / "assets" / "app-1a2b3c.js").write_text(SCRIPT)
    (folder / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "secret.txt").write_text("outside the build")
    return folder


async def _client(store_urls: StoreUrls, folder: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(), store_urls, frontend_dist=folder)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


@pytest.fixture
async def web(store_urls: StoreUrls, dist: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for http in _client(store_urls, dist):
        yield http


@pytest.fixture
async def unbuilt(store_urls: StoreUrls, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for http in _client(store_urls, tmp_path / "missing-dist"):
        yield http


def assert_index(response: httpx.Response) -> None:
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert response.text == INDEX


async def test_root_and_deep_links_get_index_html(web: httpx.AsyncClient) -> None:
    for path in ("/", "/index.html", "/courses/3/learn/abc", "/admin/analytics", "/teach/courses/new?x=1"):
        assert_index(await web.get(path))


async def test_hashed_assets_are_cached_for_good_and_other_files_revalidated(web: httpx.AsyncClient) -> None:
    script = await web.get("/assets/app-1a2b3c.js")
    assert script.status_code == 200
    assert script.text == SCRIPT
    assert "javascript" in script.headers["content-type"]
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    icon = await web.get("/favicon.svg")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.headers["cache-control"] == "no-cache"


async def test_revalidation_answers_304(web: httpx.AsyncClient) -> None:
    first = await web.get("/courses")
    again = await web.get("/courses", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


async def test_head_works_without_a_body(web: httpx.AsyncClient) -> None:
    for path in ("/", "/courses/1", "/assets/app-1a2b3c.js"):
        response = await web.head(path)
        assert response.status_code == 200
        assert response.content == b""
        assert int(response.headers["content-length"]) > 0


async def test_missing_files_are_404_not_html(web: httpx.AsyncClient) -> None:
    for path in ("/assets/gone-123.js", "/robots.txt"):
        response = await web.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


async def test_nothing_outside_the_build_is_served(web: httpx.AsyncClient) -> None:
    for path in ("/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt"):
        response = await web.get(path)
        assert "outside the build" not in response.text


async def test_api_paths_keep_their_json_errors(web: httpx.AsyncClient) -> None:
    for path in ("/api/nope", "/api", "/ws", "/media/nothing.png", "/metrics/x"):
        response = await web.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    wrong_method = await web.put("/api/health")
    assert wrong_method.status_code == 405
    assert "GET" in wrong_method.headers["allow"]
    assert (await web.post("/courses/1")).status_code in (404, 405)
    assert (await web.get("/api/health")).json()["status"] == "ok"
    assert (await web.get("/api/docs")).headers["content-type"].startswith("text/html")


async def test_without_a_build_the_root_says_so(unbuilt: httpx.AsyncClient) -> None:
    root = await unbuilt.get("/")
    assert root.status_code == 200
    assert "not built" in root.text
    assert 'href="/api/docs"' in root.text
    deep = await unbuilt.get("/courses/3")
    assert deep.status_code == 404
    assert "not built" in deep.text
    assert (await unbuilt.get("/api/nope")).json()["error"]["code"] == "not_found"


async def test_a_build_made_while_running_is_served(unbuilt: httpx.AsyncClient, tmp_path: Path) -> None:
    folder = tmp_path / "missing-dist"
    folder.mkdir()
    (folder / "index.html").write_text(INDEX)
    assert_index(await unbuilt.get("/dashboard"))
