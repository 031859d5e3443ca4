"""Fan-out bench: our hub vs encode/broadcaster vs a raw asyncio floor, one workload, one invocation.

    .venv/bin/python -m bench.fanout [--n 500,2000,5000] [--rate 40] [--seconds 4]

For every server and every N: N subscribers on one channel, held by load-generator processes, and
publications at a fixed rate through Redis, each carrying its send time. See bench/README.md.
`--requests K`: K hub subscribers also send ping requests while receiving (ordering check);
`--slow K`: after the hub's phases, one more phase at the highest rate with K subscribers that stop
reading, then one without them (slow-consumer check: they must be closed 4008, the others' p99 must
stay within 1.2x of the runs without them).
"""

from __future__ import annotations

import argparse
import collections
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from app.descriptors import raise_open_file_limit
from bench._harness import (
    Server,
    Stack,
    ensure_admins,
    machine,
    mint_tokens,
    percentile,
    run,
    stack,
    start_hub,
    start_module,
    start_uvicorn,
    table,
)
from bench._loadgen import LoadGenerators
from bench._measure import (
    BROADCASTER_CHANNEL,
    FLOOR_CHANNEL,
    HUB_CHANNEL,
    Phase,
    Publish,
    fragment,
    measure,
    ms,
    same_frame,
    settle,
)
from realtime.history import RedisHistory

SERVERS = ("hub", "broadcaster", "floor")
SLOW_P99_LIMIT = 1.2  # the others' p99 with stalled subscribers / without them


@dataclass
class SlowCheck:
    stalled: int
    codes: dict[str, int]
    baseline: Phase
    slow: Phase
    after: Phase  # the same again once the stalled subscribers are gone: brackets a drifting machine

    @property
    def base_p99(self) -> float:
        return (self.baseline.p(0.99) + self.after.p(0.99)) / 2

    @property
    def ratio(self) -> float:
        return self.slow.p(0.99) / self.base_p99

    def line(self) -> str:
        closed = self.codes.get("4008", 0)
        verdict = "met" if closed == self.stalled and self.ratio <= SLOW_P99_LIMIT else "MISSED"
        return (
            f"slow consumers ({self.slow.handshake}, N={self.slow.n}, {self.slow.rate:g} pubs/s): "
            f"{self.stalled} stopped reading, closes {self.codes} ({closed}/{self.stalled} got 4008); "
            f"others' p99 without them {ms(self.baseline.p(0.99))} ms before and {ms(self.after.p(0.99))} ms "
            f"after, {ms(self.slow.p(0.99))} ms with them: {self.ratio:.2f}x the mean of before and after "
            f"(target <= {SLOW_P99_LIMIT}x: {verdict})"
        )


async def run_n(
    name: str,
    server: Server,
    n: int,
    loadgens: LoadGenerators,
    publish: Publish,
    tokens: list[str],
    args: argparse.Namespace,
) -> list[Phase]:
    """Connect N subscribers, measure every rate (ascending) on them, disconnect."""
    await settle(server)
    connected = await loadgens.connect(
        kind="hub" if name == "hub" else "raw",
        host="127.0.0.1",
        port=server.port,
        path="/ws",
        count=n,
        tokens=tokens[:n] if name == "hub" else None,
        channel=HUB_CHANNEL if name == "hub" else None,
        concurrency=args.concurrency,
        browser=args.handshake_now == "browser",
        small_buffers=args.slow if name == "hub" else 0,
    )
    print(
        f"  {name:11} N={n:5} {args.handshake_now}: {connected['connected']} subscribers in "
        f"{connected['seconds']:.1f}s "
        f"({connected['connected'] / connected['seconds']:,.0f}/s)",
        flush=True,
    )
    if connected["failed"]:
        print(f"  {connected['failed']} connections failed: {connected['errors']}", flush=True)
        print("  server log tail:\n" + server.log.read_text()[-1500:], flush=True)
    phases = []
    args.requests_now = args.requests if name == "hub" else 0
    try:
        for rate in sorted(args.rates):
            await settle(server, 5.0)
            phases.append(await measure(name, server, n, connected, rate, loadgens, publish, args))
        if name == "hub" and args.slow:
            await settle(server, 5.0)
            share = len(loadgens.pipes)
            stalled = sum(
                await loadgens.call_all([("stall", len(range(i, args.slow, share))) for i in range(share)])
            )
            slow = await measure("hub+slow", server, n, connected, phases[-1].rate, loadgens, publish, args)
            codes: collections.Counter[str] = collections.Counter()
            for answer in await loadgens.broadcast("release", args.drain + 10.0):
                codes.update(answer)
            phases.append(slow)
            await settle(server, 5.0)
            after = await measure("hub-after", server, n, connected, slow.rate, loadgens, publish, args)
            phases.append(after)
            args.slow_checks.append(SlowCheck(stalled, dict(codes), phases[-3], slow, after))
            print("  " + args.slow_checks[-1].line(), flush=True)
    finally:
        await loadgens.broadcast("close_all")
    return phases


