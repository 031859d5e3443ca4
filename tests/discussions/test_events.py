"""Domain events: published after the change commits, with the course, privacy flag and audience a router
needs; never published when the operation fails."""

from __future__ import annotations

import httpx
import pytest

from app.events import DomainEvent
from app.runtime import Runtime
from tests.discussions.helpers import course_with_learner, enrolled_learner, make_course, post, vote
from tests.helpers import Api, RecordingPublisher


@pytest.fixture
def events(runtime: Runtime) -> RecordingPublisher:
    recorder = RecordingPublisher()
    runtime.events = recorder
    return recorder


class CommitCheckingPublisher(RecordingPublisher):
    """Records each event with whether its change was already visible to another connection."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self.runtime = runtime
        self.committed: list[bool] = []

    async def publish(self, event: DomainEvent) -> None:
        from app.discussions import store

        comment_id = event.data["id"]
        async with self.runtime.db.read() as tx:
            row = await store.get(tx, comment_id)
        if event.name == "comment.deleted":
            self.committed.append(row is None)
        elif event.name == "vote.changed":
            self.committed.append(row is not None and row.upvotes == event.data["upvotes"])
        elif event.name == "comment.edited":
            self.committed.append(row is not None and row.content == event.data["content"])
        else:
            self.committed.append(row is not None)
        await super().publish(event)


async def test_events_follow_the_commit(client: httpx.AsyncClient, api: Api, runtime: Runtime) -> None:
    publisher = CommitCheckingPublisher(runtime)
    runtime.events = publisher
    course = await course_with_learner(api)
    voter = await enrolled_learner(api, course.id)

    created = await post(client, course.learner, course.id, "hello")
    cid = created["id"]
    assert (await vote(client, voter, cid, 1)).status_code == 200
    assert (
        await client.put(f"/api/discussions/{cid}", json={"content": "hi"}, headers=course.learner.headers)
    ).status_code == 200
    assert (await client.delete(f"/api/discussions/{cid}", headers=course.learner.headers)).status_code == 200

    assert publisher.names() == ["comment.created", "vote.changed", "comment.edited", "comment.deleted"]
    assert publisher.committed == [True, True, True, True]


async def test_public_event_payloads(client: httpx.AsyncClient, api: Api, events: RecordingPublisher) -> None:
    course = await course_with_learner(api)
    voter = await enrolled_learner(api, course.id)
    thread = await post(client, course.learner, course.id, "thread")
    reply = await post(client, voter, course.id, "reply", parent_id=thread["id"])
    await vote(client, voter, thread["id"], -1)

    created, replied, voted = events.events
    assert created.name == "comment.created" and created.course_id == course.id
    assert created.private is False and created.audience == () and created.user_ids == (course.learner.id,)
    assert created.data["content"] == "thread" and created.data["author"]["id"] == course.learner.id
    assert created.data["id"] == thread["id"]
    assert replied.data["parent_id"] == thread["id"] and replied.user_ids == (course.learner.id,)
    assert replied.data["id"] == reply["id"]
    assert voted.name == "vote.changed" and voted.data["id"] == thread["id"]
    assert voted.data["upvotes"] == 0 and "downvotes" not in voted.data  # learners may receive it
    assert voted.user_ids == (course.learner.id,)


async def test_private_events_name_their_audience_admins_included(
    client: httpx.AsyncClient, api: Api, events: RecordingPublisher
) -> None:
    course = await course_with_learner(api)
    admin = await api.account("admin")
    question = await post(client, course.learner, course.id, "private q", is_private=True)
    response = await client.post(
        f"/api/discussions/{question['id']}/reply", json={"content": "a"}, headers=admin.headers
    )
    assert response.status_code == 201
    await client.delete(f"/api/discussions/{question['id']}", headers=course.owner.headers)

    asked, answered, deleted = events.events
    # Admins may read every private post, so every private event reaches them live too.
    audience = tuple(sorted({course.learner.id, course.owner.id, admin.id}))
    assert asked.private is True and asked.audience == audience
    assert answered.name == "comment.created" and answered.private is True
    assert answered.user_ids == (course.learner.id,)  # concerns the post's author
    assert answered.audience == tuple(sorted({course.learner.id, course.owner.id, admin.id}))
    assert answered.data["author"]["id"] == admin.id and answered.data["parent_id"] == question["id"]
    assert deleted.name == "comment.deleted" and deleted.private is True and deleted.audience == audience
    assert deleted.data["replies_deleted"] == 1 and "content" not in deleted.data


async def test_failed_operations_publish_nothing(
    client: httpx.AsyncClient, api: Api, events: RecordingPublisher
) -> None:
    course = await course_with_learner(api)
    other = await enrolled_learner(api, course.id)
    outsider = await api.account("learner")
    blocked = await enrolled_learner(api, course.id, blocked=True)
    elsewhere = await make_course(api.runtime, course.owner)
    target = await post(client, course.learner, course.id, "target")
    events.events.clear()
    url = f"/api/courses/{course.id}/discussions"
    tid = target["id"]

    failures = [
        await client.post(url, json={"content": ""}, headers=course.learner.headers),
        await client.post(url, json={"content": "x"}, headers=outsider.headers),
        await client.post(url, json={"content": "x"}, headers=blocked.headers),
        await client.post(url, json={"content": "x", "lesson_id": "nope"}, headers=course.learner.headers),
        await client.post(url, json={"content": "x", "parent_id": 999999}, headers=course.learner.headers),
        await client.post(
            f"/api/courses/{elsewhere}/discussions", json={"content": "x"}, headers=other.headers
        ),
        await client.put(f"/api/discussions/{tid}", json={"content": "x"}, headers=other.headers),
        await client.delete(f"/api/discussions/{tid}", headers=other.headers),
        await vote(client, course.learner, tid, 1),
        await vote(client, blocked, tid, 1),
        await vote(client, other, 999999, 1),
        await client.post(f"/api/discussions/{tid}/reply", json={"content": "x"}, headers=other.headers),
    ]
    assert all(400 <= r.status_code < 500 for r in failures), [r.text for r in failures]
    assert events.events == []


async def test_a_failing_publisher_does_not_fail_the_committed_request(
    client: httpx.AsyncClient, api: Api, runtime: Runtime
) -> None:
    class Broken(RecordingPublisher):
        async def publish(self, event: DomainEvent) -> None:
            raise RuntimeError("bus down")

    runtime.events = Broken()
    course = await course_with_learner(api)
    created = await post(client, course.learner, course.id, "still saved")
    assert created["content"] == "still saved"
