"""Editing (the author within the edit window; the owner and admins any time) and deleting (audited;
replies go with their thread)."""

from __future__ import annotations

import asyncio
from datetime import datetime

import httpx
from sqlalchemy import func, select

from app.stores.models import Comment
from tests.discussions.helpers import (
    age_post,
    audit_rows,
    comment_row,
    course_with_learner,
    enrolled_learner,
    error_code,
    fields_named,
    listing,
    post,
)
from tests.helpers import Api


async def edit(
    client: httpx.AsyncClient, headers: dict[str, str], comment_id: int, content: str
) -> httpx.Response:
    return await client.put(f"/api/discussions/{comment_id}", json={"content": content}, headers=headers)


async def test_author_edits_within_the_window(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    created = await post(client, course.learner, course.id, "typo")
    response = await edit(client, course.learner.headers, created["id"], "  fixed  ")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["content"] == "fixed" and body["id"] == created["id"]
    assert body["created_at"] == created["created_at"]
    assert datetime.fromisoformat(body["updated_at"]) > datetime.fromisoformat(created["updated_at"])
    assert (await listing(client, course.learner, course.id))[0]["content"] == "fixed"


async def test_window_closed_for_the_author_but_not_for_staff(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    admin = await api.account("admin")
    created = await post(client, course.learner, course.id, "old words")
    window = api.runtime.settings.discussion_edit_window_seconds
    await age_post(api.runtime, created["id"], window + 1)

    late = await edit(client, course.learner.headers, created["id"], "too late")
    assert late.status_code == 403 and error_code(late) == "edit_window_closed"
    assert late.json()["error"]["details"] == {"edit_window_seconds": window}
    for staff in (course.owner, admin):
        assert (await edit(client, staff.headers, created["id"], "moderated")).status_code == 200
    row = await comment_row(api.runtime, created["id"])
    assert row is not None and row.content == "moderated"


async def test_window_is_open_just_before_it_closes(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    created = await post(client, course.learner, course.id, "words")
    await age_post(api.runtime, created["id"], api.runtime.settings.discussion_edit_window_seconds - 30)
    assert (await edit(client, course.learner.headers, created["id"], "still ok")).status_code == 200


async def test_others_cannot_edit(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    other = await enrolled_learner(api, course.id)
    created = await post(client, course.learner, course.id, "mine")
    response = await edit(client, other.headers, created["id"], "hijacked")
    assert response.status_code == 403 and error_code(response) == "not_author"


async def test_blocked_authors_cannot_edit_or_delete(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    created = await post(client, course.learner, course.id, "before the block")
    await api.set_user(course.learner.id, is_blocked=True)
    response = await edit(client, course.learner.headers, created["id"], "after")
    assert response.status_code == 403 and error_code(response) == "user_blocked"
    gone = await client.delete(f"/api/discussions/{created['id']}", headers=course.learner.headers)
    assert gone.status_code == 403 and error_code(gone) == "user_blocked"
    posting = await client.post(
        f"/api/courses/{course.id}/discussions", json={"content": "x"}, headers=course.learner.headers
    )
    assert posting.status_code == 403 and error_code(posting) == "user_blocked"
    # Reading stays open.
    assert len(await listing(client, course.learner, course.id)) == 1


async def test_invalid_edits(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    created = await post(client, course.learner, course.id, "x")
    url = f"/api/discussions/{created['id']}"
    cases = [
        ({}, {"content"}),
        ({"content": ""}, {"content"}),
        ({"content": "x" * 5001}, {"content"}),
    ]
    for body, fields in cases:
        assert fields_named(await client.put(url, json=body, headers=course.learner.headers)) == fields, body
    # The original API's edit body (content and is_private) is accepted; an edit never changes who may
    # see the post.
    edited = await client.put(url, json={"content": "ok", "is_private": True}, headers=course.learner.headers)
    assert edited.status_code == 200, edited.text
    assert (edited.json()["content"], edited.json()["is_private"]) == ("ok", False)
    missing = await edit(client, course.learner.headers, 999999, "x")
    assert missing.status_code == 404


async def test_delete_cascades_and_is_audited(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    thread = await post(client, course.learner, course.id, "thread to remove", lesson_id=None)
    await post(client, course.owner, course.id, "reply 1", parent_id=thread["id"])
    await post(client, course.learner, course.id, "reply 2", parent_id=thread["id"])
    keep = await post(client, course.learner, course.id, "keep me")

    response = await client.delete(
        f"/api/discussions/{thread['id']}", headers={**course.owner.headers, "User-Agent": "moderation-tool"}
    )
    assert response.status_code == 200 and response.json() == {"message": "Comment deleted successfully"}
    async with api.runtime.db.read() as tx:
        remaining = (await tx.execute(select(Comment.id))).scalars().all()
        assert list(remaining) == [keep["id"]]
        assert (await tx.execute(select(func.count()).select_from(Comment))).scalar() == 1

    (entry,) = await audit_rows(api.runtime, "comment_deleted")
    assert entry.user_id == course.owner.id
    assert entry.resource_type == "comment" and entry.resource_id == str(thread["id"])
    assert entry.user_agent == "moderation-tool" and entry.ip_address == "127.0.0.1"
    assert entry.details == {
        "course_id": course.id,
        "author_id": course.learner.id,
        "parent_id": None,
        "lesson_id": None,
        "is_private": False,
        "replies_deleted": 2,
        "by": "moderator",
        "content_excerpt": "thread to remove",
    }
    again = await client.delete(f"/api/discussions/{thread['id']}", headers=course.owner.headers)
    assert again.status_code == 404


async def test_author_deletes_a_reply(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    thread = await post(client, course.owner, course.id, "thread")
    reply = await post(client, course.learner, course.id, "reply", parent_id=thread["id"])
    response = await client.delete(f"/api/discussions/{reply['id']}", headers=course.learner.headers)
    assert response.status_code == 200
    assert (await listing(client, course.learner, course.id))[0]["reply_count"] == 0
    (entry,) = await audit_rows(api.runtime, "comment_deleted")
    assert entry.details["by"] == "author" and entry.details["parent_id"] == thread["id"]


async def test_others_cannot_delete(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    other = await enrolled_learner(api, course.id)
    created = await post(client, course.learner, course.id, "mine")
    response = await client.delete(f"/api/discussions/{created['id']}", headers=other.headers)
    assert response.status_code == 403 and error_code(response) == "not_author"
    assert await comment_row(api.runtime, created["id"]) is not None
    assert await audit_rows(api.runtime, "comment_deleted") == []


async def test_replies_racing_the_thread_deletion_never_fail(client: httpx.AsyncClient, api: Api) -> None:
    """Replies (also to a reply) and votes sent while the thread is being deleted either land before the
    deletion (and go with it) or find the thread gone: never a 500, never an orphan."""
    course = await course_with_learner(api)
    others = [await enrolled_learner(api, course.id) for _ in range(3)]
    for _round in range(3):
        thread = await post(client, course.learner, course.id, "thread")
        reply = await post(client, others[0], course.id, "reply", parent_id=thread["id"])
        url = f"/api/courses/{course.id}/discussions"
        requests = [
            client.post(url, json={"content": "r", "parent_id": thread["id"]}, headers=others[1].headers),
            client.post(url, json={"content": "r", "parent_id": reply["id"]}, headers=others[2].headers),
            client.post(
                f"/api/discussions/{reply['id']}/reply", json={"content": "p"}, headers=course.owner.headers
            ),
            client.post(
                f"/api/discussions/{reply['id']}/vote", json={"vote_type": 1}, headers=others[1].headers
            ),
            client.delete(f"/api/discussions/{thread['id']}", headers=course.owner.headers),
        ]
        responses = await asyncio.gather(*requests)
        assert responses[-1].status_code == 200
        statuses = [r.status_code for r in responses]
        assert set(statuses) <= {200, 201, 404, 422}, [r.text for r in responses]
    async with api.runtime.db.read() as tx:
        assert (await tx.execute(select(func.count()).select_from(Comment))).scalar() == 0
