"""bench.telemetry's speed probe: how fast a core ran Python during a phase, beside where the CPU went."""

from __future__ import annotations

import math
import time

from bench.telemetry import cpu


def _phase(probe_ms: float | None) -> dict[str, object]:
    usage = {"api": 0.7, "worker": 0.17, "redis": 0.27, "box": 1.76, "loadgens": 0.23, "bench": 0.01}
    results = {} if probe_ms is None else {"probe_ms": probe_ms}
    return {"name": "ours", "usage": usage, "results": results}


def test_the_probe_costs_cpu_in_proportion_to_its_work() -> None:
    small = min(cpu.speed_probe_ms(100_000) for _ in range(3))
    large = min(cpu.speed_probe_ms(400_000) for _ in range(3))
    assert small > 0
    assert 2.0 < large / small < 8.0


async def test_the_probes_inside_the_window_give_their_median() -> None:
    now = time.time()
    taken = await cpu.probe_speed(now, now + 1.0, every=0.2)
    assert taken > 0 and not math.isnan(taken)
    # A window too short for one probe says so rather than reporting a number.
    now = time.time()
    assert math.isnan(await cpu.probe_speed(now, now + 0.1, every=0.2))


def test_the_box_line_reports_the_probe_only_when_one_was_taken() -> None:
    assert cpu.box_line(_phase(11.04)).endswith("; the speed probe took 11.0 ms of CPU")
    for missing in (None, float("nan")):
        line = cpu.box_line(_phase(missing))
        assert "speed probe" not in line and line.endswith("steal 0%")
