"""The first admin (ADMIN_EMAIL at start-up, `learnflow create-admin`) never silently takes over an account
someone registered with that address beforehand.

Sign-up does not prove who owns an address, so an attacker can register the future admin's email first.
Promoting that account would hand the attacker an admin session (their refresh token and Google link
survive the password reset). Without `force` the account is left alone and the refusal audited; with it,
everything the registrant held is cut off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import select

from app.cli import main as cli_main
from app.http.meta import SYSTEM
from app.main import create_app
from app.runtime import Runtime, StoreUrls
from app.stores.models import AuditLog, User
from app.users.service import AdminPromotionRefused, ensure_admin
from tests.conftest import TEST_MONGO_DATABASE, make_settings, reset_stores
from tests.helpers import PASSWORD, Account, Api, RecordingPublisher

ADMIN_EMAIL = "head@school.example"
ADMIN_PASSWORD = "Admin-Passw0rd"


async def audit_rows(runtime: Runtime, action: str) -> list[AuditLog]:
    async with runtime.db.read() as tx:
        query = select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
        return list((await tx.execute(query)).scalars())


async def stored(runtime: Runtime, user_id: int) -> User:
    async with runtime.db.read() as tx:
        user = await tx.get(User, user_id)
    assert user is not None
    return user


async def squatter(api: Api) -> Account:
    """The attacker: registered the admin's address first, holds a session and linked a Google account."""
    account = await api.register(email=ADMIN_EMAIL)
    await api.set_user(account.id, google_sub="attackers-google-account")
    return account


async def restart_with(store_urls: StoreUrls, **settings: Any) -> None:
    """One server start-up with ADMIN_EMAIL/ADMIN_PASSWORD on the same stores (the lifespan runs the
    bootstrap), then shut down."""
    app = create_app(
        make_settings(admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD, **settings), store_urls
    )
    async with LifespanManager(app):
        pass


async def test_start_up_does_not_promote_a_pre_registered_account(
    client: httpx.AsyncClient, api: Api, store_urls: StoreUrls
) -> None:
    attacker = await squatter(api)
    await restart_with(store_urls)

    user = await stored(api.runtime, attacker.id)
    assert user.role == "learner"
    # The attacker's session is still just a learner's, and the operator's password does not open it.
    me = await client.get("/api/auth/me", headers=attacker.headers)
    assert me.status_code == 200 and me.json()["role"] == "learner"
    assert (await client.get("/api/users", headers=attacker.headers)).status_code == 403
    assert (await api.login(ADMIN_EMAIL, ADMIN_PASSWORD)).status_code == 401
    [refused] = await audit_rows(api.runtime, "admin_bootstrap_refused")
    assert refused.resource_id == str(attacker.id) and refused.details == {"role": "learner"}
    assert await audit_rows(api.runtime, "role_changed") == []


async def test_forced_start_up_promotes_and_cuts_off_everything_the_registrant_held(
    client: httpx.AsyncClient, api: Api, store_urls: StoreUrls
) -> None:
    attacker = await squatter(api)
    await restart_with(store_urls, admin_bootstrap_force=True)

    user = await stored(api.runtime, attacker.id)
    assert (user.role, user.google_sub, user.is_active, user.is_blocked) == ("admin", None, True, False)
    # Every way in the registrant had is gone: the access token, the refresh token and the password.
    me = await client.get("/api/auth/me", headers=attacker.headers)
    assert me.status_code == 401 and me.json()["error"]["code"] == "token_revoked"
    refresh = await client.post("/api/auth/refresh", json={"refresh_token": attacker.refresh_token})
    assert refresh.status_code == 401
    assert (await api.login(ADMIN_EMAIL, PASSWORD)).status_code == 401
    # The operator's password works and gives an admin.
    login = await api.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    assert login.status_code == 200, login.text
    admin_me = await client.get(
        "/api/users", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
    )
    assert admin_me.status_code == 200
    [changed] = await audit_rows(api.runtime, "role_changed")
    assert changed.resource_id == str(attacker.id)
    assert changed.details == {
        "by": "admin_bootstrap",
        "from": "learner",
        "to": "admin",
        "forced": True,
        "google_unlinked": True,
        "sessions_revoked": 1,
    }


