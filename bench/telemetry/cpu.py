"""Where the CPU goes during a phase: the embedded stores' processes, per-group CPU seconds, the whole
box, and a speed probe that tells a slower core from a busier box."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import time
from collections import defaultdict
from typing import Any

import psutil

from bench._harness import Stack, median


def store_processes(made: Stack) -> dict[str, list[int]]:
    """The embedded store servers' processes by store: our descendants and the processes started from
    the bench's folder (PostgreSQL daemonizes), with their children (PostgreSQL backends)."""
    roots = list(psutil.Process().children(recursive=True))
    folder = str(made.workdir)
    for process in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error, TypeError):
            if any(folder in part for part in process.info["cmdline"] or ()):
                roots.append(process)
    groups: dict[str, set[int]] = defaultdict(set)
    for root in roots:
        with contextlib.suppress(psutil.Error):
            text = " ".join(root.cmdline())
            group = (
                "postgres"
                if "postgres" in root.name()
                else "mongo"
                if "nx_launcher" in text or "mongod" in root.name()
                else "redis"
                if "valkey" in root.name() or "redis" in root.name()
                else None
            )
            if group:
                groups[group].add(root.pid)
                groups[group].update(child.pid for child in root.children(recursive=True))
    return {name: sorted(pids) for name, pids in groups.items()}


def cpu_groups(named: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds so far of each named group of processes (backends that came and went are missed), of
    this bench's own process ("bench"), of the whole machine, busy ("box"), and taken by the hypervisor
    from this machine's virtual CPUs ("steal"): the last two tell a run slowed by something else on the
    box from one slowed by the pipeline."""
    result: dict[str, float] = defaultdict(float)
    for name, pids in named.items():
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                times = psutil.Process(pid).cpu_times()
                result[name] += times.user + times.system
    own = psutil.Process().cpu_times()
    result["bench"] = own.user + own.system
    box: Any = psutil.cpu_times()
    result["box"] = box.user + box.nice + box.system + getattr(box, "irq", 0.0) + getattr(box, "softirq", 0.0)
    result["steal"] = getattr(box, "steal", 0.0)
    return dict(result)


# The process groups whose CPU is counted as the pipeline's (a phase has either ours or the baseline).
SERVERS = ("api", "worker", "baseline")


STORES = ("redis", "mongo", "postgres")


def servers_and_stores(usage: dict[str, float]) -> float:
    """CPU of a phase's servers and stores (cores), out of its `usage`."""
    return sum(usage.get(name, 0.0) for name in (*SERVERS, *STORES))


def box_line(phase: dict[str, Any]) -> str:
    """Where the machine's CPU went in a phase's window, in % of one core, and how fast a core was."""
    usage = phase["usage"]
    servers = servers_and_stores(usage)
    known = servers + usage.get("loadgens", 0.0) + usage.get("bench", 0.0)
    speed = phase.get("results", {}).get("probe_ms")
    probe = "" if speed is None or math.isnan(speed) else f"; the speed probe took {speed:.1f} ms of CPU"
    return (
        f"{phase['name']}: the box busy {usage.get('box', 0.0):.0%} of {os.cpu_count() or 1:.0%} "
        f"(% of a core): servers + stores {servers:.0%}, load generators "
        f"{usage.get('loadgens', 0.0):.0%}, this bench {usage.get('bench', 0.0):.0%}, anything else "
        f"{max(0.0, usage.get('box', 0.0) - known):.0%}; steal {usage.get('steal', 0.0):.0%}" + probe
    )


# Iterations of the speed probe: 6-14 ms of CPU on the 2 vCPU boxes of docs/performance/telemetry-ingest.md.
PROBE_ITERATIONS = 300_000


def speed_probe_ms(iterations: int = PROBE_ITERATIONS) -> float:
    """CPU milliseconds this thread spends on a fixed pure-Python loop that fits in a core's caches: how
    fast a core runs Python right now. Time waiting for a core is not counted, so a busy box alone does
    not raise it; a slower core does (a busy hyper-thread sibling, a lower clock, a neighbour on the host
    that the hypervisor does not report as steal)."""
    started = time.thread_time()
    total = 0
    for number in range(iterations):
        total += number & 7
    return (time.thread_time() - started) * 1000


async def probe_speed(m0: float, m1: float, every: float = 4.0) -> float:
    """Median of speed probes run every `every` seconds inside [m0, m1], off the event loop."""
    await asyncio.sleep(max(0.0, m0 - time.time()))
    loop = asyncio.get_running_loop()
    taken: list[float] = []
    while time.time() + every < m1:
        taken.append(await loop.run_in_executor(None, speed_probe_ms))
        await asyncio.sleep(every)
    return median(taken) if taken else float("nan")
