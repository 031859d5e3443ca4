"""How many heartbeats an api process holds before it refuses (app/telemetry/batcher.py): its floor, or
what it finished in the last whole second times WAIT_BUDGET_SECONDS, up to MAX_IN_FLIGHT; a second with
nothing finished (a stalled store) brings it back to the floor; `hold_off` refuses everything for a while."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from pydantic import ValidationError

from app.telemetry.batcher import (
    MAX_IN_FLIGHT,
    WAIT_BUDGET_SECONDS,
    Acceptance,
    HeartbeatBatcher,
    Overloaded,
    Pending,
)
from tests.conftest import make_settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def never(batch: Sequence[Pending]) -> list[Acceptance]:
    raise AssertionError("no heartbeat is flushed here")


def finish(batcher: HeartbeatBatcher, count: int) -> None:
    for _ in range(count):
        batcher.admit()
        batcher.release()


def test_the_floor_holds_until_a_second_has_finished_more() -> None:
    clock = Clock()
    batcher = HeartbeatBatcher(never, min_in_flight=10, clock=clock)
    assert batcher.bound() == 10
    finish(batcher, 300)
    assert batcher.bound() == 10  # this second is not over yet
    clock.now += 1
    assert batcher.bound() == int(300 * WAIT_BUDGET_SECONDS)
    clock.now += 0.9  # still counted: the last whole second finished 300
    assert batcher.bound() == int(300 * WAIT_BUDGET_SECONDS)


def test_past_the_bound_admission_refuses_and_counts_the_refusal() -> None:
    clock = Clock()
    batcher = HeartbeatBatcher(never, min_in_flight=10, clock=clock)
    finish(batcher, 50)
    clock.now += 1
    bound = int(50 * WAIT_BUDGET_SECONDS)
    for _ in range(bound):
        batcher.admit()
    with pytest.raises(Overloaded):
        batcher.admit()
    assert batcher.in_flight == bound and batcher.shed == 1
    batcher.release()
    batcher.admit()  # a place came free
    assert batcher.in_flight == bound


def test_a_stall_brings_the_bound_back_to_the_floor() -> None:
    clock = Clock()
    batcher = HeartbeatBatcher(never, min_in_flight=10, clock=clock)
    finish(batcher, 1000)
    clock.now += 1
    for _ in range(500):
        batcher.admit()  # the store stops answering: none of these is released
    assert not batcher.refuses()
    clock.now += 1  # a whole second with nothing finished
    assert batcher.bound() == 10 and batcher.refuses()
    with pytest.raises(Overloaded):
        batcher.admit()


def test_the_bound_never_passes_the_memory_ceiling() -> None:
    clock = Clock()
    batcher = HeartbeatBatcher(never, min_in_flight=10, clock=clock)
    finish(batcher, MAX_IN_FLIGHT)
    clock.now += 1
    assert batcher.bound() == MAX_IN_FLIGHT


def test_after_hold_off_every_heartbeat_is_refused_until_it_passes() -> None:
    clock = Clock()
    batcher = HeartbeatBatcher(never, min_in_flight=10, clock=clock)
    batcher.hold_off(1.0)
    with pytest.raises(Overloaded):
        batcher.admit()
    assert batcher.in_flight == 0 and batcher.shed == 1
    clock.now += 0.99
    assert batcher.refuses()
    clock.now += 0.02
    batcher.admit()
    assert batcher.in_flight == 1 and batcher.shed == 2


def test_a_backlog_bound_below_two_flushes_is_a_clear_configuration_error() -> None:
    with pytest.raises(ValidationError, match="TELEMETRY_MAX_BACKLOG .1999. must be at least twice"):
        make_settings(telemetry_batch_size=1000, telemetry_max_backlog=1999)
    assert make_settings(telemetry_batch_size=1000, telemetry_max_backlog=2000).telemetry_max_backlog == 2000
