"""What one fold update costs the embedded document store (nx-27017), by how it is guarded.

    python -m bench.telemetry.fold_updates [--documents 3000] [--list 16] [--rounds 3]

On a fresh server, `--documents` progress documents shaped like the fold's get one bulk write per form
and round, and the server process's CPU per update is printed:

- ours: the fold's update guarded by a fold mark (`folded_p0` below the flush's oldest entry; `$inc`,
  and `$set` of the mark and `last_accessed`), on documents carrying a mark;
- baseline: the same update guarded by an `applied` list as the fold did before marks (`$nor` of the six
  ids it pushes, `$push` of them), on documents whose lists hold `--list` ids;
- floor: the same `$inc` and `$set last_accessed`, unguarded: what the change itself costs.

Each round's documents take six new heartbeats, as a learner's documents do in a 5 s flush at one
heartbeat a second. The whole pipeline under load is `python -m bench.telemetry`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient, UpdateOne

from app.stores.embedded import EmbeddedMongo
from app.telemetry.keys import entry_order, fold_mark
from bench._harness import cpu_seconds, machine, versus

PER_FLUSH = 6
BASE_MS = 1_733_000_000_000
MARK = fold_mark(0)


def stream_ids(first: int, count: int) -> list[str]:
    return [f"{BASE_MS + (first + n) * 1000}-0" for n in range(count)]


def shape(user: int, **extra: Any) -> dict[str, Any]:
    return {
        "_id": f"{user}:1",
        "user_id": user,
        "course_id": 1,
        "completed_lessons": [],
        "lesson_times": {"L1": 10, "L2": 5},
        "total_seconds_spent": 15,
        "last_accessed": "2026-12-05T10:00:00.000Z",
        "created_at": "2026-12-05T09:00:00.000Z",
        **extra,
    }


Form = Callable[[str, list[str]], UpdateOne]
CHANGE = {"lesson_times.L1": PER_FLUSH, "total_seconds_spent": PER_FLUSH}
NOW = "2026-12-05T10:01:00.000Z"


def ours(doc_id: str, ids: list[str]) -> UpdateOne:
    low, high = entry_order(ids[0])[1], entry_order(ids[-1])[1]
    return UpdateOne(
        {"_id": doc_id, MARK: {"$lt": low}}, {"$inc": CHANGE, "$set": {MARK: high, "last_accessed": NOW}}
    )


def baseline(doc_id: str, ids: list[str]) -> UpdateOne:
    return UpdateOne(
        {"_id": doc_id, "$nor": [{"applied": entry_id} for entry_id in ids]},
        {"$inc": CHANGE, "$push": {"applied": {"$each": ids}}, "$set": {"last_accessed": NOW}},
    )


def floor(doc_id: str, ids: list[str]) -> UpdateOne:
    return UpdateOne({"_id": doc_id}, {"$inc": CHANGE, "$set": {"last_accessed": NOW}})


async def one_run(documents: int, listed: int, rounds: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="lf-bench-fold-") as scratch:
        server = EmbeddedMongo(Path(scratch))
        url = server.start()
        process = server._process
        assert process is not None
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
        try:
            listed_ids = stream_ids(0, listed)
            collections = {
                "ours": (client.bench.marked, ours, {MARK: entry_order(listed_ids[-1])[1], "applied": []}),
                "baseline": (client.bench.listed, baseline, {"applied": listed_ids}),
                "floor": (client.bench.plain, floor, {"applied": []}),
            }
            for coll, _, extra in collections.values():
                await coll.insert_many([shape(user, **extra) for user in range(documents)])
            per_update: dict[str, list[float]] = {name: [] for name in collections}
            for round_ in range(rounds):
                ids = stream_ids(listed + round_ * PER_FLUSH, PER_FLUSH)
                for name, (coll, form, _) in collections.items():
                    ops = [form(f"{user}:1", ids) for user in range(documents)]
                    before = cpu_seconds([process.pid])
                    result = await coll.bulk_write(ops, ordered=False)
                    spent = cpu_seconds([process.pid]) - before
                    assert result.matched_count == documents, (name, result.matched_count)
                    per_update[name].append(spent / documents * 1e6)
            return per_update
        finally:
            await client.close()
            server.stop()


async def main(args: argparse.Namespace) -> None:
    figures = await one_run(args.documents, args.list, args.rounds)
    print(
        f"fold updates on nx-27017: {args.documents:,} progress documents, {args.rounds} rounds of "
        f"{PER_FLUSH} heartbeats each, lists of {args.list}+ ids for the baseline; {machine()}"
    )
    labels = {
        "ours": "ours: guarded by the fold mark",
        "baseline": f"baseline: guarded by an `applied` list ($nor of {PER_FLUSH}, $push)",
        "floor": "floor: unguarded",
    }
    width = max(len(label) for label in labels.values())
    for name, values in figures.items():
        shown = ", ".join(f"{value:.0f}" for value in values)
        print(f"  {labels[name]:<{width}} {statistics.median(values):6.0f} µs/update (rounds: {shown})")
    ours, baseline, floor = (statistics.median(figures[name]) for name in ("ours", "baseline", "floor"))
    print(f"  {versus(ours, baseline, floor)}")


def cli() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=3000)
    parser.add_argument("--list", type=int, default=16, help="ids in each baseline document's list")
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
