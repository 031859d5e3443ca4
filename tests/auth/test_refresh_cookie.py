"""The refresh token as an HttpOnly cookie for the web app, beside the JSON field API clients read.

Every token response sets `lf_refresh` (HttpOnly, Secure, SameSite=Strict, Path=/api/auth/refresh) and
still carries `refresh_token` in its body. `POST /api/auth/refresh` takes the token from the body when
there is one, otherwise from the cookie; sign-out clears the cookie.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.auth.cookies import REFRESH_COOKIE
from tests.helpers import PASSWORD, Api, SetCookie, bearer, set_cookie


def cookie_of(response: httpx.Response) -> SetCookie:
    cookie = set_cookie(response, REFRESH_COOKIE)
    assert cookie is not None, response.headers
    return cookie


def assert_refresh_cookie(response: httpx.Response, settings_ttl: int = 14 * 24 * 3600) -> None:
    cookie = cookie_of(response)
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert cookie.value == body["refresh_token"]
    assert cookie.http_only and cookie.secure and cookie.same_site == "strict"
    assert cookie.path == "/api/auth/refresh"
    assert cookie.max_age == settings_ttl
    assert response.headers["cache-control"] == "no-store"


async def refresh_by_cookie(client: httpx.AsyncClient, token: str, body: Any = None) -> httpx.Response:
    return await client.post(
        "/api/auth/refresh",
        headers={"Cookie": f"{REFRESH_COOKIE}={token}"},
        **({"json": body} if body is not None else {}),
    )


async def test_every_token_response_sets_the_cookie_and_keeps_the_field(client: httpx.AsyncClient) -> None:
    registered = await client.post(
        "/api/auth/register",
        json={"email": "cookie@example.com", "first_name": "C", "last_name": "K", "password": PASSWORD},
    )
    assert registered.status_code == 201
    assert_refresh_cookie(registered)
    login = await client.post("/api/auth/login", json={"email": "cookie@example.com", "password": PASSWORD})
    assert_refresh_cookie(login)
    # API clients keep refreshing with the body, as before.
    by_body = await client.post("/api/auth/refresh", json={"refresh_token": login.json()["refresh_token"]})
    assert by_body.status_code == 200
    assert_refresh_cookie(by_body)


async def test_the_cookie_alone_refreshes_and_rotates(client: httpx.AsyncClient, api: Api) -> None:
    account = await api.register()
    for body in (None, {}):
        rotated = await refresh_by_cookie(client, account.refresh_token, body)
        assert rotated.status_code == 200, rotated.text
        assert_refresh_cookie(rotated)
        me = await client.get("/api/auth/me", headers=bearer(rotated.json()["access_token"]))
        assert me.status_code == 200 and me.json()["id"] == account.id
        account.refresh_token = cookie_of(rotated).value
    # Rotation applies to cookies too: the previous one is now a reused token and ends the session.
    replay = await refresh_by_cookie(client, "00000000-0000-0000-0000-000000000000.nope")
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "invalid_refresh_token"


async def test_the_body_wins_over_the_cookie(client: httpx.AsyncClient, api: Api) -> None:
    first, second = await api.register(), await api.register()
    response = await client.post(
        "/api/auth/refresh",
        json={"refresh_token": second.refresh_token},
        headers={"Cookie": f"{REFRESH_COOKIE}={first.refresh_token}"},
    )
    me = await client.get("/api/auth/me", headers=bearer(response.json()["access_token"]))
    assert me.json()["id"] == second.id


@pytest.mark.parametrize("body", [None, {}, {"refresh_token": None}])
async def test_no_token_anywhere_is_a_401(client: httpx.AsyncClient, body: Any) -> None:
    response = await client.post("/api/auth/refresh", **({"json": body} if body is not None else {}))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_refresh_token"


async def test_sign_out_clears_the_cookie_and_kills_its_token(client: httpx.AsyncClient, api: Api) -> None:
    account = await api.register()
    out = await client.post("/api/auth/logout", headers=account.headers)
    assert out.status_code == 200 and out.json() == {"message": "Signed out"}
    cleared = cookie_of(out)
    assert (cleared.value, cleared.max_age, cleared.path) == ("", 0, "/api/auth/refresh")
    assert (await refresh_by_cookie(client, account.refresh_token)).status_code == 401
