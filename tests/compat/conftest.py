"""One app and one scene per module: the shape cases only read it (writes use fresh resources), and
building it per case would cost minutes. Google sign-in points at the local stand-in of Google's OAuth
endpoints, so its routes answer as the original's did instead of 503."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.main import create_app
from app.runtime import StoreUrls
from tests.auth.test_google import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI
from tests.compat.scene import Scene, build_scene
from tests.conftest import make_settings, reset_stores
from tests.helpers import Api
from tests.standins.google_provider import GoogleProvider, running_google_provider


@pytest.fixture(scope="module")
def google_provider() -> Iterator[GoogleProvider]:
    with running_google_provider(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=REDIRECT_URI
    ) as provider:
        yield provider


@pytest.fixture(scope="module")
async def scene(
    store_urls: StoreUrls, tmp_path_factory: pytest.TempPathFactory, google_provider: GoogleProvider
) -> AsyncIterator[Scene]:
    # Rate limits are not what these cases are about, and the module calls as the same users many times.
    settings = make_settings(
        rate_limit_enabled=False,
        media_dir=tmp_path_factory.mktemp("compat-media"),
        google_client_id=CLIENT_ID,
        google_client_secret=CLIENT_SECRET,
        google_redirect_uri=REDIRECT_URI,
        google_auth_url=google_provider.auth_url,
        google_token_url=google_provider.token_url,
        google_userinfo_url=google_provider.userinfo_url,
    )
    app = create_app(settings, store_urls)
    async with LifespanManager(app):
        runtime = app.state.runtime
        await reset_stores(runtime)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            scene = await build_scene(client, Api(client, runtime))
            scene.extras["google"] = google_provider
            yield scene
