"""Every hub channel's name, and who hears each domain event: the one place to read to find where
something is broadcast (the table of channels: docs/PRODUCT.md, "Channels").

Pure functions of ids and events, so every layer may use them: the services that shape private
events, the app's authorizer, the event publisher and the workers that push the live views.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal, get_args

from app.events import DomainEvent

ADMIN_ANALYTICS = "admin:analytics"

CourseChannelKind = Literal["discussion", "leaderboard", "activity"]
COURSE_CHANNEL_KINDS: tuple[CourseChannelKind, ...] = get_args(CourseChannelKind)

_USER = re.compile(r"^user:(\d{1,12})$")
_COURSE = re.compile(r"^course:(\d{1,12}):(" + "|".join(COURSE_CHANNEL_KINDS) + ")$")


def user(user_id: int) -> str:
    return f"user:{user_id}"


def course(course_id: int, kind: CourseChannelKind) -> str:
    return f"course:{course_id}:{kind}"


def discussion(course_id: int) -> str:
    return course(course_id, "discussion")


def leaderboard(course_id: int) -> str:
    return course(course_id, "leaderboard")


def activity(course_id: int) -> str:
    return course(course_id, "activity")


def of_course(course_id: int) -> str:
    """The prefix shared by every channel of one course."""
    return f"course:{course_id}:"


@dataclass(frozen=True)
class UserChannel:
    user_id: int


@dataclass(frozen=True)
class CourseChannel:
    course_id: int
    kind: CourseChannelKind


@dataclass(frozen=True)
class AdminChannel:
    name: str


Channel = UserChannel | CourseChannel | AdminChannel


def parse(name: str) -> Channel | None:
    """What a channel name a client sent refers to, or None for a name that is no channel of ours."""
    if name == ADMIN_ANALYTICS:
        return AdminChannel(name)
    if match := _USER.match(name):
        return UserChannel(int(match.group(1)))
    if match := _COURSE.match(name):
        kind: CourseChannelKind = match.group(2)  # type: ignore[assignment]  # the pattern allows only these
        return CourseChannel(int(match.group(1)), kind)
    return None


def has_presence(name: str) -> bool:
    """Presence is kept for course channels only: who is in a user's own channel is no news."""
    return name.startswith("course:")


# --- audiences ---------------------------------------------------------------------------------------------

# Events that change who may subscribe to what: the users concerned are re-authorized everywhere first.
RECHECK = frozenset(
    {
        "enrollment.deleted",
        "user.role_changed",
        "user.blocked",
        "user.unblocked",
        "user.deactivated",
        "session.revoked",
    }
)
# Events for the users they concern, on their own channels.
TO_USERS = frozenset(
    {
        "message.sent",
        "message.read",
        "course.completed",
        "course.reopened",
        "progress.updated",
        "user.role_changed",
        "user.blocked",
        "user.unblocked",
    }
)
DISCUSSION = frozenset({"comment.created", "comment.edited", "comment.deleted", "vote.changed"})
# Events after which every subscription to the course's channels is checked again.
COURSE_RECHECK = frozenset({"course.deleted", "course.access_narrowed"})


def private_post_audience(
    *, author_id: int, starter_id: int, owner_id: int, admin_ids: Iterable[int] = ()
) -> tuple[int, ...]:
    """Who may read a private post, and so hears of it: its author, the thread's starter, the course's
    owner and every admin (added by `with_admins` once they are read). Nobody else, so such events
    never go to the course channel."""
    return tuple(sorted({author_id, starter_id, owner_id, *admin_ids}))


def conversation_audience(first_id: int, second_id: int) -> tuple[int, ...]:
    """Who hears of a direct message or its being read: the two people in the conversation, on their own
    `user:<id>` channels, never anyone else."""
    return tuple(sorted({first_id, second_id}))


def is_discussion(name: str) -> bool:
    """Whether a channel name is a course's discussion (where `typing` may be sent)."""
    parsed = parse(name)
    return isinstance(parsed, CourseChannel) and parsed.kind == "discussion"


def with_admins(event: DomainEvent, admin_ids: Iterable[int]) -> DomainEvent:
    """A private event's audience with the admins, who may read every private post."""
    return replace(event, audience=tuple(sorted({*event.audience, *admin_ids})))


def channels_for(event: DomainEvent) -> list[str]:
    """The channels an event is published on, in publishing order."""
    names: list[str] = []
    if event.name in DISCUSSION and event.course_id is not None:
        if event.private:
            names += [user(user_id) for user_id in sorted(set(event.audience))]
        else:
            names.append(discussion(event.course_id))
    if event.name in TO_USERS:
        names += [user(user_id) for user_id in sorted(set(event.user_ids))]
    return names
