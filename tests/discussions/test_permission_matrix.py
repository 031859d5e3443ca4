"""Who may call which discussion endpoint, as one table (docs/PRODUCT.md, "Roles and permissions").

Each cell runs on fresh stores: a published course owned by an instructor, with a public post written by
an enrolled learner (the "author" column). Request bodies are valid, so a cell's status is about the
caller, not the input.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.discussions.helpers import enroll, make_course, post
from tests.helpers import Account, Api

PRINCIPALS = (
    "anonymous",
    "enrolled",  # an enrolled learner who did not write the post
    "other_learner",  # a learner not enrolled in the course
    "owner",  # the course's instructor
    "other_instructor",  # an instructor of another course
    "admin",
    "blocked",  # a blocked learner enrolled in the course
    "author",  # the enrolled learner who wrote the post
)


def row(*statuses: int) -> dict[str, int]:
    assert len(statuses) == len(PRINCIPALS)
    return dict(zip(PRINCIPALS, statuses, strict=True))


# fmt: off
MATRIX: dict[str, dict[str, int]] = {
    #                                            anon enrol other owner o-ins admin block author
    "GET /api/courses/{course}/discussions":  row(401, 200,  403,  200,  403,  200,  200,  200),
    "POST /api/courses/{course}/discussions": row(401, 201,  403,  201,  403,  201,  403,  201),
    "PUT /api/discussions/{post}":            row(401, 403,  403,  200,  403,  200,  403,  200),
    "DELETE /api/discussions/{post}":         row(401, 403,  403,  200,  403,  200,  403,  200),
    "POST /api/discussions/{post}/vote":      row(401, 200,  403,  200,  403,  200,  403,  403),
    "POST /api/discussions/{post}/reply":     row(401, 403,  403,  201,  403,  201,  403,  403),
    "GET /api/my-messages":                   row(401, 200,  200,  200,  200,  200,  200,  200),
    "GET /api/admin/messages":                row(401, 403,  403,  200,  200,  200,  403,  403),
}
# fmt: on

BODIES: dict[str, dict[str, Any]] = {
    "POST /api/courses/{course}/discussions": {"content": "A question"},
    "PUT /api/discussions/{post}": {"content": "Edited"},
    "POST /api/discussions/{post}/vote": {"vote_type": 1},
    "POST /api/discussions/{post}/reply": {"content": "A private answer"},
}

EXPECTED_403_CODES = {
    "not_enrolled",
    "user_blocked",
    "not_author",
    "cannot_vote_own",
    "not_course_owner",
    "insufficient_role",
}


async def caller(api: Api, principal: str, course_id: int, owner: Account, author: Account) -> dict[str, str]:
    if principal == "anonymous":
        return {}
    if principal == "owner":
        return owner.headers
    if principal == "author":
        return author.headers
    if principal == "enrolled":
        account = await api.account("learner")
        await enroll(api.runtime, account, course_id)
    elif principal == "blocked":
        account = await api.account("learner", blocked=True)
        await enroll(api.runtime, account, course_id)
    elif principal == "other_learner":
        account = await api.account("learner")
    elif principal == "other_instructor":
        account = await api.account("instructor")
        await make_course(api.runtime, account)
    else:
        assert principal == "admin"
        account = await api.account("admin")
    return account.headers


CELLS = [
    pytest.param(route, principal, status, id=f"{route} | {principal}")
    for route, expected in MATRIX.items()
    for principal, status in expected.items()
]


@pytest.mark.parametrize(("route", "principal", "status"), CELLS)
async def test_permission_matrix(
    client: httpx.AsyncClient, api: Api, route: str, principal: str, status: int
) -> None:
    owner = await api.account("instructor")
    author = await api.account("learner")
    course_id = await make_course(api.runtime, owner)
    await enroll(api.runtime, author, course_id)
    target = await post(client, author, course_id, "Is this on the exam?")
    headers = await caller(api, principal, course_id, owner, author)

    method, path = route.split(" ", 1)
    response = await client.request(
        method, path.format(course=course_id, post=target["id"]), json=BODIES.get(route), headers=headers
    )

    assert response.status_code == status, response.text
    if status >= 400:
        error = response.json()["error"]
        assert error["code"] and error["message"]
    if status == 403:
        assert error["code"] in EXPECTED_403_CODES
    if principal == "blocked" and method != "GET":  # blocked users read but do not write
        assert error["code"] == "user_blocked"


def test_the_matrix_covers_every_discussion_route() -> None:
    from app.discussions.routes import routes as discussion_routes
    from app.messages.routes import my_messages  # the caller's private posts, served beside the chats

    routes = [*discussion_routes, my_messages]

    declared = {
        f"{route.operation.method} "
        + route.operation.path.replace("{course_id:int}", "{course}").replace("{comment_id:int}", "{post}")
        for route in routes
    }
    assert declared == set(MATRIX)
