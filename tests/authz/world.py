"""The one world the matrix is read against, and how a cell becomes a request or a subscription.

Everything is set up through the public API, except what only an admin could do (role, blocked and
active flags), which tests/helpers.py `Api.set_user` writes directly.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests import builders
from tests.authz.table import PRINCIPALS, Row
from tests.courses.helpers import add_lesson, course_body, enroll, lesson_ids, make_course, set_course
from tests.helpers import PASSWORD, Account, Api
from tests.media.samples import png

_numbers = itertools.count(1)
# Principals whose flag is set after they enrolled; enrolling them elsewhere lifts the flag for a moment.
_FLAGS: dict[str, dict[str, bool]] = {
    "blocked": {"is_blocked": True},
    "deactivated": {"is_active": False},
}
_ENROLLED = ("other_learner", "enrolled", "blocked", "deactivated")


@dataclass
class CourseScene:
    """A published course of the owner with one lesson, the enrolled learners of the world, and the
    enrolled learner's public and private posts."""

    id: int
    lesson: str
    post: int
    private_post: int


@dataclass
class World:
    client: httpx.AsyncClient
    api: Api
    accounts: dict[str, Account]  # every principal but anonymous
    bystander: Account  # a learner no row is about: another user's channel, someone to sign in as
    course: CourseScene
    hidden_board: CourseScene  # the same, with a leaderboard that is not public
    draft: CourseScene  # the same, unpublished after the enrollments
    ws_url: str

    def account(self, who: str) -> Account | None:
        return None if who == "anonymous" else self.accounts[who]


async def _post(client: httpx.AsyncClient, author: Account, course_id: int, *, private: bool) -> int:
    made = await builders.post(client, author, course_id, "Is this on the exam?", is_private=private)
    return int(made["id"])


async def _enroll_now(
    client: httpx.AsyncClient, api: Api, accounts: dict[str, Account], who: str, course: int
) -> None:
    flags = _FLAGS.get(who, {})
    account = accounts[who]
    if flags:
        await api.set_user(account.id, **{name: not value for name, value in flags.items()})
    await enroll(client, account, course)
    if flags:
        await api.set_user(account.id, **flags)


async def build_course(
    client: httpx.AsyncClient, api: Api, accounts: dict[str, Account], *, leaderboard_public: bool = True
) -> CourseScene:
    owner = accounts["owner"]
    course_id: int = (await make_course(client, owner, title=f"Course {next(_numbers)}"))["id"]
    if not leaderboard_public:
        await set_course(client, owner, course_id, is_leaderboard_public=False)
    lesson: str = (await add_lesson(client, owner, course_id, "First lesson"))["id"]
    for who in _ENROLLED:
        await _enroll_now(client, api, accounts, who, course_id)
    author = accounts["enrolled"]
    return CourseScene(
        id=course_id,
        lesson=lesson,
        post=await _post(client, author, course_id, private=False),
        private_post=await _post(client, author, course_id, private=True),
    )


async def new_principal(client: httpx.AsyncClient, api: Api, who: str, course_id: int | None) -> Account:
    """An account in the role and state `who` stands for, enrolled in `course_id` when `who` is. Owning a
    course is left to build_course: the rows that take a new caller per cell name no course."""
    role = {"owner": "instructor", "other_instructor": "instructor", "admin": "admin"}.get(who, "learner")
    account = await api.account(role)
    if course_id is not None and who in _ENROLLED:
        await enroll(client, account, course_id)
    if who in _FLAGS:
        await api.set_user(account.id, **_FLAGS[who])
    return account


async def build_world(client: httpx.AsyncClient, api: Api, ws_url: str) -> World:
    accounts = {who: await new_principal(client, api, who, None) for who in PRINCIPALS if who != "anonymous"}
    course = await build_course(client, api, accounts)
    hidden_board = await build_course(client, api, accounts, leaderboard_public=False)
    draft = await build_course(client, api, accounts)
    await set_course(client, accounts["owner"], draft.id, is_published=False)
    return World(client, api, accounts, await api.account(), course, hidden_board, draft, ws_url)


# --- a REST cell -----------------------------------------------------------------------------------------


@dataclass
class Cell:
    world: World
    who: str
    caller: Account | None
    params: dict[str, Any]


async def _fresh(world: World, name: str) -> int | str:
    client, api, owner = world.client, world.api, world.accounts["owner"]
    if name == "fresh_course":
        return (await build_course(client, api, world.accounts)).id
    if name == "fresh_lesson":
        lesson: str = (await add_lesson(client, owner, world.course.id, "Doomed lesson"))["id"]
        return lesson
    if name == "fresh_post":
        return await _post(client, world.accounts["enrolled"], world.course.id, private=False)
    assert name == "fresh_user", name
    return (await api.register()).id


async def _resolve(world: World, name: str) -> int | str:
    if name.startswith("fresh_"):
        return await _fresh(world, name)
    scenes = {"course": world.course, "hidden_board": world.hidden_board, "draft": world.draft}
    if name in scenes:
        return scenes[name].id
    if name in ("lesson", "post", "private_post"):
        value: int | str = getattr(world.course, name)
        return value
    return world.accounts[name].id


async def _refresh_token(cell: Cell) -> dict[str, Any]:
    owner = cell.caller or await cell.world.api.register()
    return {"json": {"refresh_token": owner.refresh_token}}


async def _lesson_order(cell: Cell) -> dict[str, Any]:
    current = await lesson_ids(cell.world.client, cell.world.accounts["owner"], cell.params["course_id"])
    return {"json": {"lesson_ids": list(reversed(current))}}


async def _upload(cell: Cell) -> dict[str, Any]:
    return {"files": {"file": ("picture.png", png(), "image/png")}}


