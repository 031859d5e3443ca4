"""Every Redis name of the telemetry pipeline, in one place.

Per-user keys are built by these functions only, so a layout for Redis Cluster (a hash tag per user,
`{u<id>}`, with the stream split by user) changes here and nowhere else.
"""

from __future__ import annotations

STREAM = "lf:telemetry"
GROUP = "telemetry-workers"


def budget(user_id: int) -> str:
    """The instant up to which the user's time is already credited (ms)."""
    return f"lf:hb:budget:{user_id}"


def last_seq(user_id: int, course_id: int) -> str:
    return f"lf:hb:seq:{user_id}:{course_id}"


def idempotency(user_id: int, key: str) -> str:
    return f"lf:hb:idem:{user_id}:{key}"
