"""Direct messages end to end: sending, history pages, conversation summaries, read marks, partners."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.runtime import Runtime
from tests.helpers import Account, Api
from tests.messages.conftest import School, add_course, enroll


async def send(
    client: httpx.AsyncClient, sender: Account, recipient: Account, content: str
) -> dict[str, Any]:
    response = await client.post(
        f"/api/chats/{recipient.id}", json={"content": content}, headers=sender.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def error_fields(response: httpx.Response) -> set[str]:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    return {item["field"] for item in error["details"]}


# ---------------------------------------------------------------------------------------------- sending


async def test_send_returns_the_stored_message(client: httpx.AsyncClient, school: School) -> None:
    response = await client.post(
        f"/api/chats/{school.teacher.id}",
        json={"content": "  <b>Is</b> lesson 3 <script>alert(1)</script> required?\n "},
        headers=school.student.headers,
    )
    assert response.status_code == 201, response.text
    message = response.json()
    assert set(message) == {
        "id",
        "sender_id",
        "receiver_id",
        "sender_name",
        "sender_avatar",
        "content",
        "is_read",
        "created_at",
        "recipient_id",
        "read_at",
    }
    assert message["sender_id"] == school.student.id
    assert message["recipient_id"] == message["receiver_id"] == school.teacher.id
    assert (message["sender_name"], message["sender_avatar"], message["is_read"]) == (
        "Test User",
        None,
        False,
    )
    # Plain text: trimmed, otherwise kept exactly as written (clients render it as text, not HTML).
    assert message["content"] == "<b>Is</b> lesson 3 <script>alert(1)</script> required?"
    assert message["created_at"].endswith("Z")
    assert message["read_at"] is None
    history = await client.get(f"/api/chats/{school.student.id}", headers=school.teacher.headers)
    assert history.json() == [message]


async def test_send_accepts_exactly_2000_characters(client: httpx.AsyncClient, school: School) -> None:
    message = await send(client, school.student, school.teacher, "é" * 2000)
    assert message["content"] == "é" * 2000


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "content"),
        ({"content": ""}, "content"),
        ({"content": "   \n\t "}, "content"),
        ({"content": "x" * 2001}, "content"),
        ({"content": 42}, "content"),
        ({"content": None}, "content"),
        ({"content": ["hi"]}, "content"),
        ({"content": "nul \x00 inside"}, "content"),
    ],
)
async def test_send_validation_names_the_field(
    client: httpx.AsyncClient, school: School, body: dict[str, Any], field: str
) -> None:
    response = await client.post(f"/api/chats/{school.teacher.id}", json=body, headers=school.student.headers)
    assert field in error_fields(response)


async def test_send_rejects_malformed_bodies_without_a_500(client: httpx.AsyncClient, school: School) -> None:
    path = f"/api/chats/{school.teacher.id}"
    headers = school.student.headers
    not_json = await client.post(
        path, content=b"{not json", headers={**headers, "content-type": "application/json"}
    )
    assert not_json.status_code == 422
    as_list = await client.post(path, json=["hi"], headers=headers)
    assert as_list.status_code == 422
    as_form = await client.post(path, data={"content": "hi"}, headers=headers)
    assert as_form.status_code == 415
    # A path that is not an integer id is simply not a route.
    assert (await client.post("/api/chats/abc", json={"content": "hi"}, headers=headers)).status_code == 404


async def test_message_to_blocked_user_is_delivered(client: httpx.AsyncClient, school: School) -> None:
    await send(client, school.teacher, school.blocked, "Your account is blocked for now")
    chats = await client.get("/api/chats", headers=school.blocked.headers)
    assert chats.json()[0]["partner"]["id"] == school.teacher.id


# ---------------------------------------------------------------------------------------------- history


async def test_history_pages_back_with_before(client: httpx.AsyncClient, school: School) -> None:
    sent = []
    for number in range(7):
        sender, recipient = (
            (school.student, school.teacher) if number % 2 else (school.teacher, school.student)
        )
        sent.append(await send(client, sender, recipient, f"message {number}"))
    newest_first = [message["id"] for message in reversed(sent)]

    path = f"/api/chats/{school.teacher.id}"
    # Each page holds the newest messages below the cursor, listed oldest first as a chat shows them.
    first = await client.get(path, params={"limit": 3}, headers=school.student.headers)
    assert first.status_code == 200
    assert [m["id"] for m in first.json()] == newest_first[:3][::-1]
    assert first.headers["X-Total-Count"] == "7"
    assert 'rel="next"' in first.headers["Link"]
    assert f"before={newest_first[2]}" in first.headers["Link"]

    second = await client.get(
        path, params={"limit": 3, "before": newest_first[2]}, headers=school.student.headers
    )
    assert [m["id"] for m in second.json()] == newest_first[3:6][::-1]
    third = await client.get(
        path, params={"limit": 3, "before": newest_first[5]}, headers=school.student.headers
    )
    assert [m["id"] for m in third.json()] == newest_first[6:]
    assert 'rel="next"' not in third.headers["Link"]
    assert 'rel="first"' in third.headers["Link"]

    # A new message does not shift the older pages: the cursor is an id.
    await send(client, school.teacher, school.student, "late")
    again = await client.get(
        path, params={"limit": 3, "before": newest_first[2]}, headers=school.student.headers
    )
    assert [m["id"] for m in again.json()] == newest_first[3:6][::-1]

    # Default limit is 50; the conversation is seen identically from both sides.
    everything = await client.get(path, headers=school.student.headers)
    other_side = await client.get(f"/api/chats/{school.student.id}", headers=school.teacher.headers)
    assert len(everything.json()) == 8
    assert everything.json() == other_side.json()
    assert 'rel="next"' not in everything.headers["Link"]


async def test_history_only_holds_the_pair(client: httpx.AsyncClient, school: School) -> None:
    await send(client, school.student, school.teacher, "to teacher")
    await send(client, school.classmate, school.teacher, "from classmate")
    await send(client, school.student, school.admin, "to admin")
    history = await client.get(f"/api/chats/{school.teacher.id}", headers=school.student.headers)
    assert [m["content"] for m in history.json()] == ["to teacher"]
    assert history.headers["X-Total-Count"] == "1"


async def test_history_with_someone_never_written_to_is_empty(
    client: httpx.AsyncClient, school: School
) -> None:
    response = await client.get(f"/api/chats/{school.admin.id}", headers=school.student.headers)
    assert response.status_code == 200
    assert response.json() == []
    assert response.headers["X-Total-Count"] == "0"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"before": 0}, "before"),
        ({"before": -5}, "before"),
        ({"before": "abc"}, "before"),
        ({"before": str(2**63)}, "before"),
        ({"before": "1.5"}, "before"),
    ],
)
async def test_history_validation_names_the_parameter(
    client: httpx.AsyncClient, school: School, params: dict[str, Any], field: str
) -> None:
    response = await client.get(
        f"/api/chats/{school.teacher.id}", params=params, headers=school.student.headers
    )
    assert field in error_fields(response)


# ------------------------------------------------------------------------------------ summaries and reads


async def test_chats_summarise_each_conversation_newest_first(
    client: httpx.AsyncClient, school: School
) -> None:
    await send(client, school.teacher, school.student, "welcome")
    await send(client, school.teacher, school.student, "lesson 2 is up")
    await send(client, school.admin, school.student, "hello from admin")
    last_to_teacher = await send(client, school.student, school.teacher, "thanks!")

    response = await client.get("/api/chats", headers=school.student.headers)
    assert response.status_code == 200
    chats = response.json()
    assert response.headers["X-Total-Count"] == "2"
    assert [chat["partner"]["id"] for chat in chats] == [school.teacher.id, school.admin.id]
    teacher_chat, admin_chat = chats
    assert teacher_chat["partner"] == {
        "id": school.teacher.id,
        "name": "Test User",
        "avatar": None,
        "role": "instructor",
    }
    assert teacher_chat["latest_message"] == {
        "id": last_to_teacher["id"],
        "content": "thanks!",
        "sender_id": school.student.id,
        "created_at": last_to_teacher["created_at"],
    }
    # The original API's flat fields beside the objects.
    assert (teacher_chat["last_message"], teacher_chat["last_message_at"]) == (
        "thanks!",
        last_to_teacher["created_at"],
    )
    assert (teacher_chat["partner_id"], teacher_chat["partner_name"], teacher_chat["partner_role"]) == (
        school.teacher.id,
        "Test User",
        "instructor",
    )
    assert teacher_chat["partner_avatar"] is None
    # The student's own last reply does not clear the teacher's two unread messages.
    assert teacher_chat["unread_count"] == 2
    assert admin_chat["unread_count"] == 1
    assert admin_chat["partner"]["role"] == "admin"

    teacher_view = (await client.get("/api/chats", headers=school.teacher.headers)).json()
    assert [(c["partner"]["id"], c["unread_count"]) for c in teacher_view] == [(school.student.id, 1)]


async def test_chats_are_paged(client: httpx.AsyncClient, school: School) -> None:
    partners = [school.student, school.classmate, school.blocked, school.admin]
    for partner in partners:
        await send(client, school.teacher, partner, f"hi {partner.id}")
    first = await client.get("/api/chats", params={"limit": 3}, headers=school.teacher.headers)
    assert [c["partner"]["id"] for c in first.json()] == [p.id for p in reversed(partners)][:3]
    assert first.headers["X-Total-Count"] == "4"
    assert 'rel="next"' in first.headers["Link"]
    second = await client.get("/api/chats", params={"limit": 3, "skip": 3}, headers=school.teacher.headers)
    assert [c["partner"]["id"] for c in second.json()] == [school.student.id]
    assert 'rel="prev"' in second.headers["Link"]
    beyond = await client.get("/api/chats", params={"skip": 50}, headers=school.teacher.headers)
    assert beyond.json() == []
    assert beyond.headers["X-Total-Count"] == "4"


@pytest.mark.parametrize(
    ("params", "field"), [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"skip": -1}, "skip")]
)
async def test_chats_validation(
    client: httpx.AsyncClient, school: School, params: dict[str, Any], field: str
) -> None:
    response = await client.get("/api/chats", params=params, headers=school.student.headers)
    assert field in error_fields(response)


async def test_conversation_with_a_deactivated_user_disappears(
    client: httpx.AsyncClient, api: Api, school: School
) -> None:
    await send(client, school.teacher, school.student, "hi")
    await send(client, school.teacher, school.classmate, "hi")
    await api.set_user(school.classmate.id, is_active=False)
    chats = await client.get("/api/chats", headers=school.teacher.headers)
    assert [c["partner"]["id"] for c in chats.json()] == [school.student.id]
    assert chats.headers["X-Total-Count"] == "1"
    history = await client.get(f"/api/chats/{school.classmate.id}", headers=school.teacher.headers)
    assert history.status_code == 404


async def test_mark_read(client: httpx.AsyncClient, school: School) -> None:
    first = await send(client, school.teacher, school.student, "one")
    second = await send(client, school.teacher, school.student, "two")
    mine = await send(client, school.student, school.teacher, "my reply")
    from_admin = await send(client, school.admin, school.student, "admin note")

    read = await client.put(f"/api/chats/{school.teacher.id}/read", headers=school.student.headers)
    assert read.status_code == 200
    assert read.json() == {"message": "Messages marked as read", "updated": 2, "up_to_id": second["id"]}

    history = (await client.get(f"/api/chats/{school.teacher.id}", headers=school.student.headers)).json()
    read_at = {m["id"]: m["read_at"] for m in history}
    assert {m["id"]: m["is_read"] for m in history} == {m["id"]: m["read_at"] is not None for m in history}
    assert read_at[first["id"]] is not None and read_at[first["id"]].endswith("Z")
    assert read_at[second["id"]] is not None
    # The caller's own message is the partner's to read, and other conversations are untouched.
    assert read_at[mine["id"]] is None
    chats = {
        c["partner"]["id"]: c["unread_count"]
        for c in (await client.get("/api/chats", headers=school.student.headers)).json()
    }
    assert chats == {school.teacher.id: 0, school.admin.id: 1}
    teacher_chats = (await client.get("/api/chats", headers=school.teacher.headers)).json()
    assert teacher_chats[0]["unread_count"] == 1

    again = await client.put(f"/api/chats/{school.teacher.id}/read", headers=school.student.headers)
    assert again.json() == {"message": "Messages marked as read", "updated": 0, "up_to_id": None}
    admin_history = (await client.get(f"/api/chats/{school.admin.id}", headers=school.student.headers)).json()
    assert admin_history[0]["id"] == from_admin["id"] and admin_history[0]["read_at"] is None


async def test_mark_read_up_to_a_message(client: httpx.AsyncClient, school: School) -> None:
    seen = await send(client, school.teacher, school.student, "seen")
    unseen = await send(client, school.teacher, school.student, "arrived after the screen was drawn")
    read = await client.put(
        f"/api/chats/{school.teacher.id}/read", params={"up_to": seen["id"]}, headers=school.student.headers
    )
    assert read.json() == {"message": "Messages marked as read", "updated": 1, "up_to_id": seen["id"]}
    chats = (await client.get("/api/chats", headers=school.student.headers)).json()
    assert chats[0]["unread_count"] == 1
    rest = await client.put(f"/api/chats/{school.teacher.id}/read", headers=school.student.headers)
    assert rest.json() == {"message": "Messages marked as read", "updated": 1, "up_to_id": unseen["id"]}


@pytest.mark.parametrize("value", ["0", "-1", "x", str(2**63)])
async def test_mark_read_validation(client: httpx.AsyncClient, school: School, value: str) -> None:
    response = await client.put(
        f"/api/chats/{school.teacher.id}/read", params={"up_to": value}, headers=school.student.headers
    )
    assert "up_to" in error_fields(response)


# ----------------------------------------------------------------------------------------- chat partners


def ids(response: httpx.Response) -> set[int]:
    assert response.status_code == 200, response.text
    return {person["id"] for person in response.json()}


async def test_learner_partners_are_their_instructors_and_admins(
    client: httpx.AsyncClient, runtime: Runtime, api: Api, school: School
) -> None:
    second_admin = await api.account("admin")
    response = await client.get("/api/chat-partners", headers=school.student.headers)
    assert ids(response) == {school.teacher.id, school.admin.id, second_admin.id}
    assert response.headers["X-Total-Count"] == "3"
    teacher = next(p for p in response.json() if p["id"] == school.teacher.id)
    assert teacher == {"id": school.teacher.id, "name": "Test User", "avatar": None, "role": "instructor"}
    # Enrolling elsewhere adds that course's instructor, once even with two courses.
    await enroll(runtime, school.student.id, school.other_course_id)
    await enroll(runtime, school.student.id, await add_course(runtime, school.teacher.id, "Second course"))
    again = await client.get("/api/chat-partners", headers=school.student.headers)
    assert ids(again) == {school.teacher.id, school.other_teacher.id, school.admin.id, second_admin.id}
    assert again.headers["X-Total-Count"] == "4"
    # A learner enrolled nowhere can still reach the admins.
    assert ids(await client.get("/api/chat-partners", headers=school.outsider.headers)) == {
        school.admin.id,
        second_admin.id,
    }


async def test_instructor_partners_are_their_learners_and_admins(
    client: httpx.AsyncClient, school: School
) -> None:
    response = await client.get("/api/chat-partners", headers=school.teacher.headers)
    # The deactivated learner is enrolled too, but is no longer anyone to talk to.
    assert ids(response) == {school.student.id, school.classmate.id, school.blocked.id, school.admin.id}
    assert ids(await client.get("/api/chat-partners", headers=school.other_teacher.headers)) == {
        school.admin.id
    }


async def test_admin_partners_are_every_active_user(client: httpx.AsyncClient, school: School) -> None:
    response = await client.get("/api/chat-partners", headers=school.admin.headers)
    everyone = {
        school.teacher.id,
        school.other_teacher.id,
        school.student.id,
        school.classmate.id,
        school.outsider.id,
        school.blocked.id,
    }
    assert ids(response) == everyone
    paged = await client.get(
        "/api/chat-partners", params={"limit": 2, "skip": 2}, headers=school.admin.headers
    )
    assert len(paged.json()) == 2
    assert paged.headers["X-Total-Count"] == "6"
    assert 'rel="next"' in paged.headers["Link"] and 'rel="prev"' in paged.headers["Link"]
    instructors = await client.get(
        "/api/chat-partners", params={"role": "instructor"}, headers=school.admin.headers
    )
    assert ids(instructors) == {school.teacher.id, school.other_teacher.id}


async def test_partner_search(client: httpx.AsyncClient, api: Api, school: School) -> None:
    await api.set_user(school.teacher.id, first_name="Ada", last_name="Lovelace")
    await api.set_user(school.outsider.id, first_name="Grace", last_name="Hopper")
    found = await client.get(
        "/api/chat-partners", params={"search": "ada love"}, headers=school.admin.headers
    )
    assert ids(found) == {school.teacher.id}
    assert found.json()[0]["name"] == "Ada Lovelace"
    # Names only: an address (or part of one) finds nobody, so the search cannot confirm that someone
    # has an account with it.
    for probe in (school.outsider.email, school.outsider.email.split("@")[0], "example.com"):
        by_email = await client.get(
            "/api/chat-partners", params={"search": probe}, headers=school.admin.headers
        )
        assert by_email.status_code == 200
        assert ids(by_email) == set(), probe
    # Search narrows the caller's partners; it never widens them.
    limited = await client.get(
        "/api/chat-partners", params={"search": "Grace"}, headers=school.student.headers
    )
    assert ids(limited) == set()
    wildcard = await client.get("/api/chat-partners", params={"search": "%"}, headers=school.admin.headers)
    assert ids(wildcard) == set()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"role": "teacher"}, "role"),
        ({"limit": 0}, "limit"),
        ({"limit": 500}, "limit"),
        ({"skip": -1}, "skip"),
        ({"search": "x" * 201}, "search"),
    ],
)
async def test_partner_validation(
    client: httpx.AsyncClient, school: School, params: dict[str, Any], field: str
) -> None:
    response = await client.get("/api/chat-partners", params=params, headers=school.student.headers)
    assert field in error_fields(response)
