"""The world the compatibility cases read, built only through the API and only with requests a client of
the original API sends (its web client's bodies, down to `banner_url: ""` and free-text durations).

As in the original, an admin creates and owns the course; a learner is enrolled, has completed a lesson,
spent time, posted publicly and privately and chatted with the admin; another learner is not enrolled.
Every list an original field lives in therefore has items, so its items' shapes are checked.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.helpers import Account, Api
from tests.media.samples import png

_names = itertools.count(1)


def ok(response: httpx.Response) -> Any:
    assert response.is_success, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()


def course_form(title: str) -> dict[str, Any]:
    """What the original web client's course form sends: all seven keys, "" for a banner not uploaded."""
    return {
        "title": title,
        "description": "Learn by doing.",
        "category": "Programming",
        "level": "Beginner",
        "duration": "10 hours",
        "thumbnail_url": "https://img.example/thumb.png",
        "banner_url": "",
    }


def lesson_form(
    title: str, duration: str, content: str = "<p>Read me</p>", kind: str = "text"
) -> dict[str, Any]:
    """The original lesson editor's body: all five keys, a free-text duration, notes possibly ""."""
    return {"title": title, "type": kind, "duration": duration, "content": content, "notes": ""}


@dataclass
class Scene:
    client: httpx.AsyncClient
    api: Api
    admin: Account
    learner: Account
    other: Account
    course_id: int
    lesson_ids: list[str]
    public_post: int
    private_post: int
    extras: dict[str, Any] = field(default_factory=dict)

    def who(self, name: str) -> Account | None:
        return {"admin": self.admin, "learner": self.learner, "other": self.other}.get(name)

    def headers(self, name: str) -> dict[str, str]:
        account = self.who(name)
        return account.headers if account else {}

    # --- placeholders of a case's path: the scene's resources, or fresh ones a write may change ------------

    async def placeholder(self, name: str) -> str:
        fixed = {
            "course": self.course_id,
            "lesson": self.lesson_ids[0],
            "learner": self.learner.id,
            "admin": self.admin.id,
            "post": self.public_post,
            "private_post": self.private_post,
        }
        if name in fixed:
            return str(fixed[name])
        if name == "fresh_course":
            return str(await self.new_course())
        if name == "fresh_lesson":
            created = ok(
                await self.client.post(
                    f"/api/courses/{self.course_id}/lessons",
                    json=lesson_form("Spare", "5 min"),
                    headers=self.admin.headers,
                )
            )
            return str(created["lesson_id"])
        if name == "fresh_post":
            return str(await self.post(self.learner, "A post to change"))
        if name == "fresh_user":
            return str((await self.api.register()).id)
        if name == "enrollable_course":
            return str(await self.new_course())
        if name == "enrolled_course":
            course_id = await self.new_course()
            ok(await self.client.post(f"/api/courses/{course_id}/enroll", headers=self.learner.headers))
            return str(course_id)
        raise AssertionError(f"no placeholder {name!r}")

    async def new_course(self, *, lessons: int = 1) -> int:
        created = ok(
            await self.client.post(
                "/api/courses", json=course_form(f"Course {next(_names)}"), headers=self.admin.headers
            )
        )
        for number in range(lessons):
            ok(
                await self.client.post(
                    f"/api/courses/{created['id']}/lessons",
                    json=lesson_form(f"Lesson {number + 1}", "10 min"),
                    headers=self.admin.headers,
                )
            )
        ok(
            await self.client.put(
                f"/api/courses/{created['id']}",
                json={"is_published": True, "is_leaderboard_public": True},
                headers=self.admin.headers,
            )
        )
        return int(created["id"])

    async def post(self, who: Account, content: str, **fields: Any) -> int:
        body = {"content": content, "is_private": False, **fields}
        created = ok(
            await self.client.post(
                f"/api/courses/{self.course_id}/discussions", json=body, headers=who.headers
            )
        )
        return int(created["id"])


async def build_scene(client: httpx.AsyncClient, api: Api) -> Scene:
    admin = await api.account("admin")
    learner = await api.account("learner")
    other = await api.account("learner")
    await api.set_user(learner.id, first_name="Ada", last_name="Lovelace")
    course = ok(await client.post("/api/courses", json=course_form("Python basics"), headers=admin.headers))
    course_id = int(course["id"])
    lessons = [
        ok(await client.post(f"/api/courses/{course_id}/lessons", json=body, headers=admin.headers))[
            "lesson_id"
        ]
        for body in (
            lesson_form("Welcome", "15:30", "https://videos.example/welcome.mp4", kind="video"),
            lesson_form("Variables", "10 min"),
        )
    ]
    ok(
        await client.put(
            f"/api/courses/{course_id}",
            json={"is_published": True, "is_leaderboard_public": True},
            headers=admin.headers,
        )
    )
    ok(await client.post(f"/api/courses/{course_id}/enroll", headers=learner.headers))
    ok(
        await client.post(
            f"/api/courses/{course_id}/progress",
            json={"lesson_id": lessons[0], "completed": True},
            headers=learner.headers,
        )
    )
    ok(
        await client.post(
            f"/api/courses/{course_id}/telemetry",
            json={"lesson_id": lessons[0], "seconds_spent": 10},
            headers=learner.headers,
        )
    )
    scene = Scene(client, api, admin, learner, other, course_id, lessons, public_post=0, private_post=0)
    scene.public_post = await scene.post(learner, "How do I start?")
    await scene.post(admin, "Open the first lesson.", parent_id=scene.public_post)
    scene.private_post = await scene.post(learner, "A question for the instructor", is_private=True)
    ok(
        await client.post(
            f"/api/discussions/{scene.private_post}/reply",
            json={"content": "Here is the answer"},
            headers=admin.headers,
        )
    )
    ok(
        await client.post(
            f"/api/discussions/{scene.public_post}/vote", json={"vote_type": 1}, headers=admin.headers
        )
    )
    ok(
        await client.post(
            f"/api/chats/{learner.id}", json={"content": "Welcome aboard"}, headers=admin.headers
        )
    )
    ok(await client.post(f"/api/chats/{admin.id}", json={"content": "Thank you!"}, headers=learner.headers))
    ok(
        await client.post(
            "/api/upload",
            files={"file": ("picture.png", png(), "image/png")},
            data={"folder": "learnflow/courses"},
            headers=admin.headers,
        )
    )
    return scene
