"""Test helpers that go through the public API, plus direct account set-up for roles only an admin grants."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any

import httpx
import uvicorn
from sqlalchemy import update

from app.events import DomainEvent
from app.runtime import Runtime
from app.stores.embedded import free_port
from app.stores.models import User

PASSWORD = "Secret123"
_counter = itertools.count(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class SetCookie:
    """One Set-Cookie header of a response, as a browser would read it."""

    value: str
    path: str
    max_age: int | None
    secure: bool
    http_only: bool
    same_site: str


def set_cookie(response: httpx.Response, name: str) -> SetCookie | None:
    """The response's Set-Cookie for `name` (parsed here: the test client's jar never sends Secure
    cookies over http://testserver, so tests pass cookies on explicitly)."""
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if name in jar:
            morsel = jar[name]
            return SetCookie(
                value=morsel.value,
                path=morsel["path"],
                max_age=int(morsel["max-age"]) if morsel["max-age"] != "" else None,
                secure=bool(morsel["secure"]),
                http_only=bool(morsel["httponly"]),
                same_site=str(morsel["samesite"]).lower(),
            )
    return None


@dataclass
class Account:
    id: int
    email: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.access_token)


class Api:
    def __init__(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        self.client = client
        self.runtime = runtime

    async def register(
        self,
        email: str | None = None,
        password: str = PASSWORD,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> Account:
        email = email or f"user{next(_counter)}@example.com"
        # Each registration looks like a different client so the register limit does not interfere.
        ip = f"10.9.{next(_counter) % 250}.{next(_counter) % 250}"
        response = await self.client.post(
            "/api/auth/register",
            json={"email": email, "first_name": "Test", "last_name": "User", "password": password, **extra},
            headers=headers or {"X-Forwarded-For": ip},
        )
        assert response.status_code == 201, response.text
        tokens = response.json()
        me = await self.client.get("/api/auth/me", headers=bearer(tokens["access_token"]))
        assert me.status_code == 200, me.text
        return Account(me.json()["id"], email, tokens["access_token"], tokens["refresh_token"])

    async def login(self, email: str, password: str = PASSWORD) -> httpx.Response:
        return await self.client.post("/api/auth/login", json={"email": email, "password": password})

    async def set_user(self, user_id: int, **fields: Any) -> None:
        """Put an account into a state (role, blocked, deactivated) directly, for setting up a test; then
        announce the change as the app's own account changes do (app/stores/callers.py)."""
        async with self.runtime.db.transaction() as tx:
            await tx.execute(update(User).where(User.id == user_id).values(**fields))
        await self.runtime.callers.account_changed(user_id)

    async def account(self, role: str = "learner", *, blocked: bool = False, active: bool = True) -> Account:
        account = await self.register()
        if role != "learner" or blocked or not active:
            await self.set_user(account.id, role=role, is_blocked=blocked)
            if role != "learner":
                # A fresh sign-in, as a real user would have after their role changed.
                response = await self.login(account.email)
                assert response.status_code == 200, response.text
                account.access_token = response.json()["access_token"]
                account.refresh_token = response.json()["refresh_token"]
            if not active:
                await self.set_user(account.id, is_active=False)
        return account


class RecordingPublisher:
    """Keeps every event in order; tests use it to check what was published and when."""

    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    async def publish(self, event: DomainEvent) -> None:
        self.events.append(event)

    def names(self) -> list[str]:
        return [event.name for event in self.events]


@asynccontextmanager
async def served_by_uvicorn(app: Any, **options: Any) -> AsyncIterator[tuple[uvicorn.Server, int]]:
    """`app` (its lifespan already running) under a real uvicorn on a free loopback port; the server and
    its port, stopped on exit. `options` are more `uvicorn.Config` settings."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", log_config=None, access_log=False, **options
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                assert not task.done(), task
                await asyncio.sleep(0.02)
        yield server, port
    finally:
        server.should_exit = True
        async with asyncio.timeout(15):
            await task
