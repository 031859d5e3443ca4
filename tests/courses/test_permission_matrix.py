"""Who may call what: every route of app/courses, app/lessons and app/progress against every kind of
caller, on a published course and on a draft, as two tables. Each row is one test, which compares the
whole row so a failure shows every principal's status at once.

The scene: an instructor owns a course with two lessons; one learner is enrolled, another is not; a
second instructor owns nothing here; a blocked learner and a deactivated learner were enrolled before
their accounts changed. The draft table is the same course after it was unpublished (so enrollments
exist in a course learners can no longer see). Request bodies are valid, so a cell's status is about
the caller and the course's state, not the input. A refused call must change nothing, so refusals share
a scene; each caller after a successful write gets a freshly built scene.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.courses.helpers import (
    add_lesson,
    course_body,
    enroll,
    error_code,
    make_course,
    quick_account,
    set_course,
)
from tests.helpers import Account, Api

PRINCIPALS = (
    "anonymous",  # no Authorization header
    "enrolled",  # a learner enrolled in the course
    "other",  # a learner not enrolled in it
    "owner",  # the instructor who owns the course
    "instructor",  # another instructor
    "admin",
    "blocked",  # an enrolled learner, blocked afterwards
    "deactivated",  # an enrolled learner, deactivated afterwards (token still unexpired)
)


def row(*statuses: int) -> dict[str, int]:
    assert len(statuses) == len(PRINCIPALS)
    return dict(zip(PRINCIPALS, statuses, strict=True))


# {c} the course, {l} its first lesson, {s} the enrolled learner (the student of the stats endpoint).
# Blocked users read, learn and leave; they cannot rate, enroll or (as teachers) edit. Everyone signed in
# who sees the course gets their progress (empty when not enrolled), so a course page always loads.
# fmt: off
PUBLISHED: dict[str, dict[str, int]] = {
    #                                         anon enrolled other owner instr admin blocked deact
    "GET /api/courses":                    row(200, 200,    200,  200,  200,  200,  200,    401),
    "GET /api/courses/with-enrollments":   row(401, 403,    403,  200,  200,  200,  403,    401),
    "GET /api/categories":                 row(200, 200,    200,  200,  200,  200,  200,    200),
    "GET /api/categories/counts":          row(200, 200,    200,  200,  200,  200,  200,    200),
    "GET /api/courses/{c}":                row(200, 200,    200,  200,  200,  200,  200,    401),
    "POST /api/courses":                   row(401, 403,    403,  201,  201,  201,  403,    401),
    "PUT /api/courses/{c}":                row(401, 403,    403,  200,  403,  200,  403,    401),
    "DELETE /api/courses/{c}":             row(401, 403,    403,  200,  403,  200,  403,    401),
    "PUT /api/courses/{c}/rating":         row(401, 200,    403,  403,  403,  403,  403,    401),
    "GET /api/courses/{c}/ratings":        row(200, 200,    200,  200,  200,  200,  200,    401),
    "GET /api/courses/{c}/leaderboard":    row(401, 200,    403,  200,  403,  200,  200,    401),
    "GET /api/courses/{c}/lessons":        row(401, 200,    403,  200,  403,  200,  200,    401),
    "POST /api/courses/{c}/lessons":       row(401, 403,    403,  201,  403,  201,  403,    401),
    "PUT /api/courses/{c}/lessons/order":  row(401, 403,    403,  200,  403,  200,  403,    401),
    "PUT /api/courses/{c}/lessons/{l}":    row(401, 403,    403,  200,  403,  200,  403,    401),
    "DELETE /api/courses/{c}/lessons/{l}": row(401, 403,    403,  200,  403,  200,  403,    401),
    "POST /api/courses/{c}/enroll":        row(401, 409,    201,  400,  201,  201,  403,    401),
    "DELETE /api/courses/{c}/unenroll":    row(401, 200,    404,  404,  404,  404,  200,    401),
    "GET /api/courses/{c}/progress":       row(401, 200,    200,  200,  200,  200,  200,    401),
    "POST /api/courses/{c}/progress":      row(401, 200,    403,  403,  403,  403,  200,    401),
    "GET /api/my-progress":                row(401, 200,    200,  200,  200,  200,  200,    401),
    "GET /api/learner/stats":              row(401, 200,    200,  200,  200,  200,  200,    401),
    "GET /api/learner/enrollments":        row(401, 200,    200,  200,  200,  200,  200,    401),
    "GET /api/admin/students/{s}/stats":   row(401, 403,    403,  200,  404,  200,  403,    401),
}

# The same course after its owner unpublished it: only the owner and admins see it; enrolled learners
# may still leave it. Routes that do not name a course are left out (nothing changes for them).
DRAFT: dict[str, dict[str, int]] = {
    #                                         anon enrolled other owner instr admin blocked deact
    "GET /api/courses/{c}":                row(404, 404,    404,  200,  404,  200,  404,    401),
    "PUT /api/courses/{c}":                row(401, 403,    403,  200,  404,  200,  403,    401),
    "DELETE /api/courses/{c}":             row(401, 403,    403,  200,  404,  200,  403,    401),
    "PUT /api/courses/{c}/rating":         row(401, 404,    404,  403,  404,  403,  403,    401),
    "GET /api/courses/{c}/ratings":        row(404, 404,    404,  200,  404,  200,  404,    401),
    "GET /api/courses/{c}/leaderboard":    row(401, 404,    404,  200,  404,  200,  404,    401),
    "GET /api/courses/{c}/lessons":        row(401, 404,    404,  200,  404,  200,  404,    401),
    "POST /api/courses/{c}/lessons":       row(401, 403,    403,  201,  404,  201,  403,    401),
    "PUT /api/courses/{c}/lessons/order":  row(401, 403,    403,  200,  404,  200,  403,    401),
    "PUT /api/courses/{c}/lessons/{l}":    row(401, 403,    403,  200,  404,  200,  403,    401),
    "DELETE /api/courses/{c}/lessons/{l}": row(401, 403,    403,  200,  404,  200,  403,    401),
    "POST /api/courses/{c}/enroll":        row(401, 404,    404,  400,  404,  400,  403,    401),
    "DELETE /api/courses/{c}/unenroll":    row(401, 200,    404,  404,  404,  404,  200,    401),
    "GET /api/courses/{c}/progress":       row(401, 404,    404,  200,  404,  200,  404,    401),
    "POST /api/courses/{c}/progress":      row(401, 404,    404,  403,  404,  403,  404,    401),
    "GET /api/admin/students/{s}/stats":   row(401, 403,    403,  200,  404,  200,  403,    401),
}
# fmt: on


@dataclass
class Scene:
    course_id: int
    lessons: list[str]
    accounts: dict[str, Account]


BODIES: dict[str, Callable[[Scene], dict[str, Any]]] = {
    "POST /api/courses": lambda s: course_body(title="Another course"),
    "PUT /api/courses/{c}": lambda s: {"title": "Renamed"},
    "PUT /api/courses/{c}/rating": lambda s: {"stars": 4, "review": "Clear and useful"},
    "POST /api/courses/{c}/lessons": lambda s: {"title": "Extra", "type": "text", "content": "<p>x</p>"},
    "PUT /api/courses/{c}/lessons/order": lambda s: {"lesson_ids": list(reversed(s.lessons))},
    "PUT /api/courses/{c}/lessons/{l}": lambda s: {"title": "Retitled"},
    "POST /api/courses/{c}/progress": lambda s: {"lesson_id": s.lessons[0], "completed": True},
}


async def build_scene(client: httpx.AsyncClient, api: Api, *, draft: bool) -> Scene:
    roles = {"owner": "instructor", "instructor": "instructor", "admin": "admin"}
    accounts = {who: await quick_account(api.runtime, roles.get(who, "learner")) for who in PRINCIPALS[1:]}
    owner = accounts["owner"]
    course = await make_course(client, owner)
    lessons = [(await add_lesson(client, owner, course["id"], f"L{n}"))["id"] for n in range(2)]
    for name in ("enrolled", "blocked", "deactivated"):
        await enroll(client, accounts[name], course["id"])
    await api.set_user(accounts["blocked"].id, is_blocked=True)
    await api.set_user(accounts["deactivated"].id, is_active=False)
    if draft:
        await set_course(client, owner, course["id"], is_published=False)
    return Scene(course_id=course["id"], lessons=lessons, accounts=accounts)


async def call(client: httpx.AsyncClient, scene: Scene, endpoint: str, who: str) -> httpx.Response:
    method, template = endpoint.split(" ", 1)
    path = template.format(c=scene.course_id, l=scene.lessons[0], s=scene.accounts["enrolled"].id)
    headers = {} if who == "anonymous" else scene.accounts[who].headers
    body = BODIES[endpoint](scene) if endpoint in BODIES else None
    return await client.request(method, path, headers=headers, json=body)


async def observe(client: httpx.AsyncClient, api: Api, endpoint: str, *, draft: bool) -> dict[str, int]:
    """Every principal's status for one endpoint. Refused calls change nothing, so they share a scene;
    each call that succeeded and may have changed something makes the next caller start afresh."""
    expected = (DRAFT if draft else PUBLISHED)[endpoint]
    read_only = endpoint.startswith("GET ")
    scene = await build_scene(client, api, draft=draft)
    dirty = False
    actual: dict[str, int] = {}
    for who in sorted(PRINCIPALS, key=lambda who: expected[who] < 400):  # refusals first
        if dirty:
            scene = await build_scene(client, api, draft=draft)
        response = await call(client, scene, endpoint, who)
        actual[who] = response.status_code
        if response.status_code >= 400:
            error_code(response, response.status_code)  # the JSON error model, whatever the code
        dirty = not read_only and response.status_code < 400
    return {who: actual[who] for who in PRINCIPALS}


@pytest.mark.parametrize("endpoint", list(PUBLISHED))
async def test_published_course(client: httpx.AsyncClient, api: Api, endpoint: str) -> None:
    assert await observe(client, api, endpoint, draft=False) == PUBLISHED[endpoint]


@pytest.mark.parametrize("endpoint", list(DRAFT))
async def test_draft_course(client: httpx.AsyncClient, api: Api, endpoint: str) -> None:
    assert await observe(client, api, endpoint, draft=True) == DRAFT[endpoint]


def test_every_route_is_in_the_table() -> None:
    from app.courses.routes import routes as course_routes
    from app.enrollments.routes import routes as enrollment_routes
    from app.leaderboards.routes import routes as leaderboard_routes
    from app.lessons.routes import routes as lesson_routes
    from app.progress.routes import routes as progress_routes
    from app.ratings.routes import routes as rating_routes

    declared = set()
    routes = [*course_routes, *rating_routes, *leaderboard_routes, *lesson_routes, *enrollment_routes]
    for route in [*routes, *progress_routes]:
        path = (
            route.path.replace("{course_id:int}", "{c}")
            .replace("{lesson_id}", "{l}")
            .replace("{user_id:int}", "{s}")
        )
        declared |= {f"{method} {path}" for method in route.methods or () if method != "HEAD"}
    assert declared == set(PUBLISHED)
    assert set(DRAFT) <= declared


async def test_the_error_codes_behind_the_statuses(client: httpx.AsyncClient, api: Api) -> None:
    """A few cells whose code tells apart reasons that share a status."""
    scene = await build_scene(client, api, draft=False)
    c, a = scene.course_id, scene.accounts
    assert error_code(await client.get(f"/api/courses/{c}/lessons", headers=a["other"].headers), 403) == (
        "not_enrolled"
    )
    put = await client.put(f"/api/courses/{c}", headers=a["instructor"].headers, json={"title": "Mine"})
    assert error_code(put, 403) == "not_course_owner"
    put = await client.put(f"/api/courses/{c}", headers=a["enrolled"].headers, json={"title": "Mine"})
    assert error_code(put, 403) == "insufficient_role"
    rate = await client.put(f"/api/courses/{c}/rating", headers=a["blocked"].headers, json={"stars": 5})
    assert error_code(rate, 403) == "user_blocked"
    assert error_code(await client.post(f"/api/courses/{c}/enroll", headers=a["owner"].headers), 400) == (
        "own_course"
    )
    assert error_code(await client.get("/api/auth/me", headers=a["deactivated"].headers), 401) == (
        "account_deactivated"
    )
    stats = await client.get(f"/api/admin/students/{a['enrolled'].id}/stats", headers=a["instructor"].headers)
    assert error_code(stats, 404) == "student_not_found"


async def test_a_blocked_instructor_cannot_change_their_course(client: httpx.AsyncClient, api: Api) -> None:
    owner = await api.account("instructor")
    course = await make_course(client, owner)
    lesson = await add_lesson(client, owner, course["id"])
    await api.set_user(owner.id, is_blocked=True)
    c, h = course["id"], owner.headers
    attempts = [
        await client.post("/api/courses", headers=h, json=course_body()),
        await client.put(f"/api/courses/{c}", headers=h, json={"title": "x"}),
        await client.post(f"/api/courses/{c}/lessons", headers=h, json={"title": "x", "type": "text"}),
        await client.put(f"/api/courses/{c}/lessons/{lesson['id']}", headers=h, json={"title": "x"}),
        await client.put(f"/api/courses/{c}/lessons/order", headers=h, json={"lesson_ids": [lesson["id"]]}),
        await client.delete(f"/api/courses/{c}/lessons/{lesson['id']}", headers=h),
        await client.delete(f"/api/courses/{c}", headers=h),
    ]
    assert [error_code(response, 403) for response in attempts] == ["user_blocked"] * len(attempts)
    # Reading stays open.
    assert (await client.get(f"/api/courses/{c}/lessons", headers=h)).status_code == 200
    assert (await client.get("/api/courses/with-enrollments", headers=h)).status_code == 200
