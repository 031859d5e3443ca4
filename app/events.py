"""Domain events: every service publishes what happened, after its transaction commits, through one
small interface. A process with a hub routes them to channels (`app/live/publisher.py`); one without
(the CLI's one-off commands: `create-admin`, `seed-demo`) only logs them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger("learnflow.events")


@dataclass(frozen=True)
class DomainEvent:
    """`name` is `<domain>.<what happened>`, e.g. `course.published`, `comment.created`.

    `course_id` names the course the event belongs to (if any) and `user_ids` the users it concerns
    directly (a message's sender and recipient, the learner who completed a course), so a router can
    pick channels without knowing each event's payload.
    """

    name: str
    data: dict[str, Any]
    course_id: int | None = None
    user_ids: tuple[int, ...] = ()
    private: bool = False
    audience: tuple[int, ...] = ()


class EventPublisher(Protocol):
    async def publish(self, event: DomainEvent) -> None:
        """Called only after the transaction that made the change has committed."""


class LoggingPublisher:
    async def publish(self, event: DomainEvent) -> None:
        log.debug(
            "domain event",
            extra={"event": event.name, "course_id": event.course_id, "user_ids": list(event.user_ids)},
        )