async def bench(made: Stack, args: argparse.Namespace) -> list[Phase]:
    ns = [int(n) for n in args.n.split(",")]
    servers = [s for s in args.servers.split(",") if s]
    tokens: list[str] = []
    if "hub" in servers:
        users = await ensure_admins(made.urls.database_url, max(ns))
        tokens = mint_tokens(made.jwt_secret, users)
    loadgens = LoadGenerators(args.processes)
    redis = Redis.from_url(made.urls.redis_url, decode_responses=True)
    pad = "x" * args.payload_bytes
    phases: list[Phase] = []
    try:
        for round_no, name in ((r, name) for r in range(args.rounds) for name in servers):
            args.round_now = round_no
            closer: Callable[[], Awaitable[None]] | None = None
            if name == "hub":
                queue = {"WS_OUTGOING_QUEUE_SIZE": str(args.queue_size)} if args.queue_size else {}
                server = start_hub(made, processes=args.serve_processes, **queue)
                history = RedisHistory(redis, size=200, ttl_seconds=600)

                async def publish(seq: int, sent: float, history: RedisHistory = history) -> Any:
                    # Exactly what Hub.publish does on an instance: append to history + PUBLISH, one script.
                    return await history.publish(HUB_CHANNEL, fragment(seq, sent, pad))

            elif name == "broadcaster":
                from broadcaster import Broadcast

                server = start_uvicorn(
                    made, "broadcaster", "bench.fanout.broadcaster_app:app", BENCH_CHANNEL=BROADCASTER_CHANNEL
                )
                broadcast = Broadcast(made.urls.redis_url)
                await broadcast.connect()

                async def publish(seq: int, sent: float, broadcast: Broadcast = broadcast) -> Any:
                    return await broadcast.publish(BROADCASTER_CHANNEL, same_frame(seq, sent, pad))

                closer = broadcast.disconnect
            else:
                server = start_module(
                    made, "floor", "bench.fanout.floor", "--port", "{port}", "--channel", FLOOR_CHANNEL
                )

                async def publish(seq: int, sent: float) -> Any:
                    return await redis.publish(FLOOR_CHANNEL, same_frame(seq, sent, pad))

            print(f"{name}: pid {server.pid}, port {server.port}", flush=True)
            try:
                for handshake in args.handshakes:
                    args.handshake_now = handshake
                    for n in ns:
                        measured = await run_n(name, server, n, loadgens, publish, tokens, args)
                        for phase in measured:
                            phase.round = round_no
                        phases.extend(measured)
            finally:
                if closer is not None:
                    await closer()
                server.stop()
    finally:
        await loadgens.close()
        await redis.aclose()
    return phases


