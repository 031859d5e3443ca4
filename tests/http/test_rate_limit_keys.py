"""Which bucket a request is counted in. Routes without authentication count against the client address,
whatever Authorization header comes along; authenticated routes count per user only once the token has
passed the whole check (signature, revocation list, account), and against the address otherwise.

Were a merely valid signature enough, one learner's token would buy a fresh bucket on sign-up and
sign-in, and every sign-up yields another token: unlimited registrations, password spraying and bcrypt
work from one address.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import PASSWORD, Account, Api, bearer

LIMIT = 3


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    limit = f"{LIMIT}/minute"
    return {
        "rate_limit_register": limit,
        "rate_limit_login": limit,
        "rate_limit_default": limit,
        "rate_limit_login_account": "1000/minute",
    }


def code_of(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


async def token_from_elsewhere(api: Api) -> Account:
    """A valid, unrevoked learner token obtained from another address (its sign-up is not counted here)."""
    return await api.register(headers={"X-Forwarded-For": "192.0.2.250"})


def registration(n: int) -> dict[str, str]:
    return {"email": f"spam{n}@example.com", "first_name": "S", "last_name": "P", "password": PASSWORD}


async def test_a_valid_token_buys_no_sign_ups_once_the_address_is_spent(
    client: httpx.AsyncClient, api: Api
) -> None:
    learner = await token_from_elsewhere(api)
    here = {"X-Forwarded-For": "203.0.113.10"}
    for n in range(LIMIT):
        assert (
            await client.post("/api/auth/register", json=registration(n), headers=here)
        ).status_code == 201
    for headers in ({**here, **learner.headers}, here):
        response = await client.post("/api/auth/register", json=registration(99), headers=headers)
        assert response.status_code == 429, response.text
        assert code_of(response) == "rate_limited"


async def test_tokens_do_not_open_separate_buckets_for_sign_up(client: httpx.AsyncClient, api: Api) -> None:
    """The chain the review found: sign up, use the new token to sign up again, and so on."""
    here = {"X-Forwarded-For": "203.0.113.11"}
    token: dict[str, str] = {}
    statuses = []
    for n in range(LIMIT + 3):
        response = await client.post(
            "/api/auth/register", json=registration(100 + n), headers={**here, **token}
        )
        statuses.append(response.status_code)
        if response.status_code == 201:
            token = bearer(response.json()["access_token"])
    assert statuses == [201] * LIMIT + [429] * 3


async def test_a_valid_token_buys_no_sign_in_attempts(client: httpx.AsyncClient, api: Api) -> None:
    learner = await token_from_elsewhere(api)
    here = {"X-Forwarded-For": "203.0.113.12"}
    for n in range(LIMIT):
        guess = {"email": f"victim{n}@example.com", "password": "Guess-1234"}
        assert (await client.post("/api/auth/login", json=guess, headers=here)).status_code == 401
    spray = await client.post(
        "/api/auth/login",
        json={"email": "victim9@example.com", "password": "Guess-1234"},
        headers={**here, **learner.headers},
    )
    assert spray.status_code == 429 and code_of(spray) == "rate_limited"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/auth/refresh", {"refresh_token": "00000000-0000-0000-0000-000000000000.x"}),
        ("GET", "/api/health", None),
    ],
)
async def test_other_public_routes_ignore_the_token_for_counting(
    client: httpx.AsyncClient, api: Api, method: str, path: str, body: Any
) -> None:
    learner = await token_from_elsewhere(api)
    here = {"X-Forwarded-For": "203.0.113.13"}
    statuses = []
    for n in range(LIMIT + 1):
        headers = {**here, **learner.headers} if n == LIMIT else here
        statuses.append((await client.request(method, path, json=body, headers=headers)).status_code)
    if path == "/api/health":
        assert statuses == [200] * (LIMIT + 1)  # never limited
    else:
        assert statuses == [401] * LIMIT + [429]


async def test_a_revoked_token_is_counted_against_the_address(client: httpx.AsyncClient, api: Api) -> None:
    """Authenticated routes key by user only after the revocation check: a signed-out token's requests
    are answered 401 and spend the address's budget, not a bucket of the user's."""
    learner = await token_from_elsewhere(api)
    out = await client.post("/api/auth/logout", headers={**learner.headers, "X-Forwarded-For": "192.0.2.251"})
    assert out.status_code == 200
    here = {"X-Forwarded-For": "203.0.113.14"}
    for _ in range(LIMIT):
        revoked = await client.get("/api/auth/me", headers={**here, **learner.headers})
        assert revoked.status_code == 401 and code_of(revoked) == "token_revoked"
    anonymous = await client.get("/api/auth/me", headers=here)
    assert anonymous.status_code == 429
    # Nor did they spend the user's bucket: it holds only the sign-up's /me and the logout, so a fresh
    # session of theirs still gets its third request.
    login = await client.post(
        "/api/auth/login",
        json={"email": learner.email, "password": PASSWORD},
        headers={"X-Forwarded-For": "192.0.2.252"},
    )
    me = await client.get("/api/auth/me", headers=bearer(login.json()["access_token"]))
    assert me.status_code == 200 and me.headers["x-ratelimit-remaining"] == "0"


async def test_a_deactivated_accounts_valid_token_is_counted_against_the_address(
    client: httpx.AsyncClient, api: Api
) -> None:
    learner = await token_from_elsewhere(api)
    await api.set_user(learner.id, is_active=False)
    here = {"X-Forwarded-For": "203.0.113.15"}
    for _ in range(LIMIT):
        response = await client.get("/api/courses/1/progress", headers={**here, **learner.headers})
        assert response.status_code == 401 and code_of(response) == "account_deactivated"
    assert (await client.get("/api/auth/me", headers=here)).status_code == 429
