"""The live activity an accepted heartbeat leaves in Redis, written by the script that notes a batch's
accepted heartbeats right after accepting them (app/telemetry/stream.py): the learner's session entry in
the course (`lf:{act}:{course}`, a hash {user_id: "session started ms|session seconds|last seen ms|lesson"};
a session restarts after `activity_idle_seconds` without heartbeats), the session
starts (`lf:{act}:joins:{course}`), the course marked changed (`lf:{act}:dirty`) and noted by last
heartbeat (`lf:{act}:courses`), the pair "course:user" in the recently active (`lf:{act}:recent`, the last
`recent_window_seconds`) and the heartbeat rate per second. The live views read and sweep it
(app/live/store.py), with the same timings.

The `{act}` hash tag keeps every key of those scripts in one Redis Cluster slot."""

from __future__ import annotations

import time
from dataclasses import dataclass

ACTIVITY = "lf:{{act}}:{}"
JOINS = "lf:{{act}}:joins:{}"
DIRTY = "lf:{act}:dirty"
COURSES = "lf:{act}:courses"
RECENT = "lf:{act}:recent"
RATE = "lf:{{act}}:rate:{}:{}"


@dataclass
class ActivityTuning:
    """Timings of the activity, shared by the writer and the live views. Module-level (`TUNING`) so tests
    can shorten them."""

    activity_idle_seconds: float = 60.0  # no heartbeat for this long: the session ends (a leave)
    recent_window_seconds: float = 300.0  # "learners active in the last 5 minutes"


TUNING = ActivityTuning()


def rate_key(kind: str, second: int) -> str:
    """The counter of `kind` ("hb": heartbeats, "msg": messages) in one second."""
    return RATE.format(kind, second)


@dataclass(frozen=True)
class ActivityKeys:
    """The keys an accepted heartbeat updates, with the timings its script needs."""

    dirty: str
    courses: str
    recent: str
    rate: str
    idle_ms: int
    recent_ms: int

    @staticmethod
    def activity(course_id: int) -> str:
        return ACTIVITY.format(course_id)

    @staticmethod
    def joins(course_id: int) -> str:
        return JOINS.format(course_id)


def activity_keys() -> ActivityKeys:
    return ActivityKeys(
        dirty=DIRTY,
        courses=COURSES,
        recent=RECENT,
        rate=rate_key("hb", int(time.time())),
        idle_ms=int(TUNING.activity_idle_seconds * 1000),
        recent_ms=int(TUNING.recent_window_seconds * 1000),
    )
