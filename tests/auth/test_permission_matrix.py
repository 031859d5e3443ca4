"""Who may call what: every auth and users endpoint against every kind of caller, as one table.

Each cell is a separate test case on fresh stores. Request bodies are valid, so a cell's status is about
the caller, not the input. Public endpoints ignore whatever Authorization header comes along (a stale
token sent with /api/auth/refresh must not break it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.security.tokens import TokenCodec
from tests.helpers import PASSWORD, Account, Api, bearer

PRINCIPALS = (
    "anonymous",  # no Authorization header
    "learner",
    "instructor",
    "admin",
    "blocked",  # a blocked learner
    "deactivated",  # a deactivated learner's still-unexpired token
    "garbage",  # a bearer token that is not a JWT
    "expired",  # an admin's token, correctly signed, with `exp` in the past
    "forged",  # an admin's claims signed with another secret
)


def row(*statuses: int) -> dict[str, int]:
    assert len(statuses) == len(PRINCIPALS)
    return dict(zip(PRINCIPALS, statuses, strict=True))


# Google sign-in is not configured here, so a public Google endpoint that is reached answers 503.
# Password changes stay open to blocked users (they may still secure their account); profile edits do not.
# fmt: off
MATRIX: dict[str, dict[str, int]] = {
    #                                           anon learner instr admin blocked deact garbage expired forged
    "POST /api/auth/register":              row(201,  201,   201,  201,  201,    201,  201,    201,    201),
    "POST /api/auth/login":                 row(200,  200,   200,  200,  200,    200,  200,    200,    200),
    "POST /api/auth/refresh":               row(200,  200,   200,  200,  200,    200,  200,    200,    200),
    "GET /api/auth/google/url":             row(503,  503,   503,  503,  503,    503,  503,    503,    503),
    "POST /api/auth/google/callback":       row(503,  503,   503,  503,  503,    503,  503,    503,    503),
    "GET /api/auth/me":                     row(401,  200,   200,  200,  200,    401,  401,    401,    401),
    "POST /api/auth/logout":                row(401,  200,   200,  200,  200,    401,  401,    401,    401),
    "PUT /api/auth/password":               row(401,  200,   200,  200,  200,    401,  401,    401,    401),
    "PUT /api/auth/profile":                row(401,  200,   200,  200,  403,    401,  401,    401,    401),
    "GET /api/users":                       row(401,  403,   403,  200,  403,    401,  401,    401,    401),
    "GET /api/users/{target}":              row(401,  403,   403,  200,  403,    401,  401,    401,    401),
    "PUT /api/users/{target}/role":         row(401,  403,   403,  200,  403,    401,  401,    401,    401),
    "POST /api/users/{target}/block":       row(401,  403,   403,  200,  403,    401,  401,    401,    401),
    "POST /api/users/{target}/deactivate":  row(401,  403,   403,  200,  403,    401,  401,    401,    401),
}
# fmt: on


@dataclass
class Scene:
    """What a request body may need: another user to act on (or sign in as) and an unused email."""

    target: Account
    new_email: str


BODIES: dict[str, Callable[[Scene], dict[str, Any]]] = {
    "POST /api/auth/register": lambda s: {
        "email": s.new_email,
        "first_name": "New",
        "last_name": "Person",
        "password": PASSWORD,
    },
    "POST /api/auth/login": lambda s: {"email": s.target.email, "password": PASSWORD},
    "POST /api/auth/refresh": lambda s: {"refresh_token": s.target.refresh_token},
    "POST /api/auth/google/callback": lambda s: {"code": "any-code", "state": "any-state"},
    "PUT /api/auth/password": lambda s: {"current_password": PASSWORD, "new_password": "Changed123"},
    "PUT /api/auth/profile": lambda s: {"first_name": "Renamed"},
    "PUT /api/users/{target}/role": lambda s: {"role": "instructor"},
}


async def principal_headers(api: Api, principal: str) -> dict[str, str]:
    if principal == "anonymous":
        return {}
    if principal == "garbage":
        return bearer("this-is-not-a-jwt")
    if principal in ("learner", "instructor", "admin"):
        return (await api.account(principal)).headers
    if principal == "blocked":
        return (await api.account("learner", blocked=True)).headers
    if principal == "deactivated":
        return (await api.account("learner", active=False)).headers
    # Tokens for a real, active admin whose only defect is the token itself.
    admin = await api.account("admin")
    claims = api.runtime.tokens.decode_access(admin.access_token)
    settings = api.runtime.settings
    if principal == "expired":
        codec = TokenCodec(settings.jwt_secret, settings.access_token_ttl_seconds)
        past = datetime.now(UTC) - timedelta(seconds=settings.access_token_ttl_seconds + 120)
        token = codec.issue_access(user_id=admin.id, role="admin", session_id=claims.session_id, now=past)
    else:
        assert principal == "forged"
        codec = TokenCodec("another-secret-of-a-similar-length-0123456", settings.access_token_ttl_seconds)
        token = codec.issue_access(user_id=admin.id, role="admin", session_id=claims.session_id)
    return bearer(token)


CELLS = [
    pytest.param(route, principal, status, id=f"{route} | {principal}")
    for route, expected in MATRIX.items()
    for principal, status in expected.items()
]


@pytest.mark.parametrize(("route", "principal", "status"), CELLS)
async def test_permission_matrix(
    client: httpx.AsyncClient, api: Api, route: str, principal: str, status: int
) -> None:
    target = await api.register()
    headers = await principal_headers(api, principal)
    scene = Scene(target=target, new_email=f"newcomer-{target.id}@example.com")

    method, path = route.split(" ", 1)
    body = BODIES[route](scene) if route in BODIES else None
    response = await client.request(
        method,
        path.format(target=target.id),
        json=body,
        # The set-up's own sign-ups come from other addresses, so the register limit stays clear.
        headers={**headers, "X-Forwarded-For": "10.200.0.1"},
    )

    assert response.status_code == status, response.text
    if status >= 400:
        error = response.json()["error"]
        assert error["code"] and error["message"]
    if status == 401:
        assert error["code"] in {
            "not_authenticated",
            "invalid_token",
            "token_expired",
            "token_revoked",
            "account_deactivated",
        }
    if status == 403:
        assert error["code"] in {"insufficient_role", "user_blocked"}


def test_the_matrix_covers_every_auth_and_users_route() -> None:
    """A new route under /api/auth or /api/users must get a row here."""
    from app.auth.routes import routes as auth_routes
    from app.users.routes import routes as users_routes

    declared = {
        f"{route.operation.method} {route.operation.path.replace('{user_id:int}', '{target}')}"
        for route in (*auth_routes, *users_routes)
    }
    assert declared == set(MATRIX)
    assert all(set(expected) == set(PRINCIPALS) for expected in MATRIX.values())
