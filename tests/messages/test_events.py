"""Domain events of direct messages: published once the transaction has committed, never for failed work."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.events import DomainEvent
from app.messages import store
from app.runtime import Runtime
from app.stores.models import DirectMessage
from tests.helpers import RecordingPublisher
from tests.messages.conftest import School


class CommitCheckingPublisher(RecordingPublisher):
    """Looks at the database from another session when an event arrives: what the event reports must
    already be committed there, which an event published inside the transaction would not see."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self.runtime = runtime
        self.visible: list[bool] = []

    async def publish(self, event: DomainEvent) -> None:
        async with self.runtime.db.read() as tx:
            if event.name == "message.sent":
                row = await tx.get(DirectMessage, event.data["id"])
                self.visible.append(row is not None)
            elif event.name == "message.read":
                row = await tx.get(DirectMessage, event.data["up_to_id"])
                self.visible.append(row is not None and row.read_at is not None)
        await super().publish(event)


@pytest.fixture
def events(runtime: Runtime) -> CommitCheckingPublisher:
    publisher = CommitCheckingPublisher(runtime)
    runtime.events = publisher
    return publisher


async def message_count(runtime: Runtime) -> int:
    async with runtime.db.read() as tx:
        return int((await tx.execute(select(func.count()).select_from(DirectMessage))).scalar_one())


async def test_message_sent_event_after_commit(
    client: httpx.AsyncClient, school: School, events: CommitCheckingPublisher
) -> None:
    response = await client.post(
        f"/api/chats/{school.teacher.id}", json={"content": "Question"}, headers=school.student.headers
    )
    assert response.status_code == 201
    message = response.json()
    assert events.names() == ["message.sent"]
    assert events.visible == [True]
    (event,) = events.events
    assert event.user_ids == (school.student.id, school.teacher.id)
    assert event.course_id is None
    assert event.private is True
    assert {key: event.data[key] for key in message} == message
    assert event.data["sender"] == {
        "id": school.student.id,
        "name": "Test User",
        "avatar": None,
        "role": "learner",
    }


async def test_message_read_event_goes_to_the_partner_and_the_readers_other_tabs(
    client: httpx.AsyncClient, school: School, events: CommitCheckingPublisher
) -> None:
    ids = []
    for text in ("one", "two"):
        sent = await client.post(
            f"/api/chats/{school.student.id}", json={"content": text}, headers=school.teacher.headers
        )
        ids.append(sent.json()["id"])
    events.events.clear()
    events.visible.clear()
    read = await client.put(f"/api/chats/{school.teacher.id}/read", headers=school.student.headers)
    assert read.json() == {"message": "Messages marked as read", "updated": 2, "up_to_id": ids[-1]}
    assert events.names() == ["message.read"]
    assert events.visible == [True]
    (event,) = events.events
    # The partner shows "Seen"; the reader's other tabs and devices clear their unread badges.
    assert event.user_ids == (school.teacher.id, school.student.id)
    assert event.data["reader_id"] == school.student.id
    assert event.data["partner_id"] == school.teacher.id
    assert event.data["up_to_id"] == ids[-1]
    assert event.data["count"] == 2
    assert event.data["read_at"].endswith("Z")
    # Nothing newly read, nothing to tell.
    again = await client.put(f"/api/chats/{school.teacher.id}/read", headers=school.student.headers)
    assert again.json()["updated"] == 0
    assert events.names() == ["message.read"]


@pytest.mark.parametrize(
    ("sender", "recipient", "body", "status"),
    [
        ("student", "other_teacher", {"content": "hi"}, 404),  # may not message: as if nobody
        ("blocked", "teacher", {"content": "hi"}, 403),  # user_blocked
        ("teacher", "deactivated", {"content": "hi"}, 404),
        ("student", "student", {"content": "hi"}, 400),
        ("student", "teacher", {"content": ""}, 422),
        ("student", "teacher", {"content": "x" * 2001}, 422),
    ],
)
async def test_refused_messages_publish_nothing(
    client: httpx.AsyncClient,
    runtime: Runtime,
    school: School,
    events: CommitCheckingPublisher,
    sender: str,
    recipient: str,
    body: dict[str, Any],
    status: int,
) -> None:
    response = await client.post(
        f"/api/chats/{school.by_name(recipient).id}", json=body, headers=school.by_name(sender).headers
    )
    assert response.status_code == status, response.text
    assert events.events == []
    assert await message_count(runtime) == 0


async def test_refused_read_marks_publish_nothing(
    client: httpx.AsyncClient, school: School, events: CommitCheckingPublisher
) -> None:
    for partner_id in (school.deactivated.id, school.student.id, 999_999):
        await client.put(f"/api/chats/{partner_id}/read", headers=school.student.headers)
    assert events.events == []


async def test_rolled_back_send_publishes_nothing(
    client: httpx.AsyncClient,
    runtime: Runtime,
    school: School,
    events: CommitCheckingPublisher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A failure after the row was written inside the transaction rolls it back, and no event leaks out."""
    real_add = store.add

    async def add_then_fail(*args: Any, **kwargs: Any) -> DirectMessage:
        await real_add(*args, **kwargs)
        raise RuntimeError("failure after the insert, inside the transaction")

    monkeypatch.setattr(store, "add", add_then_fail)
    response = await client.post(
        f"/api/chats/{school.teacher.id}", json={"content": "lost"}, headers=school.student.headers
    )
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert events.events == []
    assert await message_count(runtime) == 0
