"""Who may call which direct-message endpoint, and who may write to whom, as tables.

Each cell is its own test on fresh stores; bodies are valid, so a status is about the caller and the
partner, never the input.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.courses import store as courses
from app.runtime import Runtime
from tests.messages.conftest import School, enroll

CALLERS = (
    "anonymous",
    "student",  # enrolled in the teacher's course
    "outsider",  # a learner enrolled nowhere
    "teacher",  # the course owner, who is also the partner below, so "self"
    "other_teacher",
    "admin",
    "blocked",  # a blocked learner enrolled in the teacher's course
)


def row(*statuses: int) -> dict[str, int]:
    assert len(statuses) == len(CALLERS)
    return dict(zip(CALLERS, statuses, strict=True))


# The partner in every path is the course owner ("teacher"). A conversation is readable by whoever may
# message the partner (an empty one when they never talked); anyone else gets the 404 an unknown id
# gets, so the routes never confirm that an account exists. Writing follows the rule: the owner's
# enrolled learners and admins, not a blocked learner (403), not someone enrolled nowhere (404).
# fmt: off
MATRIX: dict[str, dict[str, int]] = {
    #                                        anon student outsider teacher other_t admin blocked
    "GET /api/chat-partners":            row(401, 200,    200,     200,    200,    200,  200),
    "GET /api/chats":                    row(401, 200,    200,     200,    200,    200,  200),
    "GET /api/chats/{partner}":          row(401, 200,    404,     400,    404,    200,  200),
    "POST /api/chats/{partner}":         row(401, 201,    404,     400,    404,    201,  403),
    "PUT /api/chats/{partner}/read":     row(401, 200,    404,     400,    404,    200,  200),
}
# fmt: on

CASES = [(endpoint, caller, status) for endpoint, cells in MATRIX.items() for caller, status in cells.items()]


@pytest.mark.parametrize(("endpoint", "caller", "expected"), CASES, ids=[f"{e} as {c}" for e, c, _ in CASES])
async def test_endpoint_matrix(
    client: httpx.AsyncClient, school: School, endpoint: str, caller: str, expected: int
) -> None:
    method, path = endpoint.split(" ")
    path = path.replace("{partner}", str(school.teacher.id))
    headers = {} if caller == "anonymous" else school.by_name(caller).headers
    body = {"content": "Hello"} if method == "POST" else None
    response = await client.request(method, path, headers=headers, json=body)
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert set(response.json()["error"]) == {"code", "message", "details"}


# (sender, recipient) -> (status, error code). "deactivated" and "nobody" are recipients only.
SEND_CASES: list[tuple[str, str, int, str | None]] = [
    # a learner and the instructors of their courses, both ways
    ("student", "teacher", 201, None),
    ("teacher", "student", 201, None),
    ("teacher", "classmate", 201, None),
    # not another instructor, not another learner: to them these people are not there at all
    ("student", "other_teacher", 404, "user_not_found"),
    ("other_teacher", "student", 404, "user_not_found"),
    ("student", "classmate", 404, "user_not_found"),
    ("student", "outsider", 404, "user_not_found"),
    ("outsider", "teacher", 404, "user_not_found"),
    ("teacher", "outsider", 404, "user_not_found"),
    ("teacher", "other_teacher", 404, "user_not_found"),
    # anyone and admins, both ways
    ("student", "admin", 201, None),
    ("admin", "student", 201, None),
    ("outsider", "admin", 201, None),
    ("admin", "outsider", 201, None),
    ("teacher", "admin", 201, None),
    ("admin", "other_teacher", 201, None),
    # blocked users cannot send, even where they otherwise could, but may be written to
    ("blocked", "teacher", 403, "user_blocked"),
    ("blocked", "admin", 403, "user_blocked"),
    ("teacher", "blocked", 201, None),
    ("admin", "blocked", 201, None),
    # deactivated or unknown recipients do not exist as far as messaging goes
    ("teacher", "deactivated", 404, "user_not_found"),
    ("admin", "deactivated", 404, "user_not_found"),
    ("admin", "nobody", 404, "user_not_found"),
    ("student", "nobody", 404, "user_not_found"),
    # nobody messages themselves
    ("student", "student", 400, "cannot_message_self"),
    ("admin", "admin", 400, "cannot_message_self"),
]


@pytest.mark.parametrize(
    ("sender", "recipient", "expected", "code"), SEND_CASES, ids=[f"{s}->{r}" for s, r, _, _ in SEND_CASES]
)
async def test_who_may_message_whom(
    client: httpx.AsyncClient, school: School, sender: str, recipient: str, expected: int, code: str | None
) -> None:
    recipient_id = 999_999 if recipient == "nobody" else school.by_name(recipient).id
    response = await client.post(
        f"/api/chats/{recipient_id}", json={"content": "Hi there"}, headers=school.by_name(sender).headers
    )
    assert response.status_code == expected, response.text
    if code is not None:
        assert response.json()["error"]["code"] == code
    else:
        message = response.json()
        assert (message["sender_id"], message["recipient_id"]) == (school.by_name(sender).id, recipient_id)


@pytest.mark.parametrize("method", ["GET", "PUT"])
async def test_deactivated_or_unknown_partner_is_not_found_for_reading(
    client: httpx.AsyncClient, school: School, method: str
) -> None:
    for partner_id in (school.deactivated.id, 999_999, 2**31, 10**30):
        path = f"/api/chats/{partner_id}" + ("/read" if method == "PUT" else "")
        response = await client.request(method, path, headers=school.teacher.headers)
        assert response.status_code == 404, (partner_id, response.text)
        # Ids beyond the integer range are refused by the router before any look-up.
        expected = "not_found" if partner_id >= 2**31 else "user_not_found"
        assert response.json()["error"]["code"] == expected


async def test_a_conversation_is_readable_only_by_its_two_participants(
    client: httpx.AsyncClient, school: School
) -> None:
    sent = await client.post(
        f"/api/chats/{school.teacher.id}",
        json={"content": "Private question"},
        headers=school.student.headers,
    )
    assert sent.status_code == 201
    # Every other caller naming the teacher (or the student) gets their own, empty, conversation when
    # they may write to that person, and the unknown-user 404 when they may not.
    may_message = {
        ("classmate", "teacher"),
        ("admin", "teacher"),
        ("admin", "student"),
        ("blocked", "teacher"),
    }
    for caller in ("classmate", "outsider", "other_teacher", "admin", "blocked"):
        for name, partner in (("teacher", school.teacher), ("student", school.student)):
            response = await client.get(f"/api/chats/{partner.id}", headers=school.by_name(caller).headers)
            if (caller, name) in may_message:
                assert response.status_code == 200, (caller, name, response.text)
                assert response.json() == [], (caller, partner)
            else:
                assert response.status_code == 404, (caller, name, response.text)
                assert response.json()["error"]["code"] == "user_not_found"
        listing = await client.get("/api/chats", headers=school.by_name(caller).headers)
        assert listing.json() == []
    for reader, partner in ((school.student, school.teacher), (school.teacher, school.student)):
        response = await client.get(f"/api/chats/{partner.id}", headers=reader.headers)
        assert [m["content"] for m in response.json()] == ["Private question"]


async def test_blocked_user_can_read_and_mark_read(client: httpx.AsyncClient, school: School) -> None:
    sent = await client.post(
        f"/api/chats/{school.blocked.id}",
        json={"content": "About your account"},
        headers=school.admin.headers,
    )
    assert sent.status_code == 201
    chats = await client.get("/api/chats", headers=school.blocked.headers)
    assert chats.status_code == 200
    assert chats.json()[0]["unread_count"] == 1
    history = await client.get(f"/api/chats/{school.admin.id}", headers=school.blocked.headers)
    assert [m["content"] for m in history.json()] == ["About your account"]
    read = await client.put(f"/api/chats/{school.admin.id}/read", headers=school.blocked.headers)
    assert read.status_code == 200
    assert read.json()["updated"] == 1
    reply = await client.post(
        f"/api/chats/{school.admin.id}", json={"content": "Why?"}, headers=school.blocked.headers
    )
    assert reply.status_code == 403
    assert reply.json()["error"]["code"] == "user_blocked"


async def test_unenrolled_learner_can_no_longer_write_but_can_still_read(
    client: httpx.AsyncClient, runtime: Runtime, school: School
) -> None:
    hello = await client.post(
        f"/api/chats/{school.teacher.id}", json={"content": "Hello"}, headers=school.student.headers
    )
    assert hello.status_code == 201
    async with runtime.db.transaction() as tx:
        enrollment = await courses.enrollment(tx, school.student.id, school.course_id)
        assert enrollment is not None
        await tx.delete(enrollment)
    again = await client.post(
        f"/api/chats/{school.teacher.id}", json={"content": "Still there?"}, headers=school.student.headers
    )
    assert again.status_code == 403
    assert again.json()["error"]["code"] == "cannot_message"
    history = await client.get(f"/api/chats/{school.teacher.id}", headers=school.student.headers)
    assert [m["content"] for m in history.json()] == ["Hello"]


async def test_instructor_enrolled_in_a_colleagues_course_may_write_to_that_colleague(
    client: httpx.AsyncClient, runtime: Runtime, school: School
) -> None:
    await enroll(runtime, school.other_teacher.id, school.course_id)
    for sender, recipient in ((school.other_teacher, school.teacher), (school.teacher, school.other_teacher)):
        response = await client.post(
            f"/api/chats/{recipient.id}", json={"content": "Colleague"}, headers=sender.headers
        )
        assert response.status_code == 201, response.text


@pytest.mark.parametrize("method", ["GET", "PUT", "POST"])
async def test_an_account_nobody_may_message_looks_like_no_account(
    client: httpx.AsyncClient, school: School, method: str
) -> None:
    """An outsider probing ids learns nothing: a real user they may not write to and an id nobody has
    get the same status, code and message."""

    def call(partner_id: int) -> Any:
        suffix = "/read" if method == "PUT" else ""
        body = {"content": "Hi"} if method == "POST" else None
        return client.request(
            method, f"/api/chats/{partner_id}{suffix}", headers=school.outsider.headers, json=body
        )

    real, missing = await call(school.other_teacher.id), await call(999_999)
    assert (real.status_code, real.json()) == (missing.status_code, missing.json())
    assert real.status_code == 404 and real.json()["error"]["code"] == "user_not_found"
