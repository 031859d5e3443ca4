"""The capacity model: machines per tier for N concurrently active learners, from per-unit figures.

    python -m bench.capacity                       # figures from bench/capacity_figures.json, both scales
    python -m bench.capacity --figures my.json     # other measured figures
    python -m bench.capacity --write-readme        # regenerate README.md's "Capacity model" part

Nothing is measured here: the per-unit costs come from the benches (README "Performance",
docs/performance/) and the JSON names where each figure comes from; what no bench measured is an
assumption, stated as such in the output. Arithmetic only, so a unit test checks it
(tests/test_capacity_model.py).
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIGURES = Path(__file__).with_name("capacity_figures.json")
README = ROOT / "README.md"
START, END = "<!-- capacity:start -->", "<!-- capacity:end -->"
SCALES = (100_000, 1_000_000)
KIB = 1024
GIB = 1024**3


@dataclass(frozen=True)
class Figures:
    # Workload per concurrently active learner.
    heartbeat_interval_s: float = 15.0
    discussion_interval_s: float = 600.0  # one discussion event per learner per 10 min
    dm_interval_s: float = 300.0  # one direct message per learner per 5 min
    discussion_audience: float = 50.0  # subscribers who receive a discussion event (assumed)
    dm_frames: float = 2.0  # a DM reaches the recipient's and the sender's `user:` channels
    # api tier (measured: README "Performance", docs/performance/).
    api_cpu_us_per_frame: float = 25.0  # delivered WebSocket frame
    api_cpu_us_per_heartbeat: float = 680.0  # accepted WebSocket heartbeat, reply included
    api_cpu_us_per_rest_request: float = 2000.0  # a write through REST (assumed: not benched yet)
    api_bytes_per_connection: float = 34.9 * KIB  # RSS per idle authenticated connection
    # worker tier.
    worker_cpu_us_per_heartbeat: float = 1422.0  # 1 s / 703 folded per s: an upper bound (embedded Mongo)
    # Redis: command units (one Redis command ~ one unit; a script counts the commands it runs).
    redis_units_per_heartbeat: float = 18.0  # accept script ~5, activity script ~12, XREADGROUP/XACK share
    redis_units_per_publication: float = 10.0  # publish script ~7, SPUBLISH to each subscribed instance
    redis_units_per_rest_request: float = 4.0  # rate-limit window, revocation check, …
    redis_units_per_second_per_shard: float = 100_000.0  # one single-threaded shard (assumed)
    # Share of all heartbeat units that land on one slot today: the live-activity keys share `{act}`.
    redis_hot_slot_units_per_heartbeat: float = 12.0
    # MongoDB: document updates per folded heartbeat (course_telemetry + progress).
    mongo_writes_per_heartbeat: float = 2.0
    mongo_writes_per_second_per_shard: float = 20_000.0  # assumed (replica-set primary, SSD)
    # PostgreSQL: rows written per folded heartbeat (rollup + idempotency mark) and per REST write.
    pg_rows_per_heartbeat: float = 2.0
    pg_rows_per_rest_request: float = 2.0  # the row + its audit/event row
    pg_rows_per_second: float = 50_000.0  # one primary (assumed); read replicas do not add write capacity
    # Machines and headroom.
    cores_per_api_machine: int = 8
    memory_per_api_machine_gib: float = 32.0
    cores_per_worker_machine: int = 8
    target_utilisation: float = 0.6  # plan for 60 % so a failed machine's load fits on the rest

    @classmethod
    def load(cls, path: Path | None) -> tuple[Figures, dict[str, str]]:
        """Figures from a JSON file: {"figures": {name: value}, "sources": {name: where it comes from}}."""
        if path is None or not path.exists():
            return cls(), {}
        document: dict[str, Any] = json.loads(path.read_text())
        known = {f.name for f in fields(cls)}
        values = document.get("figures", {})
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown figures in {path}: {sorted(unknown)}")
        return replace(cls(), **values), dict(document.get("sources", {}))


@dataclass(frozen=True)
class Load:
    learners: int
    heartbeats_per_s: float
    discussion_events_per_s: float
    dms_per_s: float
    frames_per_s: float
    rest_requests_per_s: float
    publications_per_s: float


def load_of(figures: Figures, learners: int) -> Load:
    heartbeats = learners / figures.heartbeat_interval_s
    discussions = learners / figures.discussion_interval_s
    dms = learners / figures.dm_interval_s
    frames = discussions * figures.discussion_audience + dms * figures.dm_frames
    return Load(
        learners=learners,
        heartbeats_per_s=heartbeats,
        discussion_events_per_s=discussions,
        dms_per_s=dms,
        frames_per_s=frames,
        rest_requests_per_s=discussions + dms,
        publications_per_s=discussions + dms * figures.dm_frames,
    )


@dataclass(frozen=True)
class Tier:
    name: str
    machines: int
    driver: str  # what sets the count
    utilisation_of_one: float  # the load as a multiple of one unit's planned capacity

    @classmethod
    def scaled(cls, name: str, demand: float, capacity_of_one: float, driver: str) -> Tier:
        """A tier that grows by adding units of `capacity_of_one` until they carry `demand`."""
        return cls(name, _count(demand, capacity_of_one), driver, demand / capacity_of_one)


def _count(demand: float, capacity: float) -> int:
    return max(1, math.ceil(demand / capacity - 1e-9))


def plan(figures: Figures, learners: int) -> tuple[Load, list[Tier], str]:
    """Machines per tier and the bottleneck: the tier whose single unit is most overloaded, i.e. the
    one that needs the most scaling (or, for a hot slot, cannot be scaled by adding shards at all)."""
    load = load_of(figures, learners)
    usable = figures.target_utilisation
    api_cpu_s = (
        load.heartbeats_per_s * figures.api_cpu_us_per_heartbeat
        + load.frames_per_s * figures.api_cpu_us_per_frame
        + load.rest_requests_per_s * figures.api_cpu_us_per_rest_request
    ) / 1e6
    api_by_cpu = api_cpu_s / (figures.cores_per_api_machine * usable)
    api_memory = learners * figures.api_bytes_per_connection
    api_by_memory = api_memory / (figures.memory_per_api_machine_gib * GIB * usable)
    api_driver = (
        f"CPU {api_cpu_s:,.1f} cores"
        if api_by_cpu >= api_by_memory
        else f"memory {api_memory / GIB:,.1f} GiB"
    )
    worker_cpu_s = load.heartbeats_per_s * figures.worker_cpu_us_per_heartbeat / 1e6
    redis_units = (
        load.heartbeats_per_s * figures.redis_units_per_heartbeat
        + load.publications_per_s * figures.redis_units_per_publication
        + load.rest_requests_per_s * figures.redis_units_per_rest_request
    )
    shard_budget = figures.redis_units_per_second_per_shard * usable
    hot_slot = load.heartbeats_per_s * figures.redis_hot_slot_units_per_heartbeat
    mongo_writes = load.heartbeats_per_s * figures.mongo_writes_per_heartbeat
    pg_budget = figures.pg_rows_per_second * usable
    pg_rows = (
        load.heartbeats_per_s * figures.pg_rows_per_heartbeat
        + load.rest_requests_per_s * figures.pg_rows_per_rest_request
    )
    tiers = [
        Tier("api", _count(max(api_by_cpu, api_by_memory), 1.0), api_driver, max(api_by_cpu, api_by_memory)),
        Tier.scaled(
            "worker",
            worker_cpu_s,
            figures.cores_per_worker_machine * usable,
            f"CPU {worker_cpu_s:,.1f} cores",
        ),
        Tier(
            "Redis shards",
            _count(redis_units, shard_budget),
            f"{redis_units:,.0f} command units/s; hottest slot `{{act}}` {hot_slot:,.0f}/s",
            max(redis_units, hot_slot) / shard_budget,
        ),
        Tier.scaled(
            "Mongo shards",
            mongo_writes,
            figures.mongo_writes_per_second_per_shard * usable,
            f"{mongo_writes:,.0f} updates/s",
        ),
        Tier(
            "PostgreSQL",
            1,  # one primary: writes do not shard here (replicas add reads only)
            f"{pg_rows:,.0f} rows written/s, {pg_rows / pg_budget:.1f}× one primary",
            pg_rows / pg_budget,
        ),
    ]
    bottleneck = _bottleneck(tiers, hot_slot, shard_budget, pg_rows, pg_budget)
    return load, tiers, bottleneck


def _bottleneck(
    tiers: list[Tier], hot_slot: float, shard_budget: float, pg_rows: float, pg_budget: float
) -> str:
    """What stops scaling out: the limits adding machines does not lift, in the order they bite, else
    the most loaded tier."""
    walls = []
    if hot_slot > shard_budget:
        walls.append(
            f"Redis: the live-activity keys share one slot (`{{act}}`), {hot_slot:,.0f} units/s against "
            f"{shard_budget:,.0f} for one shard; more shards do not help until those keys are tagged per "
            "course"
        )
    if pg_rows > pg_budget:
        walls.append(
            f"PostgreSQL: {pg_rows:,.0f} rows/s against {pg_budget:,.0f} for one primary; fold heartbeats "
            "into per-minute rollups (or keep them in the Mongo tier)"
        )
    if walls:
        return "; then ".join(walls)
    worst = max(tiers, key=lambda tier: tier.utilisation_of_one)
    return f"{worst.name} ({worst.driver}), which scales out by adding machines"


def render(figures: Figures, sources: dict[str, str], scales: tuple[int, ...] = SCALES) -> str:
    """The README part: the load, the machines per tier at each scale, the bottlenecks, the figures."""
    plans = [plan(figures, learners) for learners in scales]
    header = "| | " + " | ".join(f"{learners:,} learners" for learners in scales) + " |"
    lines = [
        "Produced by `python -m bench.capacity --write-readme` from `bench/capacity_figures.json`;",
        f"planned at {figures.target_utilisation:.0%} utilisation so one failed machine's load fits on",
        f"the rest. Each learner: a heartbeat every {figures.heartbeat_interval_s:g} s, a discussion event",
        f"every {figures.discussion_interval_s / 60:g} min (delivered to {figures.discussion_audience:g}",
        f"subscribers), a DM every {figures.dm_interval_s / 60:g} min ({figures.dm_frames:g} frames).",
        f"api machine: {figures.cores_per_api_machine} cores, {figures.memory_per_api_machine_gib:g} GiB;",
        f"worker machine: {figures.cores_per_worker_machine} cores.",
        "",
        header,
        "|---|" + "---|" * len(scales),
        "| heartbeats/s | " + " | ".join(f"{load.heartbeats_per_s:,.0f}" for load, _, _ in plans) + " |",
        "| frames delivered/s | " + " | ".join(f"{load.frames_per_s:,.0f}" for load, _, _ in plans) + " |",
        "| REST writes/s | " + " | ".join(f"{load.rest_requests_per_s:,.0f}" for load, _, _ in plans) + " |",
    ]
    for index, tier in enumerate(plans[0][1]):
        cells = [f"{tiers[index].machines:,} ({tiers[index].driver})" for _, tiers, _ in plans]
        lines.append(f"| {tier.name} | " + " | ".join(cells) + " |")
    lines.append("| **bottleneck** | " + " | ".join(bottleneck for _, _, bottleneck in plans) + " |")
    lines += ["", "Figures (measured ones name their bench; the rest are assumptions):", ""]
    for name, value in asdict(figures).items():
        source = sources.get(name, "assumption")
        lines.append(f"- `{name}` = {value:,.6g} — {source}")
    return "\n".join(lines)


def write_readme(text: str, readme: Path = README) -> None:
    content = readme.read_text()
    if START not in content or END not in content:
        raise ValueError(f"{readme} has no {START} … {END} markers")
    head, rest = content.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{text}\n{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.capacity", description=__doc__)
    parser.add_argument("--figures", type=Path, default=FIGURES)
    parser.add_argument("--learners", type=int, nargs="*", default=list(SCALES))
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args(argv)
    figures, sources = Figures.load(args.figures)
    text = render(figures, sources, tuple(args.learners))
    print(text)
    if args.write_readme:
        write_readme(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
