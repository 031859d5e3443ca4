"""Authentication's view of the caller (app/stores/callers.py): one Redis read per tick, the account row
kept in the process under its version, read again after any change, on every instance."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import update

from app.main import create_app
from app.runtime import Runtime, StoreUrls
from app.stores import callers
from app.stores.models import User
from tests.conftest import make_settings
from tests.helpers import Account, Api


@pytest.fixture
async def other(store_urls: StoreUrls) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    """A second api instance on the same stores, with its own process-wide caches."""
    app = create_app(make_settings(), store_urls)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http, app.state.runtime


async def _write_behind_the_apps_back(runtime: Runtime, user_id: int, **fields: object) -> None:
    """A change no `account_changed` announces (SQL typed into psql)."""
    async with runtime.db.transaction() as tx:
        await tx.execute(update(User).where(User.id == user_id).values(**fields))


async def _status(client: httpx.AsyncClient, account: Account) -> int:
    return (await client.get("/api/users", headers=account.headers)).status_code


async def test_a_demotion_and_a_block_made_on_one_instance_count_on_the_next_request_to_another(
    client: httpx.AsyncClient, api: Api, other: tuple[httpx.AsyncClient, Runtime]
) -> None:
    second, _ = other
    admin = await api.account("admin")
    colleague = await api.account("admin")
    assert await _status(second, colleague) == 200  # kept by the second instance from here on
    assert await _status(second, colleague) == 200

    demoted = await client.put(
        f"/api/users/{colleague.id}/role", json={"role": "learner"}, headers=admin.headers
    )
    assert demoted.status_code == 200
    refused = await second.get("/api/users", headers=colleague.headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "insufficient_role"

    learner = await api.register()
    edit = {"first_name": "Changed"}
    assert (await second.put("/api/auth/profile", json=edit, headers=learner.headers)).status_code == 200
    assert (await client.post(f"/api/users/{learner.id}/block", headers=admin.headers)).json()["is_blocked"]
    blocked = await second.put("/api/auth/profile", json=edit, headers=learner.headers)
    assert blocked.status_code == 403 and blocked.json()["error"]["code"] == "user_blocked"


async def test_a_deactivation_and_a_sign_out_count_on_the_next_request_to_another_instance(
    client: httpx.AsyncClient, api: Api, other: tuple[httpx.AsyncClient, Runtime]
) -> None:
    second, _ = other
    admin = await api.account("admin")
    leaving, signing_out = await api.register(), await api.register()
    for account in (leaving, signing_out):
        assert (await second.get("/api/auth/me", headers=account.headers)).status_code == 200

    assert (
        await client.post(f"/api/users/{leaving.id}/deactivate", headers=admin.headers)
    ).status_code == 200
    assert (await client.post("/api/auth/logout", headers=signing_out.headers)).status_code == 200
    for account in (leaving, signing_out):
        refused = await second.get("/api/auth/me", headers=account.headers)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "token_revoked"


async def test_the_kept_row_is_what_authenticates_until_its_version_moves(
    api: Api, client: httpx.AsyncClient
) -> None:
    admin = await api.account("admin")
    assert await _status(client, admin) == 200
    await _write_behind_the_apps_back(api.runtime, admin.id, role="learner")
    # Unannounced, the change is not read yet: the row kept under the current version still answers.
    assert await _status(client, admin) == 200
    await api.runtime.callers.account_changed(admin.id)
    assert await _status(client, admin) == 403


async def test_a_version_lost_with_redis_makes_every_instance_read_the_row_again(
    api: Api, client: httpx.AsyncClient, other: tuple[httpx.AsyncClient, Runtime]
) -> None:
    second, _ = other
    admin = await api.account("admin")
    assert await _status(client, admin) == 200 and await _status(second, admin) == 200
    # Redis restarted empty (or the version expired) while a change went in whose announcement was lost.
    await _write_behind_the_apps_back(api.runtime, admin.id, role="learner")
    await api.runtime.redis.delete(callers.ACCOUNT_VERSION + str(admin.id))
    assert await _status(client, admin) == 403
    assert await _status(second, admin) == 403
    # The version claimed by the first reader is kept by both from then on.
    assert await api.runtime.redis.get(callers.ACCOUNT_VERSION + str(admin.id)) is not None


async def test_a_change_made_outside_the_app_counts_once_the_kept_row_is_max_age_old(
    api: Api, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(callers, "MAX_AGE_SECONDS", 0.3)
    learner = await api.register()
    edit = {"first_name": "Changed"}
    assert (await client.put("/api/auth/profile", json=edit, headers=learner.headers)).status_code == 200
    await _write_behind_the_apps_back(api.runtime, learner.id, is_blocked=True)
    await asyncio.sleep(0.4)
    refused = await client.put("/api/auth/profile", json=edit, headers=learner.headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "user_blocked"


async def test_requests_authenticated_in_one_tick_share_one_redis_read(
    api: Api, client: httpx.AsyncClient
) -> None:
    learners = [await api.register() for _ in range(3)]
    before = api.runtime.callers.redis_reads
    answers = await asyncio.gather(
        *(client.get("/api/auth/me", headers=learner.headers) for learner in learners * 10)
    )
    assert [answer.json()["id"] for answer in answers] == [learner.id for learner in learners * 10]
    assert 1 <= api.runtime.callers.redis_reads - before < 30
    # Each request still gets its own answer: a revoked token in the batch is refused alone.
    assert (await client.post("/api/auth/logout", headers=learners[1].headers)).status_code == 200
    mixed = await asyncio.gather(
        *(client.get("/api/auth/me", headers=learner.headers) for learner in learners)
    )
    assert [answer.status_code for answer in mixed] == [200, 401, 200]