def _json(make: Callable[[Cell], Any]) -> Callable[[Cell], Awaitable[dict[str, Any]]]:
    async def body(cell: Cell) -> dict[str, Any]:
        return {"json": make(cell)}

    return body


# Valid request bodies, so that a status is about the caller and never about the input.
BODIES: dict[str, Callable[[Cell], Awaitable[dict[str, Any]]]] = {
    "POST /api/auth/register": _json(
        lambda c: {
            "email": f"newcomer{next(_numbers)}@example.com",
            "first_name": "New",
            "last_name": "Person",
            "password": PASSWORD,
        }
    ),
    "POST /api/auth/login": _json(
        lambda c: {"email": (c.caller or c.world.bystander).email, "password": PASSWORD}
    ),
    "POST /api/auth/refresh": _refresh_token,
    "PUT /api/auth/profile": _json(lambda c: {"first_name": "Renamed"}),
    "PUT /api/auth/password": _json(lambda c: {"current_password": PASSWORD, "new_password": "Changed123"}),
    "POST /api/auth/google/callback": _json(lambda c: {"code": "any-code", "state": "any-state"}),
    "PUT /api/users/{user_id:int}/role": _json(lambda c: {"role": "instructor"}),
    "POST /api/courses": _json(lambda c: course_body(title="Another course")),
    "PUT /api/courses/{course_id:int}": _json(lambda c: {"title": "Renamed course"}),
    "PUT /api/courses/{course_id:int}/rating": _json(lambda c: {"stars": 4, "review": "Clear and useful"}),
    "POST /api/courses/{course_id:int}/lessons": _json(
        lambda c: {"title": "Extra", "type": "text", "content": "<p>More</p>", "duration": 5}
    ),
    "PUT /api/courses/{course_id:int}/lessons/order": _lesson_order,
    "PUT /api/courses/{course_id:int}/lessons/{lesson_id}": _json(lambda c: {"title": "Retitled"}),
    "POST /api/courses/{course_id:int}/progress": _json(
        lambda c: {"lesson_id": c.world.course.lesson, "completed": True}
    ),
    "POST /api/courses/{course_id:int}/telemetry": _json(
        lambda c: {"lesson_id": c.world.course.lesson, "seconds_spent": 5}
    ),
    "POST /api/courses/{course_id:int}/discussions": _json(lambda c: {"content": "A question"}),
    "PUT /api/discussions/{comment_id:int}": _json(lambda c: {"content": "Edited"}),
    "POST /api/discussions/{comment_id:int}/vote": _json(lambda c: {"vote_type": 1}),
    "POST /api/discussions/{comment_id:int}/reply": _json(lambda c: {"content": "A private answer"}),
    "POST /api/chats/{partner_id:int}": _json(lambda c: {"content": "Hello"}),
    "POST /api/upload": _upload,
}


async def request(world: World, row: Row, who: str) -> httpx.Response:
    """Make the row's request as `who`, with fresh resources where the row asks for them."""
    caller = world.account(who)
    if row.fresh_caller and caller is not None:
        caller = await new_principal(world.client, world.api, who, world.course.id)
    names = [part.split("}")[0].split(":")[0] for part in row.path.split("{")[1:]]
    params = {name: await _resolve(world, row.binding(name)) for name in names}
    cell = Cell(world, who, caller, params)
    path = row.path
    for name, value in params.items():
        path = path.replace("{" + name + ":int}", str(value)).replace("{" + name + "}", str(value))
    extra = await BODIES[row.route](cell) if row.route in BODIES else {}
    headers = caller.headers if caller is not None else {}
    response = await world.client.request(row.method, path, headers=headers, **extra)
    # A throwaway course goes again: an enrollment in it would make its caller a learner of the owner
    # (free to message them, for one) in every later cell.
    for name, value in params.items():
        if row.binding(name) == "fresh_course":
            gone = await world.client.delete(f"/api/courses/{value}", headers=world.accounts["admin"].headers)
            assert gone.status_code in (200, 404), gone.text
    return response


# --- a channel cell --------------------------------------------------------------------------------------


def channel_name(world: World, pattern: str, who: str) -> str:
    caller = world.account(who)
    return pattern.format(
        self=(caller or world.accounts["enrolled"]).id,
        bystander=world.bystander.id,
        course=world.course.id,
        hidden_board=world.hidden_board.id,
        draft=world.draft.id,
    )


async def _reply(ws: ClientConnection, frame_id: int) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(await ws.recv())
        if message.get("id") == frame_id and "ok" in message:
            return message


async def subscribe(world: World, channel: str, who: str) -> tuple[str, str | None]:
    """(outcome, error code): `ok`, the error reply's code, or the close code when the connection ends
    instead. A refused subscribe must leave the connection usable, so a ping follows it."""
    caller = world.account(who)
    error: str | None = None
    async with asyncio.timeout(10), connect(world.ws_url, open_timeout=10) as ws:
        try:
            if caller is not None:
                await ws.send(json.dumps({"op": "auth", "id": 1, "token": caller.access_token}))
                answer = await _reply(ws, 1)
                if not answer["ok"]:
                    error = answer["error"]["code"]
                    await ws.recv()  # the close follows the refusal
            await ws.send(json.dumps({"op": "subscribe", "id": 2, "channel": channel}))
            answer = await _reply(ws, 2)
            if not answer["ok"]:
                error = answer["error"]["code"]
            await ws.send(json.dumps({"op": "ping", "id": 3}))
            await _reply(ws, 3)
        except ConnectionClosed as closed:
            return str(closed.rcvd.code if closed.rcvd is not None else None), error
    return ("ok" if answer["ok"] else str(error)), error
