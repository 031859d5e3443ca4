"""Group commit of heartbeats (app/tick_batch.py): those submitted within LINGER_SECONDS of the oldest
waiting one, from any connection (WS or REST), are accepted by one script call; each caller's await
returns when it does.

Admission is bounded by how long an admitted heartbeat would wait: past what this process finished in
the last second times WAIT_BUDGET_SECONDS (never fewer than `min_in_flight`, never more than
MAX_IN_FLIGHT) heartbeats waiting or being accepted, `admit` refuses at once, before any store work, so
an overloaded api spends next to nothing on the heartbeats it sheds. It also refuses everything for
a while after being told to hold off (`hold_off`: the workers are too far behind).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from app.errors import ServiceUnavailable
from app.tick_batch import TickBatcher


# Made for every heartbeat: slotted and not frozen, as a frozen dataclass's __init__ costs about four
# times as much (it sets each field through object.__setattr__). Nothing changes them after construction.
@dataclass(slots=True)
class Pending:
    user_id: int
    course_id: int
    lesson_id: str
    seconds: int
    seq: int | None
    enrollment_id: int
    idempotency_key: str


@dataclass(slots=True)
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
# between calls; four split batches without gain: docs/performance/telemetry-ingest.md, "Flushes that keep
# up").
CONCURRENT_CALLS = 2
# An admitted heartbeat should be answered within about this long: well inside the 15 s between a web
# client's heartbeats, so waiting costs it nothing while a refusal costs the api about what a `ping`
# costs and the client a resend. A fixed bound on the heartbeats waiting either refuses work the api
# would take within a second or two (4,000 at 6,000 a second) or lets a stalled store gather an
# unbounded queue; a second's throughput times this does neither. A stall (nothing finished for a
# whole second) brings it down to the floor.
WAIT_BUDGET_SECONDS = 5.0
# A heartbeat waits at most this long for others to share its call. At the web client's 15 s interval an
# api taking a thousand heartbeats a second sees one or two per tick, and each call costs Redis its
# fixed share and an fsync (`appendfsync always`) whatever it carries: docs/performance/telemetry-ingest.md,
# "At the web client's interval: batches that linger".
LINGER_SECONDS = 0.02
# Heartbeats waiting or being accepted, per api process, that are always admitted.
MIN_IN_FLIGHT = 4000
# Memory bound whatever the throughput: a waiting heartbeat holds its frame, task and future.
MAX_IN_FLIGHT = 40_000


class HeartbeatBatcher(TickBatcher[Pending, Acceptance]):
    def __init__(
        self,
        flush: Flush,
        *,
        min_in_flight: int = MIN_IN_FLIGHT,
        max_batch: int = MAX_BATCH,
        concurrency: int = CONCURRENT_CALLS,
        linger: float = LINGER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(flush, max_batch=max_batch, concurrency=concurrency, linger=linger)
        self.min_in_flight = min_in_flight
        self.in_flight = 0
        self.shed = 0  # heartbeats refused by `admit`
        self._clock = clock
        # Heartbeats finished (released) in the clock's whole second `_second`, and in the one before it.
        self._second = int(clock())
        self._finished_now = 0
        self._finished_before = 0
        self._held_until = 0.0  # `hold_off`: refuse everything until the clock reads this

    def bound(self) -> int:
        """How many heartbeats may wait or be accepted at once right now."""
        second = int(self._clock())
        if second == self._second:
            recent = self._finished_before
        elif second == self._second + 1:
            recent = self._finished_now
        else:
            recent = 0
        return min(MAX_IN_FLIGHT, max(self.min_in_flight, int(recent * WAIT_BUDGET_SECONDS)))

    def admit(self) -> None:
        """Take a place for one heartbeat (give it back with `release`), or raise Overloaded when all are
        taken; cheap, and touches no store."""
        if self.refuses():
            raise Overloaded()
        self.in_flight += 1

    def refuses(self) -> bool:
        """True (and counted as shed) when `admit` would refuse now: lets a caller refuse before it reads
        the heartbeat at all."""
        # The bound is never below the floor: under it, no need to read the clock.
        if (self.in_flight >= self.min_in_flight and self.in_flight >= self.bound()) or self._holding():
            self.shed += 1
            return True
        return False

    def hold_off(self, seconds: float) -> bool:
        """Refuse every heartbeat for the next `seconds`; True if it was not holding already."""
        fresh = not self._holding()
        self._held_until = self._clock() + seconds
        return fresh

    def _holding(self) -> bool:
        if not self._held_until:
            return False
        if self._clock() < self._held_until:
            return True
        self._held_until = 0.0
        return False

    def release(self) -> None:
        self.in_flight -= 1
        second = int(self._clock())
        if second != self._second:
            self._finished_before = self._finished_now if second == self._second + 1 else 0
            self._second, self._finished_now = second, 0
        self._finished_now += 1
