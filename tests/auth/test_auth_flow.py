from __future__ import annotations

import httpx
from sqlalchemy import select

from app.stores.models import AuditLog, User
from tests.helpers import PASSWORD, Api, bearer


async def audit_actions(api: Api) -> list[str]:
    async with api.runtime.db.read() as tx:
        return list((await tx.execute(select(AuditLog.action).order_by(AuditLog.id))).scalars())


async def test_register_login_me_refresh_logout(client: httpx.AsyncClient, api: Api) -> None:
    response = await client.post(
        "/api/auth/register",
        json={"email": "Ada@Example.com", "first_name": "Ada", "last_name": "Lovelace", "password": PASSWORD},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}

    login = await api.login("ada@example.com")
    assert login.status_code == 200
    tokens = login.json()

    me = await client.get("/api/auth/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    assert me.json()["email"] == "ada@example.com"
    assert me.json()["role"] == "learner"
    assert me.json()["created_at"].endswith("Z")

    refreshed = await client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert new["refresh_token"] != tokens["refresh_token"]

    out = await client.post("/api/auth/logout", headers=bearer(new["access_token"]))
    assert out.status_code == 200
    after = await client.get("/api/auth/me", headers=bearer(new["access_token"]))
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "token_revoked"
    # The refresh token of the signed-out session is dead too.
    again = await client.post("/api/auth/refresh", json={"refresh_token": new["refresh_token"]})
    assert again.status_code == 401

    actions = await audit_actions(api)
    assert actions == ["register", "login", "logout"]


async def test_reused_refresh_token_revokes_the_family(client: httpx.AsyncClient, api: Api) -> None:
    account = await api.register()
    first = await client.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})
    assert first.status_code == 200
    rotated = first.json()

    reuse = await client.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})
    assert reuse.status_code == 401
    assert reuse.json()["error"]["code"] == "refresh_token_reused"

    # Both the thief's and the owner's copies of the session are now dead.
    legit = await client.post("/api/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert legit.status_code == 401
    me = await client.get("/api/auth/me", headers=bearer(rotated["access_token"]))
    assert me.status_code == 401
    assert "refresh_token_reused" in await audit_actions(api)


async def test_role_in_register_body_is_never_honoured(client: httpx.AsyncClient, api: Api) -> None:
    for role in ("admin", "instructor"):
        account = await api.register(role=role)
        me = await client.get("/api/auth/me", headers=account.headers)
        assert me.json()["role"] == "learner"
    async with api.runtime.db.read() as tx:
        roles = set((await tx.execute(select(User.role))).scalars())
    assert roles == {"learner"}


async def test_sixth_register_from_one_ip_is_rate_limited(client: httpx.AsyncClient) -> None:
    statuses = []
    for number in range(6):
        response = await client.post(
            "/api/auth/register",
            json={
                "email": f"r{number}@example.com",
                "first_name": "R",
                "last_name": "L",
                "password": PASSWORD,
            },
            headers={"X-Forwarded-For": "203.0.113.7"},
        )
        statuses.append(response.status_code)
    assert statuses == [201] * 5 + [429]
    assert response.json()["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["X-RateLimit-Limit"] == "5"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Reset"]) > 0
    # Another client is unaffected.
    other = await client.post(
        "/api/auth/register",
        json={"email": "other@example.com", "first_name": "O", "last_name": "K", "password": PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.8"},
    )
    assert other.status_code == 201


async def test_unknown_email_fails_like_a_wrong_password(api: Api) -> None:
    response = await api.login("nobody@example.com")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert "login_failed" in await audit_actions(api)


async def test_deactivated_users_token_stops_working_on_next_request(
    client: httpx.AsyncClient, api: Api
) -> None:
    admin = await api.account("admin")
    learner = await api.register()
    assert (await client.get("/api/auth/me", headers=learner.headers)).status_code == 200
    done = await client.post(f"/api/users/{learner.id}/deactivate", headers=admin.headers)
    assert done.status_code == 200
    assert done.json() == {"message": "User deactivated", "is_active": False}
    me = await client.get("/api/auth/me", headers=learner.headers)
    assert me.status_code == 401
    assert me.json()["error"]["code"] in {"account_deactivated", "token_revoked"}
    assert (await api.login(learner.email)).status_code == 401
    refresh = await client.post("/api/auth/refresh", json={"refresh_token": learner.refresh_token})
    assert refresh.status_code == 401
