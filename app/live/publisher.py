"""Routes domain events to hub channels (SPEC §4 channel table). Called only after commit."""

from __future__ import annotations

import logging

from app.events import DomainEvent
from realtime.hub import Hub

log = logging.getLogger(__name__)

# Events that change who may subscribe to what: the users concerned are re-authorized everywhere.
_RECHECK = {"enrollment.deleted", "user.role_changed", "user.blocked", "user.unblocked", "user.deactivated"}
_TO_USERS = {
    "message.sent",
    "message.read",
    "course.completed",
    "course.reopened",
    "progress.updated",
    "user.role_changed",
    "user.blocked",
    "user.unblocked",
    "discussion.reply",
}
_DISCUSSION = {"comment.created", "comment.edited", "comment.deleted", "vote.changed"}


class HubEventPublisher:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def publish(self, event: DomainEvent) -> None:
        try:
            await self._route(event)
        except Exception:  # noqa: BLE001 - the change is committed; a lost notice is recovered by refetch
            log.exception("could not publish a domain event", extra={"event": event.name})

    async def _route(self, event: DomainEvent) -> None:
        # Re-authorize first: every instance handles bus messages in order, so by the time the user sees
        # e.g. `user.role_changed`, their connections already act on the new role.
        if event.name in _RECHECK:
            for user_id in sorted(set(event.user_ids)):
                await self.hub.recheck_user(str(user_id))
        if event.name in _DISCUSSION and event.course_id is not None:
            if event.private:
                for user_id in sorted(set(event.audience)):
                    await self.hub.publish(f"user:{user_id}", event.name, event.data)
            else:
                await self.hub.publish(f"course:{event.course_id}:discussion", event.name, event.data)
        if event.name in _TO_USERS:
            for user_id in sorted(set(event.user_ids)):
                await self.hub.publish(f"user:{user_id}", event.name, event.data)
        if event.name == "course.deleted" and event.course_id is not None:
            await self.hub.recheck_channels(f"course:{event.course_id}:")
