"""Cross-instance latency: publications made on instance A reach subscribers on instance B.

    .venv/bin/python -m bench.crossinstance [--rate 1000] [--subscribers 10] [--seconds 5] [--redis-cluster]

Two real `learnflow serve` processes on the same stores, started by the multi-instance harness
(harness.cluster.Cluster, no workers). Publications go through the hub's publish
path at a fixed rate (realtime.history.RedisHistory.publish: offset + history append + PUBLISH in one
Lua script, which is all `Hub.publish` does on instance A), on one channel. Load-generator process 1
holds the subscribers on instance B (the figure the target is about); process 0 holds as many on
instance A, for comparison. Latency is publish call → frame received by the subscriber. With
`--redis-cluster`, Redis is a local 3-master cluster (harness.redis_cluster) and the relay's sharded
pub/sub goes through the shard owning the channel.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from typing import Any

from app.runtime import StoreUrls
from app.stores.redis import create_redis
from bench._harness import (
    TOKEN_TTL_SECONDS,
    ensure_admins,
    hub_command,
    machine,
    mint_tokens,
    percentile,
    run,
    stack,
    table,
)
from bench._loadgen import LoadGenerators, raise_fd_limit
from bench._measure import HUB_CHANNEL, Phase, fragment, measure, ms, settle
from harness.cluster import Cluster
from harness.redis_cluster import RedisCluster
from realtime.history import RedisHistory


async def bench(args: argparse.Namespace, made: Any) -> tuple[Phase, dict[str, Any]]:
    n = args.subscribers
    users = await ensure_admins(made.urls.database_url, 2 * n)
    tokens = mint_tokens(made.jwt_secret, users)
    cluster = Cluster(
        made.workdir / "cluster",
        urls=made.urls,
        apis=2,
        workers=0,
        env={"ACCESS_TOKEN_TTL_SECONDS": str(TOKEN_TTL_SECONDS), "LOG_FORMAT": "console"},
        mongo_database="learnflow_bench",
        jwt_secret=made.jwt_secret,
        production=True,
        command=hub_command(),
    ).start()
    first, second = cluster.apis
    loadgens = LoadGenerators(2)
    redis = create_redis(made.urls.redis_url)
    history = RedisHistory(redis, size=200, ttl_seconds=600)

    async def publish(seq: int, sent: float) -> Any:
        return await history.publish(HUB_CHANNEL, fragment(seq, sent))

    try:
        common = {"kind": "hub", "host": "127.0.0.1", "path": "/ws", "count": n, "channel": HUB_CHANNEL}
        results = await loadgens.connect_each(
            [
                {**common, "port": first.port, "tokens": tokens[:n]},
                {**common, "port": second.port, "tokens": tokens[n:]},
            ]
        )
        for where, result in zip(("A", "B"), results, strict=True):
            if result["failed"]:
                print(f"  instance {where}: {result['failed']} connections failed: {result['errors']}")
        connected = {"connected": sum(r["connected"] for r in results), "seconds": 0.0}
        await settle(first)
        await settle(second)
        phase = await measure(
            "hub A+B", [first, second], 2 * n, connected, args.rate, loadgens, publish, args
        )
        await loadgens.broadcast("close_all")
        info = {"a": results[0]["connected"], "b": results[1]["connected"]}
        return phase, info
    finally:
        await loadgens.close()
        await redis.aclose()
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.crossinstance", description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=1000.0, help="publications per second")
    parser.add_argument("--subscribers", type=int, default=10, help="subscribers on each instance")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured publishing before")
    parser.add_argument("--drain", type=float, default=5.0, help="max seconds to wait for late frames")
    parser.add_argument("--redis-cluster", action="store_true", help="a local 3-master Redis Cluster")
    parser.add_argument("--profile", help="folder for a py-spy profile of instance A (needs py-spy)")
    args = parser.parse_args()
    raise_fd_limit()
    started = time.monotonic()
    out: list[Any] = []
    with stack() as made, contextlib.ExitStack() as extra:
        if args.redis_cluster:
            shards = extra.enter_context(RedisCluster(made.workdir / "redis-cluster", masters=3))
            made.urls = StoreUrls(made.urls.database_url, shards.url, made.urls.mongo_url)

        async def go() -> None:
            out.extend(await bench(args, made))

        run(go())
    phase, info = out
    assert phase.by_process is not None
    rows = []
    for label, values, count in (
        ("B (other instance)", phase.by_process[1], info["b"]),
        ("A (same instance)", phase.by_process[0], info["a"]),
    ):
        expected = phase.published_in_window * count
        rows.append(
            [
                label,
                count,
                f"{args.rate:g}",
                f"{phase.published_in_window / args.seconds:,.0f}",
                f"{len(values) / expected:.1%}" if expected else "-",
                ms(percentile(values, 0.5)),
                ms(percentile(values, 0.99)),
                ms(percentile(values, 0.999)),
                ms(values[-1] if values else 0.0),
                "yes" if percentile(values, 0.99) <= 0.020 else "NO",
            ]
        )
    print()
    redis_kind = "3-master Redis Cluster" if args.redis_cluster else "one Redis"
    print(
        f"cross-instance ({redis_kind}): {args.seconds:g} s measured "
        f"(+{args.warmup:g} s warm-up); {machine()}"
    )
    print(
        table(
            [
                "subscribers on",
                "N",
                "pubs/s asked",
                "pubs/s made",
                "delivered",
                "p50 ms",
                "p99 ms",
                "p99.9 ms",
                "max ms",
                "p99 <= 20 ms",
            ],
            rows,
        )
    )
    print(f"both instances' CPU while publishing: {phase.cpu:.0%}; load generators {phase.loadgen_cpu:.0%}")
    print(f"total {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
