"""Cross-instance latency: publications made on instance A reach subscribers on instance B.

    .venv/bin/python -m bench.crossinstance [--rate 1000] [--channels 1] [--subscribers 10] [--seconds 5]
        [--redis-cluster]

Two real `learnflow serve` processes on the same stores, started by the multi-instance harness
(harness.cluster.Cluster, no workers). Publications go through the hub's publish
path at a fixed total rate (realtime.history.RedisHistory.publish: offset + history append + PUBLISH in
one Lua script, which is all `Hub.publish` does on instance A), round-robin over `--channels` channels,
one publisher per channel (see bench._measure.publish_at). One channel is `admin:analytics`; several are
the `user:<id>` channels of as many bench users, each subscriber holding a connection of its channel's
user (a user's own channel needs no database read to authorize, and has no presence). Subscribers are
spread evenly over the channels. Load-generator process 1 holds the subscribers on instance B (the
figure the target is about); process 0 holds as many on instance A, for comparison. Latency is publish
call → frame received by the subscriber; a subscriber expects the publications of its own channel only.
With `--redis-cluster`, Redis is a local 3-master cluster (harness.redis_cluster) and the relay's
sharded pub/sub goes through the shard owning each channel.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from typing import Any

from app import channels as channel_names
from app.descriptors import raise_open_file_limit
from app.runtime import StoreUrls
from app.stores.redis import create_redis
from bench._harness import (
    MONGO_DATABASE,
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
from bench._loadgen import LoadGenerators
from bench._measure import HUB_CHANNEL, Phase, fragment, measure, ms, settle
from harness.cluster import Cluster
from harness.redis_cluster import RedisCluster
from realtime.history import RedisHistory


def subscriptions(users: list[int], n: int, channels: int) -> tuple[list[str], list[int], str]:
    """The channel names, and for each of an instance's `n` subscribers the user it connects as, and
    the channel pattern it subscribes to (Worker.connect formats it with that user's id)."""
    if channels == 1:
        return [HUB_CHANNEL], users[:n], HUB_CHANNEL
    owners = [users[index % channels] for index in range(n)]
    return [channel_names.user(user_id) for user_id in users[:channels]], owners, "user:{user_id}"


async def bench(args: argparse.Namespace, made: Any) -> tuple[Phase, dict[str, Any]]:
    n = args.subscribers
    users = await ensure_admins(made.urls.database_url, max(2 * n, args.channels))
    names, owners, pattern = subscriptions(users, n, args.channels)
    # Every subscriber has its own session; one channel's user may have several on each instance.
    per_user = -(-n // args.channels)
    specs = [
        {"tokens": mint_tokens(made.jwt_secret, owners), "user_ids": owners}
        if args.channels > 1
        else {"tokens": mint_tokens(made.jwt_secret, users[offset : offset + n])}
        for offset in (0, n)
    ]
    cluster = Cluster(
        made.workdir / "cluster",
        urls=made.urls,
        apis=2,
        workers=0,
        env={
            "ACCESS_TOKEN_TTL_SECONDS": str(TOKEN_TTL_SECONDS),
            "LOG_FORMAT": "console",
            "WS_MAX_CONNECTIONS_PER_USER": str(max(10, per_user)),
            # All subscribers connect from one address per process; connection set-up is not measured.
            "RATE_LIMIT_ENABLED": "false",
        },
        mongo_database=MONGO_DATABASE,
        jwt_secret=made.jwt_secret,
        production=True,
        command=hub_command(),
    ).start()
    first, second = cluster.apis
    loadgens = LoadGenerators(2)
    redis = create_redis(made.urls.redis_url)
    history = RedisHistory(redis, size=200, ttl_seconds=600)

    async def publish(seq: int, sent: float) -> Any:
        return await history.publish(names[seq % len(names)], fragment(seq, sent))

    try:
        common = {"kind": "hub", "host": "127.0.0.1", "path": "/ws", "count": n, "channel": pattern}
        results = await loadgens.connect_each(
            [{**common, "port": api.port, **spec} for api, spec in zip((first, second), specs, strict=True)]
        )
        for where, result in zip(("A", "B"), results, strict=True):
            if result["failed"]:
                print(f"  instance {where}: {result['failed']} connections failed: {result['errors']}")
        connected = {"connected": sum(r["connected"] for r in results), "seconds": 0.0}
        await settle(first)
        await settle(second)
        audience = [[result["channels"].get(name, 0) for name in names] for result in results]
        for where, counts in zip(("A", "B"), audience, strict=True):
            if not all(counts):
                print(f"  instance {where}: {counts.count(0)} of {len(names)} channels without subscribers")
        phase = await measure(
            "hub A+B", [first, second], 2 * n, connected, args.rate, loadgens, publish, args, audience
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
    parser.add_argument("--rate", type=float, default=1000.0, help="publications per second, in all")
    parser.add_argument("--channels", type=int, default=1, help="channels the publications go round")
    parser.add_argument("--subscribers", type=int, default=10, help="subscribers on each instance")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured publishing before")
    parser.add_argument("--drain", type=float, default=5.0, help="max seconds to wait for late frames")
    parser.add_argument("--redis-cluster", action="store_true", help="a local 3-master Redis Cluster")
    parser.add_argument("--profile", help="folder for a py-spy profile of instance A (needs py-spy)")
    args = parser.parse_args()
    if not 1 <= args.channels <= args.subscribers:
        parser.error("--channels must be between 1 and --subscribers (each needs a subscriber per instance)")
    raise_open_file_limit()
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
    made_rate = phase.published_in_window / args.seconds
    rows = []
    for label, index, count in (("B (other instance)", 1, info["b"]), ("A (same instance)", 0, info["a"])):
        values = phase.by_process[index]
        rows.append(
            [
                label,
                count,
                args.channels,
                f"{args.rate:g}",
                f"{made_rate:,.0f}",
                f"{phase.delivered_by_process(index):.1%}",
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
                "channels",
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
    print(
        f"both instances' CPU while publishing: {phase.cpu:.0%}; load generators {phase.loadgen_cpu:.0%}; "
        f"publisher (this process) {phase.publisher_cpu:.0%}"
    )
    other = percentile(phase.by_process[1], 0.99)
    print(
        f"target: p99 on the other instance {ms(other)} ms vs 20 ms at {made_rate:,.0f} publications/s made "
        f"({args.rate:g} asked) over {args.channels} channel{'s' if args.channels > 1 else ''}: "
        + ("met" if other <= 0.020 and made_rate >= 0.99 * args.rate else "NOT met")
    )
    print(f"total {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
