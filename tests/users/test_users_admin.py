"""Admin management of users (README, "Auth and users"): lists, filters, roles, blocks, deactivation."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.stores.models import AuditLog, RefreshToken, User
from tests.builders import fields_named as fields_named
from tests.helpers import PASSWORD, Account, Api, bearer

_LINK = re.compile(r'^\s*<([^>]*)>\s*;\s*rel="([^"]+)"\s*$')


def links(response: httpx.Response) -> dict[str, dict[str, str]]:
    """The RFC 8288 Link header as {rel: query parameters of its target}."""
    result: dict[str, dict[str, str]] = {}
    for part in response.headers["link"].split(","):
        match = _LINK.match(part)
        assert match, f"malformed Link entry: {part!r}"
        result[match[2]] = dict(httpx.URL(match[1]).params)
    return result


async def audit_rows(api: Api, action: str) -> list[AuditLog]:
    async with api.runtime.db.read() as tx:
        query = select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
        return list((await tx.execute(query)).scalars())


async def named(api: Api, first_name: str, last_name: str, email: str | None = None) -> Account:
    account = await api.register(email)
    await api.set_user(account.id, first_name=first_name, last_name=last_name)
    return account


async def list_users(client: httpx.AsyncClient, admin: Account, **params: Any) -> httpx.Response:
    response = await client.get("/api/users", params=params, headers=admin.headers)
    assert response.status_code == 200, response.text
    return response


def ids(response: httpx.Response) -> list[int]:
    return [user["id"] for user in response.json()]


# --- listing ---------------------------------------------------------------------------------------------


async def test_list_pages_with_total_count_and_link_header(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    others = [await api.register() for _ in range(6)]
    everyone = [admin.id, *(account.id for account in others)]

    first = await list_users(client, admin, limit=2)
    assert ids(first) == everyone[:2]
    assert first.headers["X-Total-Count"] == "7"
    assert links(first) == {
        "first": {"skip": "0", "limit": "2"},
        "next": {"skip": "2", "limit": "2"},
        "last": {"skip": "6", "limit": "2"},
    }

    middle = await list_users(client, admin, skip=2, limit=2)
    assert ids(middle) == everyone[2:4]
    assert middle.headers["X-Total-Count"] == "7"
    assert links(middle) == {
        "first": {"skip": "0", "limit": "2"},
        "prev": {"skip": "0", "limit": "2"},
        "next": {"skip": "4", "limit": "2"},
        "last": {"skip": "6", "limit": "2"},
    }

    last = await list_users(client, admin, skip=6, limit=2)
    assert ids(last) == everyone[6:]
    assert set(links(last)) == {"first", "prev", "last"}
    assert links(last)["prev"] == {"skip": "4", "limit": "2"}

    # Following `next` from the start visits every user exactly once, in order.
    seen: list[int] = []
    params: dict[str, str] | None = {"skip": "0", "limit": "3"}
    while params is not None:
        page = await list_users(client, admin, **params)
        seen += ids(page)
        params = links(page).get("next")
    assert seen == everyone

    # Defaults: skip 0, limit 50; the list is a plain JSON array of public user objects.
    default = await list_users(client, admin)
    assert ids(default) == everyone
    assert "next" not in links(default) and "prev" not in links(default)
    assert all("password_hash" not in user for user in default.json())
    assert default.json()[0]["created_at"].endswith("Z")


async def test_link_header_keeps_the_filters(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    for _ in range(3):
        await api.account("instructor")
    await api.register()
    page = await list_users(client, admin, role="instructor", search="example", limit=1)
    assert page.headers["X-Total-Count"] == "3"
    for rel, params in links(page).items():
        assert params["role"] == "instructor", rel
        assert params["search"] == "example", rel
    assert links(page)["last"]["skip"] == "2"


async def test_empty_result_still_has_headers(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    page = await list_users(client, admin, role="instructor")
    assert page.json() == []
    assert page.headers["X-Total-Count"] == "0"
    assert set(links(page)) == {"first", "last"}


async def test_role_filter(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    instructors = [await api.account("instructor") for _ in range(2)]
    learners = [await api.register() for _ in range(3)]

    by_role = {
        "admin": [admin.id],
        "instructor": [account.id for account in instructors],
        "learner": [account.id for account in learners],
    }
    for role, expected in by_role.items():
        page = await list_users(client, admin, role=role)
        assert ids(page) == expected, role
        assert {user["role"] for user in page.json()} == {role}
        assert page.headers["X-Total-Count"] == str(len(expected))


async def test_search_by_email_and_by_name(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    ada = await named(api, "Ada", "Lovelace", "ada.l@analytical.example.com")
    grace = await named(api, "Grace", "Hopper", "grace@navy.example.com")
    alan = await named(api, "Alan", "Turing", "alan@bletchley.example.com")

    cases = {
        "analytical": [ada.id],  # part of an email
        "GRACE@NAVY": [grace.id],  # case-insensitive
        "hopp": [grace.id],  # part of a last name
        "alan": [alan.id],  # first name (and email)
        "ada lovelace": [ada.id],  # full name
        "a": [admin.id, ada.id, grace.id, alan.id],
        "nobody-like-this": [],
    }
    for search, expected in cases.items():
        page = await list_users(client, admin, search=search)
        assert ids(page) == expected, search
        assert page.headers["X-Total-Count"] == str(len(expected)), search

    # Search and role combine.
    await api.set_user(grace.id, role="instructor")
    assert ids(await list_users(client, admin, search="a", role="instructor")) == [grace.id]


async def test_search_wildcards_match_literally(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    underscore = await named(api, "snake_case", "Person", "snake_case@example.com")
    await named(api, "snakeXcase", "Person", "snakexcase@example.com")
    percent = await named(api, "Hundred", "100%", "hundred@example.com")
    await named(api, "Thousand", "1000", "thousand@example.com")
    backslash = await named(api, "Back\\slash", "Person", "backslash@example.com")

    assert ids(await list_users(client, admin, search="snake_case")) == [underscore.id]
    assert ids(await list_users(client, admin, search="_")) == [underscore.id]
    assert ids(await list_users(client, admin, search="100%")) == [percent.id]
    assert ids(await list_users(client, admin, search="%")) == [percent.id]
    assert ids(await list_users(client, admin, search="%%")) == []
    assert ids(await list_users(client, admin, search="\\")) == [backslash.id]
    assert ids(await list_users(client, admin, search="k\\s")) == [backslash.id]


@pytest.mark.parametrize(
    "search",
    [
        "' OR '1'='1",
        "'; DROP TABLE users; --",
        '" OR 1=1 --',
        "%' OR email LIKE '%",
        "admin'--",
        "1; SELECT pg_sleep(5)",
        "') UNION SELECT * FROM users --",
        "\\'",
    ],
)
async def test_injection_looking_search_is_just_text(
    client: httpx.AsyncClient, api: Api, search: str
) -> None:
    admin = await api.account("admin")
    await api.register()
    page = await list_users(client, admin, search=search)
    assert page.json() == []
    assert page.headers["X-Total-Count"] == "0"
    async with api.runtime.db.read() as tx:
        assert (await tx.execute(select(func.count()).select_from(User))).scalar_one() == 2


async def test_search_with_a_nul_character_is_rejected_not_a_crash(
    client: httpx.AsyncClient, api: Api
) -> None:
    admin = await api.account("admin")
    response = await client.get("/api/users", params={"search": "a\x00b"}, headers=admin.headers)
    assert fields_named(response) == {"search"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"role": "superuser"}, "role"),
        ({"role": "ADMIN"}, "role"),
        ({"limit": "101"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"skip": "-1"}, "skip"),
        ({"skip": "1.5"}, "skip"),
        ({"search": "x" * 201}, "search"),
    ],
)
async def test_bad_query_parameters_are_422_naming_the_field(
    client: httpx.AsyncClient, api: Api, params: dict[str, str], field: str
) -> None:
    admin = await api.account("admin")
    response = await client.get("/api/users", params=params, headers=admin.headers)
    assert fields_named(response) == {field}
    assert response.json()["error"]["details"][0]["location"] == "query"


async def test_limit_100_is_the_cap_and_allowed(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    page = await list_users(client, admin, limit=100)
    assert ids(page) == [admin.id]
    assert links(page)["last"] == {"skip": "0", "limit": "100"}


# --- one user ---------------------------------------------------------------------------------------------


async def test_get_one_user(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    ada = await named(api, "Ada", "Lovelace", "ada@example.com")
    response = await client.get(f"/api/users/{ada.id}", headers=admin.headers)
    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in ("id", "email", "first_name", "last_name", "role")} == {
        "id": ada.id,
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "role": "learner",
    }
    assert body["is_active"] is True and body["is_blocked"] is False
    assert "password_hash" not in body and "failed_login_count" not in body


async def test_unknown_user_is_404_user_not_found(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    for method, suffix, body in (
        ("GET", "", None),
        ("PUT", "/role", {"role": "instructor"}),
        ("POST", "/block", None),
        ("POST", "/deactivate", None),
    ):
        response = await client.request(
            method, f"/api/users/987654{suffix}", json=body, headers=admin.headers
        )
        assert response.status_code == 404, (method, suffix, response.text)
        assert response.json()["error"]["code"] == "user_not_found"


# --- roles ------------------------------------------------------------------------------------------------


async def test_change_role_is_audited_with_from_and_to(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    learner = await api.register()
    response = await client.put(
        f"/api/users/{learner.id}/role", json={"role": "instructor"}, headers=admin.headers
    )
    assert response.status_code == 200
    assert response.json()["id"] == learner.id
    assert response.json()["role"] == "instructor"
    fetched = await client.get(f"/api/users/{learner.id}", headers=admin.headers)
    assert fetched.json()["role"] == "instructor"

    [entry] = await audit_rows(api, "role_changed")
    assert entry.user_id == admin.id
    assert (entry.resource_type, entry.resource_id) == ("user", str(learner.id))
    assert entry.details == {"from": "learner", "to": "instructor"}
    assert entry.ip_address == "127.0.0.1"

    # Setting the role it already has changes nothing and records nothing.
    again = await client.put(
        f"/api/users/{learner.id}/role", json={"role": "instructor"}, headers=admin.headers
    )
    assert again.status_code == 200 and again.json()["role"] == "instructor"
    assert len(await audit_rows(api, "role_changed")) == 1


async def test_cannot_change_own_role(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    response = await client.put(
        f"/api/users/{admin.id}/role", json={"role": "learner"}, headers=admin.headers
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "cannot_modify_self"
    me = await client.get("/api/auth/me", headers=admin.headers)
    assert me.json()["role"] == "admin"
    assert await audit_rows(api, "role_changed") == []


@pytest.mark.parametrize("body", [{"role": "superuser"}, {"role": "Admin"}, {"role": None}, {"role": 1}, {}])
async def test_invalid_role_is_422_naming_role(
    client: httpx.AsyncClient, api: Api, body: dict[str, Any]
) -> None:
    admin = await api.account("admin")
    learner = await api.register()
    response = await client.put(f"/api/users/{learner.id}/role", json=body, headers=admin.headers)
    assert fields_named(response) == {"role"}
    assert (await client.get("/api/auth/me", headers=learner.headers)).json()["role"] == "learner"


async def test_promotion_takes_effect_on_the_next_request_with_the_old_token(
    client: httpx.AsyncClient, api: Api
) -> None:
    admin = await api.account("admin")
    learner = await api.register()
    assert (await client.get("/api/users", headers=learner.headers)).status_code == 403

    promoted = await client.put(
        f"/api/users/{learner.id}/role", json={"role": "admin"}, headers=admin.headers
    )
    assert promoted.status_code == 200
    # Same token (its `role` claim still says learner): the database decides.
    listed = await client.get("/api/users", headers=learner.headers)
    assert listed.status_code == 200
    assert learner.id in ids(listed)
    assert (await client.get("/api/auth/me", headers=learner.headers)).json()["role"] == "admin"


async def test_demotion_takes_effect_on_the_next_request_with_the_old_token(
    client: httpx.AsyncClient, api: Api
) -> None:
    admin = await api.account("admin")
    other_admin = await api.account("admin")
    assert (await client.get("/api/users", headers=other_admin.headers)).status_code == 200

    demoted = await client.put(
        f"/api/users/{other_admin.id}/role", json={"role": "learner"}, headers=admin.headers
    )
    assert demoted.status_code == 200
    response = await client.get("/api/users", headers=other_admin.headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_role"
    # And the demoted admin cannot undo it.
    undo = await client.put(
        f"/api/users/{other_admin.id}/role", json={"role": "admin"}, headers=other_admin.headers
    )
    assert undo.status_code == 403


# --- blocking ---------------------------------------------------------------------------------------------


async def test_block_toggles_both_ways_and_is_audited(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    learner = await api.register()

    blocked = await client.post(f"/api/users/{learner.id}/block", headers=admin.headers)
    assert blocked.status_code == 200
    assert blocked.json() == {"message": "User blocked", "is_blocked": True}
    assert (await client.get(f"/api/users/{learner.id}", headers=admin.headers)).json()["is_blocked"] is True

    unblocked = await client.post(f"/api/users/{learner.id}/block", headers=admin.headers)
    assert unblocked.status_code == 200
    assert unblocked.json() == {"message": "User unblocked", "is_blocked": False}
    assert (await client.get(f"/api/users/{learner.id}", headers=admin.headers)).json()["is_blocked"] is False

    for action in ("user_blocked", "user_unblocked"):
        [entry] = await audit_rows(api, action)
        assert entry.user_id == admin.id
        assert (entry.resource_type, entry.resource_id) == ("user", str(learner.id))
    async with api.runtime.db.read() as tx:
        order = (
            (
                await tx.execute(
                    select(AuditLog.action)
                    .where(AuditLog.action.in_(["user_blocked", "user_unblocked"]))
                    .order_by(AuditLog.id)
                )
            )
            .scalars()
            .all()
        )
    assert list(order) == ["user_blocked", "user_unblocked"]


async def test_cannot_block_yourself(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    response = await client.post(f"/api/users/{admin.id}/block", headers=admin.headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "cannot_modify_self"
    assert (await client.get("/api/auth/me", headers=admin.headers)).json()["is_blocked"] is False


async def test_blocked_user_can_sign_in_and_read_but_not_change_their_profile(
    client: httpx.AsyncClient, api: Api
) -> None:
    admin = await api.account("admin")
    learner = await api.register()
    assert (await client.post(f"/api/users/{learner.id}/block", headers=admin.headers)).json()["is_blocked"]

    # The existing token keeps reading; the block applies on the next write.
    me = await client.get("/api/auth/me", headers=learner.headers)
    assert me.status_code == 200 and me.json()["is_blocked"] is True
    refused = await client.put("/api/auth/profile", json={"first_name": "Changed"}, headers=learner.headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "user_blocked"

    # A fresh sign-in works too, with the same limits.
    login = await api.login(learner.email)
    assert login.status_code == 200
    fresh = bearer(login.json()["access_token"])
    assert (await client.get("/api/auth/me", headers=fresh)).status_code == 200
    assert (await client.put("/api/auth/profile", json={"first_name": "X"}, headers=fresh)).status_code == 403
    assert (await client.get("/api/auth/me", headers=fresh)).json()["first_name"] == "Test"

    # Unblocking restores writes on the very next request, with the same token.
    assert (await client.post(f"/api/users/{learner.id}/block", headers=admin.headers)).json()[
        "is_blocked"
    ] is False
    allowed = await client.put("/api/auth/profile", json={"first_name": "Changed"}, headers=learner.headers)
    assert allowed.status_code == 200 and allowed.json()["first_name"] == "Changed"


# --- deactivation -----------------------------------------------------------------------------------------


async def test_deactivate_revokes_every_session_and_is_audited(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    learner = await api.register()  # session 1
    second = (await api.login(learner.email)).json()  # session 2
    sessions = [
        (learner.access_token, learner.refresh_token),
        (second["access_token"], second["refresh_token"]),
    ]
    for access, _ in sessions:
        assert (await client.get("/api/auth/me", headers=bearer(access))).status_code == 200

    response = await client.post(f"/api/users/{learner.id}/deactivate", headers=admin.headers)
    assert response.status_code == 200
    assert response.json() == {"message": "User deactivated", "is_active": False}

    for access, refresh in sessions:
        me = await client.get("/api/auth/me", headers=bearer(access))
        assert me.status_code == 401
        assert me.json()["error"]["code"] in {"token_revoked", "account_deactivated"}
        again = await client.post("/api/auth/refresh", json={"refresh_token": refresh})
        assert again.status_code == 401
    login = await api.login(learner.email)
    assert login.status_code == 401
    # The right password of a deactivated account is answered like a wrong one (nothing confirmed).
    assert login.json()["error"]["code"] == "invalid_credentials"

    async with api.runtime.db.read() as tx:
        live = (
            await tx.execute(
                select(func.count())
                .select_from(RefreshToken)
                .where(RefreshToken.user_id == learner.id, RefreshToken.revoked_at.is_(None))
            )
        ).scalar_one()
    assert live == 0

    [entry] = await audit_rows(api, "user_deactivated")
    assert entry.user_id == admin.id
    assert (entry.resource_type, entry.resource_id) == ("user", str(learner.id))
    assert entry.details == {"sessions_revoked": 2}

    fetched = await client.get(f"/api/users/{learner.id}", headers=admin.headers)
    assert fetched.json()["is_active"] is False
    assert ids(await list_users(client, admin)) == [admin.id, learner.id]


async def test_deactivate_is_idempotent(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    learner = await api.register()
    for _ in range(2):
        response = await client.post(f"/api/users/{learner.id}/deactivate", headers=admin.headers)
        assert response.status_code == 200
        assert response.json() == {"message": "User deactivated", "is_active": False}
    assert len(await audit_rows(api, "user_deactivated")) == 1


async def test_cannot_deactivate_yourself(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    response = await client.post(f"/api/users/{admin.id}/deactivate", headers=admin.headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "cannot_modify_self"
    assert (await client.get("/api/users", headers=admin.headers)).status_code == 200
    assert await audit_rows(api, "user_deactivated") == []
    assert (
        await api.login((await client.get("/api/auth/me", headers=admin.headers)).json()["email"])
    ).status_code == 200


async def test_deactivated_admin_loses_admin_access_at_once(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    other_admin = await api.account("admin")
    assert (
        await client.post(f"/api/users/{other_admin.id}/deactivate", headers=admin.headers)
    ).status_code == 200
    response = await client.get("/api/users", headers=other_admin.headers)
    assert response.status_code == 401
    assert (await api.login(other_admin.email, PASSWORD)).status_code == 401
