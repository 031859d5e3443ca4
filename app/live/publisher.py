"""Routes domain events to hub channels (docs/PRODUCT.md, "Channels"). Called only after commit."""

from __future__ import annotations

import logging

from app import channels
from app.events import DomainEvent
from app.live import store as live
from realtime.hub import Hub
from realtime.redis_client import RedisClient

log = logging.getLogger(__name__)

# Events after which a course's ranking may differ: its live leaderboard is marked for a (coalesced) push.
_LEADERBOARD = {
    "progress.updated",
    "course.completed",
    "course.reopened",
    "enrollment.created",
    "enrollment.deleted",
}


class HubEventPublisher:
    def __init__(self, hub: Hub, redis: RedisClient) -> None:
        self.hub = hub
        self.redis = redis

    async def publish(self, event: DomainEvent) -> None:
        try:
            await self._route(event)
        except Exception:  # noqa: BLE001 - the change is committed; a lost notice is recovered by refetch
            log.exception("could not publish a domain event", extra={"event": event.name})
        try:
            await self._note(event)
        except Exception:  # noqa: BLE001 - live views are best effort; the REST views stay exact
            log.warning("could not update live views", exc_info=True, extra={"event": event.name})

    async def _note(self, event: DomainEvent) -> None:
        """Feed the live views the workers push (leaderboards, admin analytics)."""
        if event.name in _LEADERBOARD and event.course_id is not None:
            await live.mark_leaderboards(self.redis, [event.course_id])
        elif event.name == "course.deleted" and event.course_id is not None:
            await live.forget_leaderboard(self.redis, event.course_id)
        elif event.name == "message.sent":
            await live.count_message(self.redis)

    async def _route(self, event: DomainEvent) -> None:
        # Re-authorize first: every instance handles bus messages in order, so by the time the user sees
        # e.g. `user.role_changed`, their connections already act on the new role.
        if event.name in channels.RECHECK:
            for user_id in sorted(set(event.user_ids)):
                await self.hub.recheck_user(str(user_id))
        for channel in channels.channels_for(event):
            await self.hub.publish(channel, event.name, event.data)
        if event.name in channels.COURSE_RECHECK and event.course_id is not None:
            await self.hub.recheck_channels(channels.of_course(event.course_id))
