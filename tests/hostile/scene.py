"""Set-up shared by the in-process security tests: one course with data in every list, the OpenAPI
document, and a response hook that fails on anything that looks like a stack trace."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.helpers import Account, Api
from tests.live.helpers import create_course, enroll

# What a leaked traceback or driver error looks like in a response body.
TRACE_MARKERS = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|\.py\", line|"
    r"sqlalchemy\.|asyncpg\.|pymongo\.|redis\.exceptions|psycopg|RuntimeError:|KeyError:|TypeError:"
)


@dataclass
class TraceScanner:
    """An httpx response hook: reads every body and remembers those with traceback markers."""

    scanned: int = 0
    leaks: list[str] = field(default_factory=list)

    async def __call__(self, response: httpx.Response) -> None:
        await response.aread()
        self.scanned += 1
        found = TRACE_MARKERS.search(response.text)
        if found:
            self.leaks.append(f"{response.request.method} {response.request.url}: {found.group(0)!r}")

    def attach(self, client: httpx.AsyncClient) -> None:
        client.event_hooks["response"].append(self)


@dataclass
class Scene:
    admin: Account
    owner: Account
    learner: Account
    course_id: int
    lesson_id: str
    comment_id: int

    def path_values(self, actor: Account) -> dict[str, Any]:
        partner = self.owner if actor is self.learner else self.learner
        return {
            "course_id": self.course_id,
            "lesson_id": self.lesson_id,
            "comment_id": self.comment_id,
            "user_id": self.learner.id,
            "partner_id": partner.id,
        }


async def build_scene(api: Api, client: httpx.AsyncClient) -> Scene:
    admin = await api.account("admin")
    owner = await api.account("instructor")
    learner = await api.account("learner")
    course_id = await create_course(client, owner)
    await enroll(client, learner, course_id)
    lessons = await client.get(f"/api/courses/{course_id}/lessons", headers=owner.headers)
    lesson_id = lessons.json()[0]["id"]
    post = await client.post(
        f"/api/courses/{course_id}/discussions", headers=learner.headers, json={"content": "A question"}
    )
    assert post.status_code == 201, post.text
    message = await client.post(f"/api/chats/{owner.id}", headers=learner.headers, json={"content": "Hello"})
    assert message.status_code == 201, message.text
    rating = await client.put(
        f"/api/courses/{course_id}/rating", headers=learner.headers, json={"stars": 4, "review": "Good"}
    )
    assert rating.status_code == 200, rating.text
    return Scene(admin, owner, learner, course_id, lesson_id, post.json()["id"])


def fill_path(template: str, values: dict[str, Any]) -> str:
    return re.sub(r"{(\w+)}", lambda match: str(values[match.group(1)]), template)


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def string_properties(document: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Body properties that accept a string."""
    names = []
    for name, prop in resolve(document, schema).get("properties", {}).items():
        if any(option.get("type") == "string" for option in prop.get("anyOf", [prop])):
            names.append(name)
    return names
