"""Failed sign-ins are throttled per (account, client), with growing delays, and never lock an account.

A lock on the account let anyone keep its owner out (five wrong passwords from anywhere) and told which
addresses are registered (unknown ones never locked). Now the delays fall on the client that guesses,
clients the account signed in from are exempt from the account-wide limit, and an unknown email, a
wrong password and a deactivated account's right password are answered exactly alike.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.stores.models import AuditLog
from tests.helpers import PASSWORD, Api

FREE = 2


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "login_free_failures": FREE,
        "login_max_delay_seconds": 4,
        "rate_limit_login": "1000/minute",
        "rate_limit_login_account": "6/minute",
    }


def at(ip: str) -> dict[str, str]:
    return {"X-Forwarded-For": ip}


async def attempt(client: httpx.AsyncClient, email: str, password: str, ip: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={"email": email, "password": password}, headers=at(ip))


def outcome(response: httpx.Response) -> tuple[int, str, str | None]:
    """What a guesser can observe (status, code, Retry-After), and nothing else."""
    code = response.json()["error"]["code"] if response.status_code >= 400 else "ok"
    return response.status_code, code, response.headers.get("retry-after")


async def audit_actions(api: Api) -> list[str]:
    async with api.runtime.db.read() as tx:
        return list((await tx.execute(select(AuditLog.action).order_by(AuditLog.id))).scalars())


async def test_failures_from_one_client_bring_growing_delays_never_a_lock(
    client: httpx.AsyncClient, api: Api
) -> None:
    account = await api.register(headers=at("198.51.100.1"))
    guesser = "203.0.113.66"
    seen = [outcome(await attempt(client, account.email, "Wrong-1234", guesser)) for _ in range(FREE + 1)]
    # The free failures, then the one that starts the delays: all plain 401s.
    assert seen == [(401, "invalid_credentials", None)] * (FREE + 1)
    waiting = await attempt(client, account.email, "Wrong-1234", guesser)
    assert outcome(waiting) == (429, "login_throttled", "1")
    assert waiting.json()["error"]["details"] == {"retry_after": 1}
    await asyncio.sleep(1.1)
    assert outcome(await attempt(client, account.email, "Wrong-1234", guesser))[:2] == (
        401,
        "invalid_credentials",
    )
    # The next wait doubles.
    assert outcome(await attempt(client, account.email, PASSWORD, guesser)) == (429, "login_throttled", "2")
    # Throttling is not locking: the owner, from their own address, signs in at once.
    owner = await attempt(client, account.email, PASSWORD, "198.51.100.1")
    assert owner.status_code == 200, owner.text
    # And the guesser, once the wait is over, gets the same answer as anyone (a right password works).
    await asyncio.sleep(2.1)
    assert (await attempt(client, account.email, PASSWORD, guesser)).status_code == 200
    actions = await audit_actions(api)
    assert actions.count("login_failed") == FREE + 2
    assert actions.count("login_throttled") == 1
    assert "lockout" not in actions


async def test_a_success_resets_the_clients_delays(client: httpx.AsyncClient, api: Api) -> None:
    account = await api.register(headers=at("198.51.100.2"))
    ip = "203.0.113.67"
    for _ in range(FREE):
        await attempt(client, account.email, "Wrong-1234", ip)
    assert (await attempt(client, account.email, PASSWORD, ip)).status_code == 200
    for _ in range(FREE):
        assert outcome(await attempt(client, account.email, "Wrong-1234", ip))[0] == 401


async def test_guessing_from_elsewhere_never_keeps_the_owner_out(client: httpx.AsyncClient, api: Api) -> None:
    owner_ip = "198.51.100.3"
    account = await api.register(headers=at(owner_ip))
    # Many attackers, each past its free failures, together far past the account-wide limit (6/minute).
    for n in range(10):
        for _ in range(FREE + 1):
            await attempt(client, account.email, "Wrong-1234", f"203.0.113.{100 + n}")
    fresh_attacker = await attempt(client, account.email, PASSWORD, "203.0.113.200")
    assert outcome(fresh_attacker)[:2] == (429, "rate_limited")
    # The owner's client signed in to (here: created) the account, so only its own failures count.
    owner = await attempt(client, account.email, PASSWORD, owner_ip)
    assert owner.status_code == 200, owner.text
    assert "account_locked" not in str(owner.json())


async def test_unknown_and_registered_emails_are_answered_alike(client: httpx.AsyncClient, api: Api) -> None:
    account = await api.register(headers=at("198.51.100.4"))
    ghost = "nobody-here@example.com"

    async def probe(email: str, ip: str) -> list[tuple[int, str, str | None]]:
        return [outcome(await attempt(client, email, "Wrong-1234", ip)) for _ in range(FREE + 3)]

    registered, unknown = await probe(account.email, "203.0.113.70"), await probe(ghost, "203.0.113.71")
    assert registered == unknown
    assert registered[-1] == (429, "login_throttled", "1")


async def test_a_deactivated_accounts_right_password_gets_invalid_credentials(
    client: httpx.AsyncClient, api: Api
) -> None:
    """Answering `account_deactivated` would confirm the password to whoever typed it."""
    account = await api.register(headers=at("198.51.100.5"))
    await api.set_user(account.id, is_active=False)
    right = await attempt(client, account.email, PASSWORD, "203.0.113.80")
    wrong = await attempt(client, account.email, "Wrong-1234", "203.0.113.81")
    assert outcome(right) == outcome(wrong) == (401, "invalid_credentials", None)
    assert right.json() == wrong.json()
    # It counts as a failure like any other: the same client is throttled after the free ones.
    for _ in range(FREE):
        await attempt(client, account.email, PASSWORD, "203.0.113.80")
    assert outcome(await attempt(client, account.email, PASSWORD, "203.0.113.80"))[1] == "login_throttled"
    async with api.runtime.db.read() as tx:
        reasons = (
            await tx.execute(
                select(AuditLog.details).where(AuditLog.action == "login_failed").order_by(AuditLog.id)
            )
        ).scalars()
        assert [row["reason"] for row in reasons][:2] == ["account_deactivated", "bad_credentials"]


class TestTiming:
    """An unknown email costs the same bcrypt work as a registered one, at the configured cost."""

    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {
            "bcrypt_rounds": 10,
            "rate_limit_login": "1000/minute",
            "rate_limit_login_account": "1000/minute",
        }

    async def test_unknown_emails_take_as_long_as_registered_ones(
        self, client: httpx.AsyncClient, api: Api
    ) -> None:
        account = await api.register(headers=at("198.51.100.6"))
        await attempt(client, "warm-up@example.com", "Wrong-1234", "203.0.113.90")  # builds the dummy hash
        registered: list[float] = []
        unknown: list[float] = []
        # Interleaved, each from its own address so no throttling intervenes.
        for n in range(5):
            for email, times in ((account.email, registered), (f"ghost{n}@example.com", unknown)):
                started = time.perf_counter()
                response = await attempt(client, email, "Wrong-1234", f"203.0.114.{n * 2 + len(times)}")
                times.append(time.perf_counter() - started)
                assert response.status_code == 401
        # bcrypt at cost 10 dominates both (tens of ms); at cost 4 the unknown path took about 1 ms.
        assert statistics.median(unknown) > 0.6 * statistics.median(registered), (unknown, registered)