async def test_a_forced_promotion_closes_the_registrants_sockets(api: Api) -> None:
    """The revocation is published like a sign-out, so open WebSockets are re-checked and closed."""
    attacker = await squatter(api)
    events = RecordingPublisher()
    api.runtime.events = events
    done = await ensure_admin(
        api.runtime, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, meta=SYSTEM, force=True
    )
    assert (done.outcome, done.sessions_revoked) == ("promoted", 1)
    assert sorted(events.names()) == ["session.revoked", "user.role_changed"]
    assert all(event.user_ids == (attacker.id,) for event in events.events)


async def test_no_account_creates_the_admin_and_a_second_run_changes_nothing(
    client: httpx.AsyncClient, api: Api
) -> None:
    first = await ensure_admin(api.runtime, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, meta=SYSTEM)
    assert first.outcome == "created" and first.admin.role == "admin"
    login = await api.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    assert login.status_code == 200
    session = {"Authorization": f"Bearer {login.json()['access_token']}"}

    again = await ensure_admin(api.runtime, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, meta=SYSTEM)
    assert (again.outcome, again.sessions_revoked) == ("unchanged", 0)
    assert (await client.get("/api/users", headers=session)).status_code == 200
    assert len(await audit_rows(api.runtime, "register")) == 1


async def test_a_new_password_for_the_admin_signs_out_its_sessions(
    client: httpx.AsyncClient, api: Api
) -> None:
    await ensure_admin(api.runtime, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, meta=SYSTEM)
    login = await api.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    session = {"Authorization": f"Bearer {login.json()['access_token']}"}

    reset = await ensure_admin(api.runtime, email=ADMIN_EMAIL, password="Another-Passw0rd", meta=SYSTEM)
    assert (reset.outcome, reset.sessions_revoked) == ("password_reset", 1)
    assert (await client.get("/api/users", headers=session)).status_code == 401
    assert (await api.login(ADMIN_EMAIL, ADMIN_PASSWORD)).status_code == 401
    assert (await api.login(ADMIN_EMAIL, "Another-Passw0rd")).status_code == 200
    [changed] = await audit_rows(api.runtime, "password_changed")
    assert changed.details == {"by": "admin_bootstrap", "sessions_revoked": 1}


async def test_refusal_is_an_error_naming_the_way_to_force_it(api: Api) -> None:
    await api.register(email=ADMIN_EMAIL)
    with pytest.raises(AdminPromotionRefused) as refused:
        await ensure_admin(api.runtime, email=ADMIN_EMAIL.upper(), password=ADMIN_PASSWORD, meta=SYSTEM)
    assert refused.value.code == "admin_promotion_refused"
    assert "--force" in refused.value.message and "ADMIN_BOOTSTRAP_FORCE" in refused.value.message


# -- the command -------------------------------------------------------------------------------------


@pytest.fixture
def cli_env(store_urls: StoreUrls, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    settings = make_settings()
    for name, value in {
        "LEARNFLOW_ENV": "test",
        "DATABASE_URL": store_urls.database_url,
        "REDIS_URL": store_urls.redis_url,
        "MONGO_URL": store_urls.mongo_url,
        "MONGO_DATABASE": TEST_MONGO_DATABASE,
        "JWT_SECRET": settings.jwt_secret,
        "BCRYPT_ROUNDS": "4",
        "ADMIN_EMAIL": "",
        "ADMIN_PASSWORD": "",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": ADMIN_PASSWORD)
    yield


def _prepare_squatter(store_urls: StoreUrls) -> int:
    async def run() -> int:
        app = create_app(make_settings(), store_urls)
        async with LifespanManager(app):
            runtime: Runtime = app.state.runtime
            await reset_stores(runtime)
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                return (await Api(http, runtime).register(email=ADMIN_EMAIL)).id

    return asyncio.run(run())


def _role_of(store_urls: StoreUrls, user_id: int) -> str:
    async def run() -> str:
        app = create_app(make_settings(), store_urls)
        async with LifespanManager(app):
            return (await stored(app.state.runtime, user_id)).role

    return asyncio.run(run())


def test_create_admin_refuses_without_force_and_promotes_with_it(
    cli_env: None, store_urls: StoreUrls, capsys: pytest.CaptureFixture[str]
) -> None:
    user_id = _prepare_squatter(store_urls)

    assert cli_main(["create-admin", "--email", ADMIN_EMAIL]) == 3
    assert "--force" in capsys.readouterr().err
    assert _role_of(store_urls, user_id) == "learner"

    assert cli_main(["create-admin", "--email", ADMIN_EMAIL, "--force"]) == 0
    out = capsys.readouterr().out
    assert f"Admin {ADMIN_EMAIL}: promoted, 1 session(s) signed out." in out
    assert _role_of(store_urls, user_id) == "admin"
