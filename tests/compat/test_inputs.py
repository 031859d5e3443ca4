"""Requests the original API accepted are accepted here too: its web client's bodies and query strings,
the optional and null keys it allowed, and keys it ignored. Each row must succeed; where what it does
matters, `then` checks it."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.compat.scene import Scene, course_form, ok

Check = Callable[[Scene, httpx.Response], Awaitable[None]]
TODAY = datetime.now(UTC).date()
LAST_WEEK = (TODAY - timedelta(days=7)).isoformat()


@dataclass(frozen=True)
class Accepted:
    who: str
    method: str
    path: str
    body: dict[str, Any] | None = None
    query: dict[str, Any] | None = None
    then: Check | None = None
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.method} {self.path} {self.note or self.body or self.query or ''}"[:120]


async def _course_images_are_none(scene: Scene, response: httpx.Response) -> None:
    assert (response.json()["banner_url"], response.json()["thumbnail_url"]) == (None, None)


async def _lesson_defaults(scene: Scene, response: httpx.Response) -> None:
    lesson = response.json()
    assert (lesson["type"], lesson["duration"], lesson["duration_minutes"], lesson["notes"]) == (
        "video",
        "15:30",
        16,
        None,
    )


async def _nulls_left_the_course_alone(scene: Scene, response: httpx.Response) -> None:
    course = response.json()
    assert (course["title"], course["description"]) == ("Python basics", "Still learning by doing.")


async def _profile_unchanged(scene: Scene, response: httpx.Response) -> None:
    me = ok(await scene.client.get("/api/auth/me", headers=scene.learner.headers))
    assert (me["first_name"], me["email"]) == ("Ada", scene.learner.email)


async def _reply_is_private(scene: Scene, response: httpx.Response) -> None:
    assert response.json()["is_private"] is True and response.json()["parent_id"] == scene.private_post


async def _trend_days(scene: Scene, response: httpx.Response) -> None:
    days = int(re.search(r"days=(\d+)", str(response.request.url)).group(1))  # type: ignore[union-attr]
    assert len(response.json()) == days


ROWS: list[Accepted] = [
    # auth: the profile form's keys the original ignored, and nulls that mean "unchanged"
    Accepted(
        "learner",
        "PUT",
        "/api/auth/profile",
        {"firstName": "Eve", "lastName": "X", "email": "e@x.y"},
        then=_profile_unchanged,
    ),
    Accepted(
        "learner",
        "PUT",
        "/api/auth/profile",
        {"first_name": None, "last_name": None, "avatar_url": ""},
        then=_profile_unchanged,
    ),
    # courses: "" images are none; nulls in an update are ignored; unknown keys are ignored
    Accepted(
        "admin",
        "POST",
        "/api/courses",
        {**course_form("Blank images"), "thumbnail_url": ""},
        then=_course_images_are_none,
    ),
    Accepted("admin", "POST", "/api/courses", {**course_form("x" * 255)}, note="a 255-character title"),
    Accepted(
        "admin",
        "PUT",
        "/api/courses/{course}",
        {"title": None, "description": "Still learning by doing.", "folder": "x"},
        then=_nulls_left_the_course_alone,
    ),
    Accepted(
        "anonymous",
        "GET",
        "/api/courses",
        query={"category": "Programming", "level": "Beginner", "search": "python", "skip": 0, "limit": 20},
    ),
    # lessons: type defaults to video, content and notes may be null, duration is free text
    Accepted(
        "admin",
        "POST",
        "/api/courses/{course}/lessons",
        {"title": "Intro video", "duration": "15:30", "content": None, "notes": None},
        then=_lesson_defaults,
    ),
    Accepted(
        "admin",
        "PUT",
        "/api/courses/{course}/lessons/{lesson}",
        {"title": "Welcome", "type": "video", "duration": "", "content": "", "notes": ""},
        note="an edit form filled without the content",
    ),
    # progress, telemetry
    Accepted(
        "learner", "POST", "/api/courses/{course}/progress", {"lesson_id": "{lesson}", "completed": False}
    ),
    Accepted(
        "learner", "POST", "/api/courses/{course}/progress", {"lesson_id": "{lesson}", "completed": True}
    ),
    Accepted(
        "learner", "POST", "/api/courses/{course}/telemetry", {"lesson_id": "{lesson}", "seconds_spent": 60}
    ),
    # discussions: every key of the original's body, null where it allowed null
    Accepted(
        "learner",
        "POST",
        "/api/courses/{course}/discussions",
        {"content": "With every key", "is_private": False, "lesson_id": None, "parent_id": None},
    ),
    Accepted("learner", "POST", "/api/courses/{course}/discussions", {"content": "Only content"}),
    Accepted(
        "admin",
        "POST",
        "/api/discussions/{private_post}/reply",
        {"content": "Other comment keys too", "is_private": False, "lesson_id": None},
        then=_reply_is_private,
    ),
    Accepted("admin", "POST", "/api/discussions/{post}/vote", {"vote_type": -1}),
    # direct messages
    Accepted("learner", "POST", "/api/chats/{admin}", {"content": "Hello again"}),
    Accepted("learner", "PUT", "/api/chats/{admin}/read"),
    # analytics and reports, with the values the original client sends
    *[
        Accepted("admin", "GET", "/api/analytics/enrollment-trends", query={"days": days}, then=_trend_days)
        for days in (7, 30, 90)
    ],
    *[
        Accepted("admin", "GET", f"/api/reports/{name}", query={"limit": limit})
        for name in ("courses", "students", "users", "activity")
        for limit in (5, 10, 20, 30, 50)
    ],
    Accepted(
        "admin",
        "GET",
        "/api/reports/courses",
        query={"category": "Programming", "level": "Beginner", "date_from": LAST_WEEK, "date_to": TODAY},
    ),
    Accepted(
        "admin",
        "GET",
        "/api/reports/students",
        query={"course_id": "{course}", "status": "in_progress", "date_from": LAST_WEEK, "date_to": TODAY},
    ),
    Accepted("admin", "GET", "/api/reports/users", query={"role": "learner", "date_from": LAST_WEEK}),
    Accepted(
        "admin", "GET", "/api/reports/activity", query={"date_from": LAST_WEEK, "date_to": TODAY, "limit": 10}
    ),
    *[
        Accepted(
            "admin",
            "GET",
            "/api/audit-logs",
            query={"limit": limit, "action": "course_enrolled", "search": "a"},
        )
        for limit in (10, 25, 50, 100)
    ],
    Accepted("admin", "GET", "/api/users"),
    Accepted("admin", "GET", "/api/users", query={"role": "learner", "skip": 0, "limit": 50}),
]


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, replacement in names.items():
            value = value.replace("{" + name + "}", replacement)
        return value
    if isinstance(value, dict):
        return {key: _fill(item, names) for key, item in value.items()}
    return value


@pytest.mark.parametrize("row", ROWS, ids=[row.label for row in ROWS])
async def test_an_original_request_is_accepted(scene: Scene, row: Accepted) -> None:
    text = f"{row.path} {row.body} {row.query}"
    names = {name: await scene.placeholder(name) for name in set(re.findall(r"{([a-z_]+)}", text))}
    response = await scene.client.request(
        row.method,
        _fill(row.path, names),
        headers=scene.headers(row.who),
        json=_fill(row.body, names),
        params=_fill(row.query, names),
    )
    assert response.is_success, response.text
    if row.then is not None:
        await row.then(scene, response)
