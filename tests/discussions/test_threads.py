"""Threads and replies: posting, listing, sorting, paging, lessons, and input validation."""

from __future__ import annotations

import re

import httpx

from tests.discussions.helpers import (
    course_with_learner,
    enrolled_learner,
    error_code,
    fields_named,
    listing,
    make_course,
    make_lesson,
    post,
    vote,
)
from tests.helpers import Api

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


async def test_post_and_list_a_thread(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    await api.set_user(
        course.learner.id, first_name="Ada", last_name="Lovelace", avatar_url="https://a.example/x.png"
    )

    created = await post(client, course.learner, course.id, "  What is a closure?\r\nAsking for a friend.  ")

    assert created["content"] == "What is a closure?\nAsking for a friend."
    assert created["author"] == {
        "id": course.learner.id,
        "name": "Ada Lovelace",
        "avatar": "https://a.example/x.png",
        "role": "learner",
    }
    assert created["course_id"] == course.id
    assert created["parent_id"] is None and created["lesson_id"] is None
    assert created["is_private"] is False
    assert created["upvotes"] == 0
    assert created["downvotes"] is None  # a learner does not see downvotes
    assert created["user_vote"] == 0 and created["reply_count"] == 0
    # The original API's flat fields, beside the author object.
    assert (created["user_id"], created["author_name"], created["author_avatar"]) == (
        course.learner.id,
        "Ada Lovelace",
        "https://a.example/x.png",
    )
    assert created["course_title"].startswith("Course ") and created["lesson_title"] is None
    assert ISO_Z.match(created["created_at"]) and ISO_Z.match(created["updated_at"])

    items = await listing(client, course.learner, course.id)
    assert items == [created]
    owner_view = await listing(client, course.owner, course.id)
    assert owner_view[0]["downvotes"] == 0


async def test_content_is_plain_text_kept_as_written(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    text = "Why does <script>alert(1)</script> show up & what's <b>bold</b>?\tTabs\x07 stay."
    created = await post(client, course.learner, course.id, text)
    # Shown as text by clients: markup is kept verbatim (not interpreted, not mangled); control chars go.
    assert (
        created["content"] == "Why does <script>alert(1)</script> show up & what's <b>bold</b>?\tTabs stay."
    )


async def test_replies_are_listed_by_parent_id_and_counted(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    other = await enrolled_learner(api, course.id)
    thread = await post(client, course.learner, course.id, "Thread")
    first = await post(client, other, course.id, "First reply", parent_id=thread["id"])
    second = await post(client, course.owner, course.id, "Second reply", parent_id=thread["id"])

    assert first["parent_id"] == thread["id"]
    threads = await listing(client, course.learner, course.id)
    assert [t["id"] for t in threads] == [thread["id"]]  # replies are not threads
    assert threads[0]["reply_count"] == 2

    replies = await listing(client, course.learner, course.id, parent_id=thread["id"], sort="old")
    assert [r["id"] for r in replies] == [first["id"], second["id"]]
    assert replies[1]["author"]["role"] == "instructor"
    newest_first = await listing(client, course.learner, course.id, parent_id=thread["id"])
    assert [r["id"] for r in newest_first] == [second["id"], first["id"]]


async def test_the_plain_listing_is_flat_with_replies_newest_first(
    client: httpx.AsyncClient, api: Api
) -> None:
    """Without `threads` or `parent_id` the list is every post the caller may see, replies included (a
    reply names its thread in parent_id), newest first — as the original API listed them."""
    course = await course_with_learner(api)
    other = await enrolled_learner(api, course.id)
    thread = await post(client, course.learner, course.id, "Thread")
    reply = await post(client, other, course.id, "Reply", parent_id=thread["id"])
    secret = await post(client, other, course.id, "Only mine and staff's", is_private=True)
    later = await post(client, course.learner, course.id, "Later thread")

    mine = await listing(client, course.learner, course.id, flat=True)
    assert [(p["id"], p["parent_id"]) for p in mine] == [
        (later["id"], None),
        (reply["id"], thread["id"]),
        (thread["id"], None),
    ]
    theirs = await listing(client, other, course.id, flat=True)
    assert [p["id"] for p in theirs] == [later["id"], secret["id"], reply["id"], thread["id"]]
    staff = await listing(client, course.owner, course.id, flat=True)
    assert len(staff) == 4 and all(p["downvotes"] == 0 for p in staff)
    threads = await listing(client, course.learner, course.id)
    assert [p["id"] for p in threads] == [later["id"], thread["id"]]


async def test_a_reply_to_a_reply_joins_the_thread(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    thread = await post(client, course.learner, course.id, "Thread")
    reply = await post(client, course.owner, course.id, "Reply", parent_id=thread["id"])
    nested = await post(client, course.learner, course.id, "Reply to the reply", parent_id=reply["id"])

    assert nested["parent_id"] == thread["id"]
    assert (await listing(client, course.learner, course.id))[0]["reply_count"] == 2


async def test_sort_new_and_top(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    voters = [await enrolled_learner(api, course.id) for _ in range(3)]
    old_popular = await post(client, course.owner, course.id, "old, popular")
    middle = await post(client, course.owner, course.id, "middle, disliked")
    newest = await post(client, course.owner, course.id, "newest, no votes")
    tie_old = await post(client, course.owner, course.id, "tie, older")
    tie_new = await post(client, course.owner, course.id, "tie, newer")
    for voter in voters:
        assert (await vote(client, voter, old_popular["id"], 1)).status_code == 200
    assert (await vote(client, voters[0], middle["id"], -1)).status_code == 200
    for target in (tie_old, tie_new):
        assert (await vote(client, voters[0], target["id"], 1)).status_code == 200
        assert (await vote(client, voters[1], target["id"], 1)).status_code == 200
        assert (await vote(client, voters[2], target["id"], -1)).status_code == 200

    new = await listing(client, course.learner, course.id)
    assert [i["id"] for i in new] == [
        tie_new["id"],
        tie_old["id"],
        newest["id"],
        middle["id"],
        old_popular["id"],
    ]
    top = await listing(client, course.learner, course.id, sort="top")
    # score = upvotes - downvotes; equal scores: newest first
    assert [i["id"] for i in top] == [
        old_popular["id"],
        tie_new["id"],
        tie_old["id"],
        newest["id"],
        middle["id"],
    ]


async def test_paging_headers(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    for n in range(5):
        await post(client, course.learner, course.id, f"post {n}")
    response = await client.get(
        f"/api/courses/{course.id}/discussions",
        params={"skip": 2, "limit": 2},
        headers=course.learner.headers,
    )
    assert response.status_code == 200
    assert [i["content"] for i in response.json()] == ["post 2", "post 1"]
    assert response.headers["x-total-count"] == "5"
    assert 'rel="next"' in response.headers["link"] and 'rel="prev"' in response.headers["link"]
    # The count and the page are one statement: a page past the end still reports the total.
    beyond = await client.get(
        f"/api/courses/{course.id}/discussions", params={"skip": 50}, headers=course.learner.headers
    )
    assert beyond.status_code == 200 and beyond.json() == [] and beyond.headers["x-total-count"] == "5"


async def test_lesson_threads(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    lesson = await make_lesson(api.runtime, course.id, "lesson-one")
    general = await post(client, course.learner, course.id, "general")
    on_lesson = await post(client, course.learner, course.id, "about lesson one", lesson_id=lesson)
    reply = await post(client, course.owner, course.id, "answer", parent_id=on_lesson["id"])

    assert on_lesson["lesson_id"] == lesson
    assert reply["lesson_id"] == lesson  # a reply takes its thread's lesson
    assert [i["id"] for i in await listing(client, course.learner, course.id, lesson_id=lesson)] == [
        on_lesson["id"]
    ]
    assert {i["id"] for i in await listing(client, course.learner, course.id)} == {
        general["id"],
        on_lesson["id"],
    }
    assert await listing(client, course.learner, course.id, lesson_id="no-such-lesson") == []
    # "" means "no lesson", as a form left empty sends it
    assert (await post(client, course.learner, course.id, "blank", lesson_id=""))["lesson_id"] is None


async def test_lesson_must_belong_to_the_course(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    elsewhere = await make_course(api.runtime, course.owner)
    foreign = await make_lesson(api.runtime, elsewhere, "lesson-elsewhere")
    url = f"/api/courses/{course.id}/discussions"

    for lesson_id in ("missing-lesson", foreign):
        response = await client.post(
            url, json={"content": "x", "lesson_id": lesson_id}, headers=course.learner.headers
        )
        assert fields_named(response) == {"lesson_id"}

    thread = await post(client, course.learner, course.id, "thread")
    own = await make_lesson(api.runtime, course.id, "lesson-here")
    mismatch = await client.post(
        url,
        json={"content": "x", "parent_id": thread["id"], "lesson_id": own},
        headers=course.learner.headers,
    )
    assert fields_named(mismatch) == {"lesson_id"}


async def test_parent_must_be_a_post_of_the_same_course(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    elsewhere = await make_course(api.runtime, course.owner)
    foreign = await post(client, course.owner, elsewhere, "in another course")
    url = f"/api/courses/{course.id}/discussions"
    for parent_id in (foreign["id"], 999_999):
        response = await client.post(
            url, json={"content": "x", "parent_id": parent_id}, headers=course.learner.headers
        )
        assert fields_named(response) == {"parent_id"}


async def test_invalid_bodies_name_their_fields(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    url = f"/api/courses/{course.id}/discussions"
    cases = [
        ({}, {"content"}),
        ({"content": ""}, {"content"}),
        ({"content": "   \n\t "}, {"content"}),
        ({"content": "x" * 5001}, {"content"}),
        ({"content": 42}, {"content"}),
        ({"content": "ok", "is_private": "maybe"}, {"is_private"}),
        ({"content": "ok", "parent_id": 0}, {"parent_id"}),
        ({"content": "ok", "parent_id": "abc"}, {"parent_id"}),
        ({"content": "ok", "parent_id": 2**40}, {"parent_id"}),
        ({"content": "ok", "lesson_id": "has spaces"}, {"lesson_id"}),
        ({"content": "ok", "lesson_id": "x" * 65}, {"lesson_id"}),
        ({"content": "nul\x00byte"}, {"content"}),
    ]
    for body, fields in cases:
        response = await client.post(url, json=body, headers=course.learner.headers)
        assert fields_named(response) == fields, body
    exactly_max = await client.post(url, json={"content": "y" * 5000}, headers=course.learner.headers)
    assert exactly_max.status_code == 201
    not_json = await client.post(
        url, content=b"{not json", headers={**course.learner.headers, "Content-Type": "application/json"}
    )
    assert fields_named(not_json) == {"body"}


async def test_invalid_list_queries_name_their_fields(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    url = f"/api/courses/{course.id}/discussions"
    cases: list[tuple[dict[str, str | int], set[str]]] = [
        ({"sort": "best"}, {"sort"}),
        ({"limit": 0}, {"limit"}),
        ({"limit": 101}, {"limit"}),
        ({"skip": -1}, {"skip"}),
        ({"parent_id": "x"}, {"parent_id"}),
        ({"lesson_id": "a/b"}, {"lesson_id"}),
    ]
    for params, fields in cases:
        response = await client.get(url, params=params, headers=course.learner.headers)
        assert fields_named(response) == fields, params


async def test_unknown_course_and_thread_are_404(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    admin = await api.account("admin")
    missing = await client.get("/api/courses/999999/discussions", headers=admin.headers)
    assert missing.status_code == 404 and error_code(missing) == "course_not_found"
    no_thread = await client.get(
        f"/api/courses/{course.id}/discussions", params={"parent_id": 999999}, headers=course.learner.headers
    )
    assert no_thread.status_code == 404 and error_code(no_thread) == "comment_not_found"
    created = await client.post(
        "/api/courses/999999/discussions", json={"content": "x"}, headers=admin.headers
    )
    assert created.status_code == 404


async def test_draft_course_discussions_are_hidden_from_learners(client: httpx.AsyncClient, api: Api) -> None:
    owner = await api.account("instructor")
    draft = await make_course(api.runtime, owner, published=False)
    learner = await enrolled_learner(api, draft)
    response = await client.get(f"/api/courses/{draft}/discussions", headers=learner.headers)
    assert response.status_code == 404
    assert (await client.get(f"/api/courses/{draft}/discussions", headers=owner.headers)).status_code == 200
