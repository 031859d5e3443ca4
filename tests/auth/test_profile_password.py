"""Profile and password changes (PUT /api/auth/profile and /password) and registration validation."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.stores.models import AuditLog, User
from tests.builders import fields_named as fields_named
from tests.helpers import PASSWORD, Api, bearer

NEW_PASSWORD = "Another456"
_ips = itertools.count(1)


async def register_raw(client: httpx.AsyncClient, **overrides: Any) -> httpx.Response:
    """POST /api/auth/register from a client IP of its own, so the 5/minute limit never interferes."""
    body = {
        "email": f"new{next(_ips)}@example.com",
        "first_name": "New",
        "last_name": "Person",
        "password": PASSWORD,
    }
    body.update(overrides)
    number = next(_ips)
    ip = f"10.77.{number // 250 % 250}.{number % 250 + 1}"
    return await client.post("/api/auth/register", json=body, headers={"X-Forwarded-For": ip})


async def audit_rows(api: Api, action: str) -> list[AuditLog]:
    async with api.runtime.db.read() as tx:
        query = select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
        return list((await tx.execute(query)).scalars())


# --- profile ----------------------------------------------------------------------------------------------


async def test_profile_update_is_partial(client: httpx.AsyncClient, api: Api) -> None:
    account = await api.register()
    response = await client.put("/api/auth/profile", json={"first_name": "  Ada  "}, headers=account.headers)
    assert response.status_code == 200
    body = response.json()
    assert (body["first_name"], body["last_name"], body["avatar_url"]) == ("Ada", "User", None)

    response = await client.put(
        "/api/auth/profile", json={"avatar_url": "https://cdn.example.com/a.png"}, headers=account.headers
    )
    assert response.status_code == 200
    assert (response.json()["first_name"], response.json()["avatar_url"]) == (
        "Ada",
        "https://cdn.example.com/a.png",
    )

    response = await client.put("/api/auth/profile", json={"last_name": "Lovelace"}, headers=account.headers)
    me = (await client.get("/api/auth/me", headers=account.headers)).json()
    assert (me["first_name"], me["last_name"], me["avatar_url"]) == (
        "Ada",
        "Lovelace",
        "https://cdn.example.com/a.png",
    )

    # An empty body changes nothing; an explicit null clears the avatar.
    assert (await client.put("/api/auth/profile", json={}, headers=account.headers)).json() == me
    cleared = await client.put("/api/auth/profile", json={"avatar_url": None}, headers=account.headers)
    assert cleared.status_code == 200 and cleared.json()["avatar_url"] is None
    assert cleared.json()["last_name"] == "Lovelace"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"avatar_url": "javascript:alert(1)"}, "avatar_url"),
        ({"avatar_url": "not a url"}, "avatar_url"),
        ({"avatar_url": "ftp://example.com/a.png"}, "avatar_url"),
        ({"avatar_url": "https://example.com/" + "a" * 1000}, "avatar_url"),
        ({"first_name": ""}, "first_name"),
        ({"first_name": "   "}, "first_name"),
        ({"last_name": "x" * 101}, "last_name"),
    ],
)
async def test_bad_profile_update_is_422_naming_the_field(
    client: httpx.AsyncClient, api: Api, body: dict[str, Any], field: str
) -> None:
    account = await api.register()
    response = await client.put("/api/auth/profile", json=body, headers=account.headers)
    assert fields_named(response) == {field}
    me = (await client.get("/api/auth/me", headers=account.headers)).json()
    assert (me["first_name"], me["last_name"], me["role"], me["avatar_url"]) == (
        "Test",
        "User",
        "learner",
        None,
    )


async def test_profile_update_cannot_escalate_via_unknown_fields_with_valid_ones(
    client: httpx.AsyncClient, api: Api
) -> None:
    """Keys a body does not declare are ignored (never applied): the valid change goes through alone."""
    account = await api.register()
    response = await client.put(
        "/api/auth/profile",
        json={"first_name": "Eve", "role": "admin", "email": "other@example.com", "is_blocked": False},
        headers=account.headers,
    )
    assert response.status_code == 200, response.text
    me = (await client.get("/api/auth/me", headers=account.headers)).json()
    assert (me["first_name"], me["role"], me["email"]) == ("Eve", "learner", account.email)


@pytest.mark.parametrize(
    "body",
    [
        {"firstName": "Eve", "lastName": "Smith", "email": "x@example.com"},
        {"first_name": None, "last_name": None},
        {"avatar_url": ""},
    ],
)
async def test_profile_update_of_original_clients_changes_nothing(
    client: httpx.AsyncClient, api: Api, body: dict[str, Any]
) -> None:
    """What clients of the original API send: camelCase names, null names and an empty avatar are all
    accepted and leave the profile as it was."""
    account = await api.register()
    await client.put(
        "/api/auth/profile", json={"avatar_url": "https://cdn.example.com/a.png"}, headers=account.headers
    )
    response = await client.put("/api/auth/profile", json=body, headers=account.headers)
    assert response.status_code == 200, response.text
    me = (await client.get("/api/auth/me", headers=account.headers)).json()
    assert (me["first_name"], me["last_name"], me["email"], me["avatar_url"]) == (
        "Test",
        "User",
        account.email,
        "https://cdn.example.com/a.png",
    )


async def test_nul_character_in_a_name_is_422_not_500(client: httpx.AsyncClient, api: Api) -> None:
    account = await api.register()
    profile = await client.put("/api/auth/profile", json={"last_name": "A\x00B"}, headers=account.headers)
    assert fields_named(profile) == {"last_name"}
    register = await register_raw(client, first_name="A\x00B")
    assert fields_named(register) == {"first_name"}


# --- password ---------------------------------------------------------------------------------------------


async def test_wrong_current_password_is_400(client: httpx.AsyncClient, api: Api) -> None:
    account = await api.register()
    response = await client.put(
        "/api/auth/password",
        json={"current_password": "Wrong1234", "new_password": NEW_PASSWORD},
        headers=account.headers,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_current_password"
    assert (await api.login(account.email)).status_code == 200
    assert (await api.login(account.email, NEW_PASSWORD)).status_code == 401
    assert await audit_rows(api, "password_changed") == []


@pytest.mark.parametrize(
    "new_password", ["short1A", "alllower123", "ALLUPPER123", "NoDigitsHere", "Aa1" + "x" * 126]
)
async def test_weak_new_password_is_422_naming_new_password(
    client: httpx.AsyncClient, api: Api, new_password: str
) -> None:
    account = await api.register()
    response = await client.put(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": new_password},
        headers=account.headers,
    )
    assert fields_named(response) == {"new_password"}
    assert (await api.login(account.email)).status_code == 200


async def test_password_change_requires_both_fields(client: httpx.AsyncClient, api: Api) -> None:
    account = await api.register()
    response = await client.put("/api/auth/password", json={}, headers=account.headers)
    assert fields_named(response) == {"current_password", "new_password"}


async def test_same_password_again_is_refused(client: httpx.AsyncClient, api: Api) -> None:
    account = await api.register()
    response = await client.put(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": PASSWORD},
        headers=account.headers,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "password_unchanged"


async def test_password_change_signs_out_other_sessions_only(client: httpx.AsyncClient, api: Api) -> None:
    account = await api.register()  # the other session
    current = (await api.login(account.email)).json()  # the session that changes the password
    third = (await api.login(account.email)).json()  # another other session
    current_headers = bearer(current["access_token"])

    response = await client.put(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=current_headers,
    )
    assert response.status_code == 200
    assert response.json() == {"message": "Password changed"}

    # Other sessions: access tokens stop on the next request, refresh tokens are dead.
    for access, refresh in (
        (account.access_token, account.refresh_token),
        (third["access_token"], third["refresh_token"]),
    ):
        me = await client.get("/api/auth/me", headers=bearer(access))
        assert me.status_code == 401
        assert me.json()["error"]["code"] == "token_revoked"
        rotated = await client.post("/api/auth/refresh", json={"refresh_token": refresh})
        assert rotated.status_code == 401

    # The session that made the change keeps working, and can still rotate its refresh token.
    assert (await client.get("/api/auth/me", headers=current_headers)).status_code == 200
    rotated = await client.post("/api/auth/refresh", json={"refresh_token": current["refresh_token"]})
    assert rotated.status_code == 200
    assert (
        await client.get("/api/auth/me", headers=bearer(rotated.json()["access_token"]))
    ).status_code == 200

    # Old password no longer signs in; the new one does.
    old = await api.login(account.email)
    assert old.status_code == 401
    assert old.json()["error"]["code"] == "invalid_credentials"
    assert (await api.login(account.email, NEW_PASSWORD)).status_code == 200

    [entry] = await audit_rows(api, "password_changed")
    assert entry.user_id == account.id
    assert (entry.resource_type, entry.resource_id) == ("user", str(account.id))
    assert entry.details == {"sessions_revoked": 2}


async def test_blocked_user_may_still_change_their_password(client: httpx.AsyncClient, api: Api) -> None:
    account = await api.account(blocked=True)
    response = await client.put(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=account.headers,
    )
    assert response.status_code == 200
    assert (await api.login(account.email, NEW_PASSWORD)).status_code == 200


# --- registration validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("NoDigitsHere", id="no-digit"),
        pytest.param("nouppercase1", id="no-upper"),
        pytest.param("NOLOWERCASE1", id="no-lower"),
        pytest.param("Short1a", id="7-chars"),
        pytest.param("", id="empty"),
        pytest.param("Aa1" + "x" * 126, id="129-chars"),
    ],
)
async def test_weak_password_is_422_naming_password(
    client: httpx.AsyncClient, api: Api, password: str
) -> None:
    response = await register_raw(client, password=password)
    assert fields_named(response) == {"password"}
    async with api.runtime.db.read() as tx:
        assert (await tx.execute(select(func.count()).select_from(User))).scalar_one() == 0


@pytest.mark.parametrize("password", ["Abcdef12", "Aa1" + "x" * 125], ids=["8-chars", "128-chars"])
async def test_password_length_boundaries_are_accepted(
    client: httpx.AsyncClient, api: Api, password: str
) -> None:
    response = await register_raw(client, password=password, email="edge@example.com")
    assert response.status_code == 201, response.text
    assert (await api.login("edge@example.com", password)).status_code == 200


@pytest.mark.parametrize(
    "email", ["not-an-email", "a@b", "@example.com", "ada@", "a b@example.com", "ada@@example.com", 42]
)
async def test_bad_email_is_422_naming_email(client: httpx.AsyncClient, email: Any) -> None:
    response = await register_raw(client, email=email)
    assert fields_named(response) == {"email"}


async def test_missing_fields_are_each_named(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/register", json={}, headers={"X-Forwarded-For": "10.78.0.1"})
    assert fields_named(response) == {"email", "first_name", "last_name", "password"}


async def test_duplicate_email_is_409_whatever_the_case(client: httpx.AsyncClient, api: Api) -> None:
    assert (await register_raw(client, email="Dup@Example.com")).status_code == 201
    for email in ("dup@example.com", "DUP@EXAMPLE.COM", "dUp@eXample.com"):
        response = await register_raw(client, email=email)
        assert response.status_code == 409, email
        assert response.json()["error"]["code"] == "email_taken"
    async with api.runtime.db.read() as tx:
        emails = list((await tx.execute(select(User.email))).scalars())
    assert emails == ["dup@example.com"]


async def test_concurrent_registrations_of_one_email_give_one_account_and_409s(
    client: httpx.AsyncClient, api: Api
) -> None:
    responses = await asyncio.gather(*(register_raw(client, email="race@example.com") for _ in range(6)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201, 409, 409, 409, 409, 409], [response.text for response in responses]
    assert {response.json()["error"]["code"] for response in responses if response.status_code == 409} == {
        "email_taken"
    }
    async with api.runtime.db.read() as tx:
        count = (await tx.execute(select(func.count()).select_from(User))).scalar_one()
    assert count == 1
    assert len(await audit_rows(api, "register")) == 1
