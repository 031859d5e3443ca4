"""Group commit of heartbeats (app/tick_batch.py): those submitted in the same event-loop tick, from any
connection (WS or REST), are accepted by one script call; each caller's await returns when it does.

Admission is bounded: past `max_in_flight` heartbeats waiting or being accepted, `admit` refuses at
once, before any store work, so an overloaded api spends next to nothing on the heartbeats it sheds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from app.errors import ServiceUnavailable
from app.tick_batch import TickBatcher


@dataclass(frozen=True)
class Pending:
    user_id: int
    course_id: int
    lesson_id: str
    seconds: int
    seq: int | None
    enrollment_id: int
    idempotency_key: str


@dataclass(frozen=True)
class Acceptance:
    duplicate: bool
    credited_seconds: int
    entry_id: str | None


Flush = Callable[[Sequence[Pending]], Awaitable[list[Acceptance]]]


class Overloaded(ServiceUnavailable):
    """More heartbeats are waiting to be accepted than this api takes; try again in a second."""

    code = "overloaded"
    MESSAGE = "Too many heartbeats are being accepted right now; send this one again shortly."

    def __init__(self) -> None:
        super().__init__(self.MESSAGE, headers={"Retry-After": "1"})


# Heartbeats per acceptance call. A script runs alone in Redis (some 10 µs of it per heartbeat), so this
# bounds how long one call holds it; under overload a call takes at most this much of the waiting queue,
# so it must be large enough that few calls drain it.
MAX_BATCH = 2000
# Calls at a time: while Redis runs one, the api builds or answers the other (one left Redis idle
# between calls; four split batches without gain: README, "Time tracking ingest").
CONCURRENT_CALLS = 2


class HeartbeatBatcher(TickBatcher[Pending, Acceptance]):
    def __init__(
        self,
        flush: Flush,
        *,
        max_in_flight: int,
        max_batch: int = MAX_BATCH,
        concurrency: int = CONCURRENT_CALLS,
    ) -> None:
        super().__init__(flush, max_batch=max_batch, concurrency=concurrency)
        self.max_in_flight = max_in_flight
        self.in_flight = 0
        self.shed = 0  # heartbeats refused by `admit`

    def admit(self) -> None:
        """Take a place for one heartbeat (give it back with `release`), or raise Overloaded when all are
        taken; cheap, and touches no store."""
        if self.refuses():
            raise Overloaded()
        self.in_flight += 1

    def refuses(self) -> bool:
        """True (and counted as shed) when `admit` would refuse now: lets a caller refuse before it reads
        the heartbeat at all."""
        if self.in_flight >= self.max_in_flight:
            self.shed += 1
            return True
        return False

    def release(self) -> None:
        self.in_flight -= 1