def report(phases: list[Phase], slow_checks: list[SlowCheck]) -> str:
    rows = []
    for p in phases:
        closes = ",".join(f"{code}x{count}" for code, count in sorted(p.closes.items())) or "-"
        rows.append(
            [
                p.round + 1,
                p.server,
                p.handshake,
                p.n,
                f"{p.rate:g}",
                f"{p.cpu_per_frame * 1e6:.1f}",
                f"{p.delivered_per_second:,.0f}",
                f"{p.delivered_fraction:.1%}",
                ms(p.p(0.5)),
                ms(p.p(0.99)),
                ms(p.p(1.0)),
                ms(percentile(p.spans, 0.5)),
                ms(percentile(p.spans, 0.99)),
                p.disorder,
                f"{p.cpu:.0%}",
                f"{p.loadgen_cpu:.0%}",
                closes,
            ]
        )
    out = [
        table(
            [
                "round",
                "server",
                "handshake",
                "N",
                "pubs/s",
                "server CPU us/frame",
                "delivered msg/s",
                "delivered",
                "p50 ms",
                "p99 ms",
                "max ms",
                "span p50 ms",
                "span p99 ms",
                "out of order",
                "server CPU",
                "loadgen CPU",
                "closes",
            ],
            rows,
        )
    ]
    by: dict[tuple[str, str, int, float], list[Phase]] = collections.defaultdict(list)
    for p in phases:
        if p.server in SERVERS:
            by[(p.server, p.handshake, p.n, p.rate)].append(p)

    def cpu(server: str, key: tuple[str, int, float]) -> float | None:
        """Median CPU per frame over the rounds (one round: its figure)."""
        runs = by.get((server, *key))
        return statistics.median(p.cpu_per_frame for p in runs) if runs else None

    ratios = []
    for key in sorted({(p.handshake, p.n, p.rate) for p in phases}):
        hub = cpu("hub", key)
        if hub is None:
            continue
        row: list[Any] = [key[0], key[1], f"{key[2]:g}", f"{hub * 1e6:.1f}"]
        for other in ("broadcaster", "floor"):
            base = cpu(other, key)
            row.append(f"{base * 1e6:.1f}" if base else "-")
        for other in ("broadcaster", "floor"):
            base = cpu(other, key)
            row.append(f"{hub / base:.2f}x" if base else "-")
        row.append(ms(statistics.median(p.p(0.99) for p in by[("hub", *key)])))
        floors = by.get(("floor", *key))
        row.append(ms(statistics.median(p.p(0.99) for p in floors)) if floors else "-")
        pairs = zip(by[("hub", *key)], by.get(("broadcaster", *key), []), strict=False)
        row.append(" ".join(f"{h.cpu_per_frame / b.cpu_per_frame:.2f}x" for h, b in pairs) or "-")
        ratios.append(row)
    if ratios:
        out += [
            "",
            table(
                [
                    "handshake",
                    "N",
                    "pubs/s",
                    "hub us/frame",
                    "broadcaster us/frame",
                    "floor us/frame",
                    "hub/broadcaster CPU",
                    "hub/floor CPU",
                    "hub p99 ms",
                    "floor p99 ms",
                    "hub/broadcaster by round",
                ],
                ratios,
            ),
            "(server CPU per delivered frame, ours / theirs, medians over the rounds: < 1 means we spend"
            " less; target hub/broadcaster <= 0.33x and hub/floor <= 2x)",
        ]
    out.append("")
    for p in phases:
        violations = p.offset_disorder + p.disorder + p.missing + p.reply_disorder
        out.append(
            f"ordering {p.server} {p.handshake} N={p.n} {p.rate:g} pubs/s: {violations} violations "
            f"(offsets not increasing {p.offset_disorder}, send times {p.disorder}; ping requests "
            f"{p.pings}, replies {p.replies}, missing {p.missing}, out of order {p.reply_disorder}); "
            f"{p.delivered_fraction:.1%} of publications delivered before the drain limit"
        )
    out += [check.line() for check in slow_checks]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__.split("\n")[0])
    parser.add_argument("--n", default="500,2000,5000", help="subscriber counts (comma-separated)")
    parser.add_argument(
        "--rate",
        default="10,40",
        help="publications per second (comma-separated: each is measured on the same N)",
    )
    parser.add_argument("--seconds", type=float, default=4.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured publishing before each phase")
    parser.add_argument("--drain", type=float, default=5.0, help="max seconds to wait for late frames")
    parser.add_argument("--processes", type=int, default=2, help="load-generator processes")
    parser.add_argument(
        "--serve-processes",
        type=int,
        default=1,
        help="api processes of the hub (`learnflow serve --processes`)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=32, help="connection attempts in flight per load-generator process"
    )
    parser.add_argument(
        "--payload-bytes", type=int, default=0, help="padding added to every publication's data"
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=0,
        help="hub subscribers that also send ping requests (ordering check)",
    )
    parser.add_argument("--request-interval", type=float, default=0.1, help="seconds between their requests")
    parser.add_argument(
        "--slow",
        type=int,
        default=0,
        help="hub subscribers that stop reading in an extra phase at the highest rate (slow-consumer check)",
    )
    parser.add_argument(
        "--queue-size", type=int, default=0, help="the hub's outgoing queue bound (default: the hub's own)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run every server this many times, interleaved; the ratios are of the medians",
    )
    parser.add_argument("--profile", help="folder for py-spy profiles of the servers (needs py-spy)")
    parser.add_argument("--servers", default=",".join(SERVERS), help="subset of hub,broadcaster,floor")
    parser.add_argument(
        "--handshake",
        default="plain,browser",
        help="plain (offers no extension) and/or browser (offers permessage-deflate, as browsers do)",
    )
    args = parser.parse_args()
    args.handshakes = [h for h in args.handshake.split(",") if h]
    args.rates = [float(rate) for rate in args.rate.split(",")]
    args.slow_checks = []
    raise_open_file_limit()
    started = time.monotonic()
    with stack() as made:
        phases: list[Phase] = []

        async def go() -> None:
            phases.extend(await bench(made, args))

        run(go())
    print()
    print(
        f"fan-out: rates {args.rate} pubs/s, {args.seconds:g} s measured per phase "
        f"(+{args.warmup:g} s warm-up), {args.processes} load-generator processes; {machine()}"
    )
    print(report(phases, args.slow_checks))
    print(f"total {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
