"""The capacity model's arithmetic (bench/capacity.py) and the README part it produces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.capacity import END, FIGURES, README, START, Figures, load_of, plan, render, write_readme

# Round numbers so every expected value can be checked by hand.
SIMPLE = Figures(
    heartbeat_interval_s=10.0,
    discussion_interval_s=100.0,
    dm_interval_s=50.0,
    discussion_audience=10.0,
    dm_frames=2.0,
    api_cpu_us_per_frame=10.0,
    api_cpu_us_per_heartbeat=100.0,
    api_cpu_us_per_rest_request=1000.0,
    api_bytes_per_connection=1024.0,
    worker_cpu_us_per_heartbeat=500.0,
    redis_units_per_heartbeat=10.0,
    redis_units_per_publication=5.0,
    redis_units_per_rest_request=2.0,
    redis_units_per_second_per_shard=100_000.0,
    redis_hot_slot_units_per_heartbeat=1.0,
    mongo_writes_per_heartbeat=2.0,
    mongo_writes_per_second_per_shard=10_000.0,
    pg_rows_per_heartbeat=1.0,
    pg_rows_per_rest_request=1.0,
    pg_rows_per_second=1_000_000.0,
    cores_per_api_machine=4,
    memory_per_api_machine_gib=1.0,
    cores_per_worker_machine=4,
    target_utilisation=0.5,
)


def test_the_load_follows_the_learners_intervals() -> None:
    load = load_of(SIMPLE, 100_000)
    assert load.heartbeats_per_s == 10_000
    assert load.discussion_events_per_s == 1_000 and load.dms_per_s == 2_000
    assert load.frames_per_s == 1_000 * 10 + 2_000 * 2
    assert load.rest_requests_per_s == 3_000
    assert load.publications_per_s == 1_000 + 2_000 * 2


def test_machines_per_tier() -> None:
    _, tiers, bottleneck = plan(SIMPLE, 100_000)
    by_name = {tier.name: tier for tier in tiers}
    # api CPU: 10,000 × 100 µs + 14,000 × 10 µs + 3,000 × 1,000 µs = 4.14 cores; 2 usable per machine.
    assert by_name["api"].machines == 3 and by_name["api"].driver == "CPU 4.1 cores"
    # worker: 10,000 × 500 µs = 5 cores; 2 usable per machine.
    assert by_name["worker"].machines == 3
    # Redis: 100,000 + 25,000 + 6,000 = 131,000 units/s; 50,000 usable per shard.
    assert by_name["Redis shards"].machines == 3
    # Mongo: 20,000 updates/s; 5,000 usable per shard.
    assert by_name["Mongo shards"].machines == 4
    assert by_name["PostgreSQL"].machines == 1
    # Nothing hits a wall: the most loaded tier (Mongo, 4× one shard) is named.
    assert bottleneck.startswith("Mongo shards")


def test_memory_can_set_the_api_count() -> None:
    _, tiers, _ = plan(SIMPLE, 2_000_000)  # 2,000,000 KiB = 1.9 GiB against 0.5 usable GiB a machine
    api = next(tier for tier in tiers if tier.name == "api")
    assert api.driver.startswith("CPU")  # 82.8 cores win over 3.8 machines of memory
    _, tiers, _ = plan(Figures(**{**SIMPLE.__dict__, "api_bytes_per_connection": 1024.0 * 1024}), 10_000)
    api = next(tier for tier in tiers if tier.name == "api")
    assert api.driver == "memory 9.8 GiB" and api.machines == 20


def test_walls_that_more_machines_do_not_lift_are_the_bottleneck() -> None:
    hot = Figures(
        **{**SIMPLE.__dict__, "redis_hot_slot_units_per_heartbeat": 6.0, "pg_rows_per_second": 20_000}
    )
    _, _, bottleneck = plan(hot, 100_000)
    # 60,000 units/s on one slot > 50,000 for a shard; 13,000 rows/s > 10,000 for the primary.
    assert bottleneck.startswith("Redis: the live-activity keys share one slot")
    assert "; then PostgreSQL: 13,000 rows/s against 10,000" in bottleneck


def test_figures_come_from_json_and_unknown_names_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "figures.json"
    path.write_text(json.dumps({"figures": {"api_cpu_us_per_frame": 12.5}, "sources": {"x": "y"}}))
    figures, sources = Figures.load(path)
    assert figures.api_cpu_us_per_frame == 12.5 and sources == {"x": "y"}
    path.write_text(json.dumps({"figures": {"typo": 1}}))
    with pytest.raises(ValueError, match="typo"):
        Figures.load(path)


def test_the_readme_part_is_what_the_script_produces(tmp_path: Path) -> None:
    figures, sources = Figures.load(FIGURES)
    text = render(figures, sources)
    assert f"{START}\n{text}\n{END}" in README.read_text()
    copy = tmp_path / "README.md"
    copy.write_text(f"before\n{START}\nold\n{END}\nafter\n")
    write_readme("new", copy)
    assert copy.read_text() == f"before\n{START}\nnew\n{END}\nafter\n"
