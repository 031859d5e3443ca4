"""Private posts: seen only by their author, the thread's starter, the course owner and admins; for
anyone else they do not exist (not in lists, not in counts, 404 for every action)."""

from __future__ import annotations

import httpx

from tests.discussions.helpers import (
    course_with_learner,
    enrolled_learner,
    error_code,
    fields_named,
    listing,
    make_course,
    post,
    vote,
)
from tests.helpers import Api


async def test_a_private_post_is_hidden_from_other_learners(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    other = await enrolled_learner(api, course.id)
    admin = await api.account("admin")
    public = await post(client, course.learner, course.id, "public")
    private = await post(client, course.learner, course.id, "my grade is wrong", is_private=True)
    assert private["is_private"] is True

    for viewer in (course.learner, course.owner, admin):
        assert {i["id"] for i in await listing(client, viewer, course.id)} == {public["id"], private["id"]}

    response = await client.get(f"/api/courses/{course.id}/discussions", headers=other.headers)
    assert [i["id"] for i in response.json()] == [public["id"]]
    assert response.headers["x-total-count"] == "1"

    pid = private["id"]
    attempts = [
        await vote(client, other, pid, 1),
        await client.put(f"/api/discussions/{pid}", json={"content": "x"}, headers=other.headers),
        await client.delete(f"/api/discussions/{pid}", headers=other.headers),
        await client.get(
            f"/api/courses/{course.id}/discussions", params={"parent_id": pid}, headers=other.headers
        ),
    ]
    for response in attempts:
        assert response.status_code == 404, response.text
        assert error_code(response) == "comment_not_found"
    replying = await client.post(
        f"/api/courses/{course.id}/discussions",
        json={"content": "x", "parent_id": pid},
        headers=other.headers,
    )
    assert fields_named(replying) == {"parent_id"}  # the same answer as for a post that does not exist


async def test_replies_in_a_private_thread_are_private(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    other = await enrolled_learner(api, course.id)
    question = await post(client, course.learner, course.id, "private question", is_private=True)
    answer = await post(client, course.owner, course.id, "answer", parent_id=question["id"])
    follow_up = await post(
        client, course.learner, course.id, "thanks", parent_id=question["id"], is_private=False
    )

    assert answer["is_private"] is True and follow_up["is_private"] is True
    replies = await listing(client, course.learner, course.id, parent_id=question["id"])
    assert {r["id"] for r in replies} == {answer["id"], follow_up["id"]}
    assert (await listing(client, course.learner, course.id))[0]["reply_count"] == 2
    for reply in (answer, follow_up):
        assert (await vote(client, other, reply["id"], 1)).status_code == 404


async def test_private_replies_in_a_public_thread(client: httpx.AsyncClient, api: Api) -> None:
    """A private reply in a public thread goes to the thread's starter and the staff, not to bystanders."""
    course = await course_with_learner(api)
    replier = await enrolled_learner(api, course.id)
    bystander = await enrolled_learner(api, course.id)
    thread = await post(client, course.learner, course.id, "public question")
    public_reply = await post(client, bystander, course.id, "public answer", parent_id=thread["id"])
    private_reply = await post(
        client, replier, course.id, "just for you", parent_id=thread["id"], is_private=True
    )

    both = {public_reply["id"], private_reply["id"]}
    for viewer in (course.learner, replier, course.owner):
        replies = await listing(client, viewer, course.id, parent_id=thread["id"])
        assert {r["id"] for r in replies} == both
        assert (await listing(client, viewer, course.id))[0]["reply_count"] == 2

    replies = await listing(client, bystander, course.id, parent_id=thread["id"])
    assert [r["id"] for r in replies] == [public_reply["id"]]
    assert (await listing(client, bystander, course.id))[0]["reply_count"] == 1  # counts do not leak it
    assert (await vote(client, bystander, private_reply["id"], 1)).status_code == 404


async def test_owner_private_reply(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    other = await enrolled_learner(api, course.id)
    question = await post(client, course.learner, course.id, "why did I fail?", is_private=True)

    response = await client.post(
        f"/api/discussions/{question['id']}/reply",
        json={"content": "Let's talk."},
        headers=course.owner.headers,
    )
    assert response.status_code == 201, response.text
    reply = response.json()
    assert reply["is_private"] is True and reply["parent_id"] == question["id"]
    assert reply["author"]["id"] == course.owner.id and reply["downvotes"] == 0

    seen = await listing(client, course.learner, course.id, parent_id=question["id"])
    assert [r["id"] for r in seen] == [reply["id"]]
    assert await listing(client, other, course.id) == []

    # Replying privately to a reply answers in the same thread.
    again = await client.post(
        f"/api/discussions/{reply['id']}/reply", json={"content": "Also..."}, headers=course.owner.headers
    )
    assert again.status_code == 201 and again.json()["parent_id"] == question["id"]


async def test_owner_private_reply_to_a_public_post(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    bystander = await enrolled_learner(api, course.id)
    admin = await api.account("admin")
    thread = await post(client, course.learner, course.id, "public")
    response = await client.post(
        f"/api/discussions/{thread['id']}/reply", json={"content": "psst"}, headers=admin.headers
    )
    assert response.status_code == 201
    reply_id = response.json()["id"]
    assert [r["id"] for r in await listing(client, course.learner, course.id, parent_id=thread["id"])] == [
        reply_id
    ]
    assert await listing(client, bystander, course.id, parent_id=thread["id"]) == []


async def test_private_reply_validation(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    question = await post(client, course.learner, course.id, "q", is_private=True)
    url = f"/api/discussions/{question['id']}/reply"
    for body, fields in (
        ({}, {"content"}),
        ({"content": " "}, {"content"}),
    ):
        assert fields_named(await client.post(url, json=body, headers=course.owner.headers)) == fields
    missing = await client.post(
        "/api/discussions/999999/reply", json={"content": "a"}, headers=course.owner.headers
    )
    assert missing.status_code == 404


async def test_my_messages(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    second_course = await make_course(api.runtime, course.owner)
    other = await enrolled_learner(api, course.id)
    await post(client, course.learner, course.id, "a public post")
    mine = await post(client, course.learner, course.id, "private one", is_private=True)
    answer = (
        await client.post(
            f"/api/discussions/{mine['id']}/reply", json={"content": "answer"}, headers=course.owner.headers
        )
    ).json()
    public_thread = await post(client, course.learner, course.id, "public thread")
    whisper = await post(client, other, course.id, "whisper", parent_id=public_thread["id"], is_private=True)
    others_private = await post(client, other, course.id, "not mine", is_private=True)
    await post(client, course.owner, second_course, "unrelated staff post")

    response = await client.get("/api/my-messages", headers=course.learner.headers)
    assert response.status_code == 200
    items = response.json()
    assert [i["id"] for i in items] == [whisper["id"], answer["id"], mine["id"]]  # newest first
    assert response.headers["x-total-count"] == "3"
    assert items[2]["reply_count"] == 1 and items[2]["course_title"].startswith("Course ")
    assert all(i["downvotes"] is None for i in items)

    other_items = (await client.get("/api/my-messages", headers=other.headers)).json()
    assert [i["id"] for i in other_items] == [others_private["id"], whisper["id"]]

    # The owner's own private answer is in their messages, with the downvotes they may see.
    owner_items = (await client.get("/api/my-messages", headers=course.owner.headers)).json()
    assert [i["id"] for i in owner_items] == [answer["id"]] and owner_items[0]["downvotes"] == 0

    paged = await client.get(
        "/api/my-messages", params={"limit": 1, "skip": 1}, headers=course.learner.headers
    )
    assert [i["id"] for i in paged.json()] == [answer["id"]]
    bad = await client.get("/api/my-messages", params={"limit": 500}, headers=course.learner.headers)
    assert fields_named(bad) == {"limit"}


async def test_staff_messages(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    other_owner = await api.account("instructor")
    other_course = await make_course(api.runtime, other_owner)
    other_learner = await enrolled_learner(api, other_course)
    admin = await api.account("admin")
    await post(client, course.learner, course.id, "public")
    mine = await post(client, course.learner, course.id, "help", is_private=True)
    await post(client, course.owner, course.id, "reply", parent_id=mine["id"])
    theirs = await post(client, other_learner, other_course, "help too", is_private=True)

    async def ids(account_headers: dict[str, str], **params: int) -> list[int]:
        response = await client.get("/api/admin/messages", params=params, headers=account_headers)
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()]

    owner_view = (await client.get("/api/admin/messages", headers=course.owner.headers)).json()
    assert [i["id"] for i in owner_view] == [mine["id"]]
    assert owner_view[0]["reply_count"] == 1 and owner_view[0]["downvotes"] == 0
    assert await ids(other_owner.headers) == [theirs["id"]]
    assert await ids(admin.headers) == [theirs["id"], mine["id"]]
    assert await ids(admin.headers, course_id=course.id) == [mine["id"]]
    assert await ids(course.owner.headers, course_id=course.id) == [mine["id"]]

    not_theirs = await client.get(
        "/api/admin/messages", params={"course_id": course.id}, headers=other_owner.headers
    )
    assert not_theirs.status_code == 403 and error_code(not_theirs) == "not_course_owner"
    unknown = await client.get("/api/admin/messages", params={"course_id": 999999}, headers=admin.headers)
    assert unknown.status_code == 404
    bad = await client.get("/api/admin/messages", params={"course_id": "x"}, headers=admin.headers)
    assert fields_named(bad) == {"course_id"}
    learner = await client.get("/api/admin/messages", headers=course.learner.headers)
    assert learner.status_code == 403 and error_code(learner) == "insufficient_role"
