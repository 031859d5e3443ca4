"""One measured phase: the load generators run the learners through a warm-up and a measured window
while the CPU of every process group is sampled at the window's ends."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.telemetry.cpu import cpu_groups, probe_speed
from bench.telemetry.senders import Senders


async def drive(
    senders: Senders,
    learners: list[dict[str, Any]],
    args: argparse.Namespace,
    processes: Any,
    *,
    lead: float = 1.0,
    warmup: float | None = None,
    seconds: float | None = None,
    profile_as: str = "",
    op: str = "heartbeat",
    retry_after: float | None = None,
    on_window: Callable[[float, float], object] | None = None,
    interval: float | None = None,
) -> tuple[dict[str, Any], dict[str, float], float, float, float]:
    """Run the learners for warm-up + measured seconds (`--warmup`, `--seconds` unless given), each sending
    every `interval` seconds (`--interval` unless given), starting `lead` seconds from now; returns
    (results, CPU s/s per process group over the measured seconds, start, m0, m1). Profiles (`--profile`)
    are named after the process, prefixed with `profile_as`.
    `on_window` is told (m0, m1) before the learners start."""
    warmup = args.warmup if warmup is None else warmup
    seconds = args.seconds if seconds is None else seconds
    interval = args.interval if interval is None else interval
    start = time.time() + lead
    m0 = start + warmup
    m1 = m0 + seconds
    if on_window is not None:
        on_window(m0, m1)
    spec = {
        "start": start,
        "m0": m0,
        "m1": m1,
        "stop_at": m1,
        "interval": interval,
        "seconds_spent": max(1, min(60, round(interval))),
        "op": op,
        "retry_after": args.retry_after if retry_after is None else retry_after,
        "total_learners": len(learners),
        "grace": 30.0,
    }

    async def sample_cpu() -> tuple[dict[str, float], dict[str, float]]:
        await asyncio.sleep(max(0.0, m0 - time.time()))
        groups = processes()  # found after the warm-up: connection pools (PostgreSQL backends) are open
        first = cpu_groups(groups)
        await asyncio.sleep(max(0.0, m1 - time.time()))
        return first, cpu_groups(groups)

    async def profile() -> None:
        await asyncio.sleep(max(0.0, m0 - time.time()))
        named = processes()
        profilers = []
        for name in ("api", "worker", "baseline"):
            if name in named:
                out = Path(args.profile) / f"{profile_as}{name}.txt"
                out.parent.mkdir(parents=True, exist_ok=True)
                profilers.append(
                    subprocess.Popen(
                        [
                            str(Path(sys.executable).with_name("py-spy")),
                            "record",
                            "--pid",
                            str(named[name][0]),
                            "--format",
                            "raw",
                            "--rate",
                            str(100 if seconds >= 10 else 1000),  # enough samples in a short phase
                            "--duration",
                            str(max(1, int(seconds))),
                            "--output",
                            str(out),
                            "--nonblocking",
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
        for profiler in profilers:
            await asyncio.get_running_loop().run_in_executor(None, profiler.wait)

    sampler = asyncio.create_task(sample_cpu())
    speed = asyncio.create_task(probe_speed(m0, m1))
    profiling = asyncio.create_task(profile()) if args.profile else None
    results = await senders.run(spec)
    first, last = await sampler
    if profiling is not None:
        await profiling
    usage = {name: (last.get(name, 0.0) - first.get(name, 0.0)) / seconds for name in last}
    results["probe_ms"] = await speed
    return results, usage, start, m0, m1


def summary(results: dict[str, Any]) -> str:
    errors = ", ".join(f"{k} x{v}" for k, v in results["errors"].items()) or "none"
    return (
        f"sent {results['sent']:,}, replies {results['replies']:,}, accepted {results['accepted']:,} "
        f"(credited > 0: {results['credited_count']:,}, {results['credited_seconds']:,} s), duplicates "
        f"{results['duplicates']}, unanswered {results['unanswered']}, connections lost {results['lost']}, "
        f"errors: {errors}"
    )
