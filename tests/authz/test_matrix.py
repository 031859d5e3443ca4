"""The authorization matrix (docs/PRODUCT.md): every REST route and every WebSocket channel against
nine kinds of caller, one test case per cell, read against the one world of tests/authz/world.py. The
expected values are the data of tests/authz/table.py; the README shows the same table."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount, Route, WebSocketRoute

from app import channels
from app.main import create_app
from app.runtime import StoreUrls
from tests.authz import readme
from tests.authz.table import CHANNELS, PRINCIPALS, ROWS, Channel, Row
from tests.authz.world import World, channel_name, request, subscribe
from tests.conftest import make_settings

REST_CELLS = [pytest.param(row, who, id=f"{row.label} | {who}") for row in ROWS for who in PRINCIPALS]
CHANNEL_CELLS = [
    pytest.param(channel, who, id=f"{channel.label} | {who}") for channel in CHANNELS for who in PRINCIPALS
]


@pytest.mark.parametrize(("row", "who"), REST_CELLS)
async def test_route(world: World, row: Row, who: str) -> None:
    response = await request(world, row, who)
    assert response.status_code == row.expected[who], response.text[:500]
    if response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"code", "message", "details"}, error
        if response.status_code == 401:
            # Refused for who the caller is, never for a stale or malformed token of the test's own.
            assert error["code"] == ("not_authenticated" if who == "anonymous" else row.refusal)
        if who == "blocked" and response.status_code == 403 and int(row.expected["other_learner"]) < 300:
            # The other learner stands where the blocked one does, unblocked: the block is the reason.
            assert error["code"] == "user_blocked", error


@pytest.mark.parametrize(("channel", "who"), CHANNEL_CELLS)
async def test_channel(world: World, channel: Channel, who: str) -> None:
    outcome, error = await subscribe(world, channel_name(world, channel.pattern, who), who)
    assert outcome == channel.expected[who], error
    if outcome == "4001":
        assert error == ("auth_required" if who == "anonymous" else "account_deactivated")
    elif outcome != "ok":
        assert error == "forbidden"


def _app() -> Starlette:
    """The app as served, never started: its routes and its OpenAPI document need no stores."""
    return create_app(
        make_settings(), StoreUrls("postgresql://unused/x", "redis://unused", "mongodb://unused")
    )


def test_every_route_has_a_row() -> None:
    """A new route fails this until it gets a row (and so a line in the README)."""
    declared = set()
    for route in _app().routes:
        if isinstance(route, Route):
            declared |= {f"{method} {route.path}" for method in route.methods or () if method != "HEAD"}
        else:
            # Static files (/media/, the docs assets, the built frontend) and the WebSocket endpoint,
            # whose channels are the CHANNELS rows.
            assert isinstance(route, Mount) or (isinstance(route, WebSocketRoute) and route.path == "/ws")
    assert {row.route for row in ROWS} == declared
    assert len({row.label for row in ROWS}) == len(ROWS)


def test_every_documented_operation_has_a_row() -> None:
    paths = _app().state.openapi["paths"]
    documented = {f"{method.upper()} {path}" for path, item in paths.items() for method in item}
    assert documented <= {row.shown for row in ROWS}


def test_every_channel_kind_has_a_row() -> None:
    """The course channel kinds the authorizer knows, plus `user:` and `admin:analytics`."""
    kinds = {f"course:{{id}}:{kind}" for kind in channels.COURSE_CHANNEL_KINDS}
    assert {channel.shown for channel in CHANNELS} == kinds | {"user:{id}", channels.ADMIN_ANALYTICS}
    assert len({channel.label for channel in CHANNELS}) == len(CHANNELS)


def test_the_readme_shows_this_matrix() -> None:
    assert readme.current_block(readme.README.read_text()) == readme.render(), (
        "README authorization matrix is stale: run `python -m tests.authz.readme`"
    )
