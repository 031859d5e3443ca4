"""Measuring a phase: publish at a fixed rate, count and time what the load generators receive."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._harness import Server, cpu_seconds, percentile
from bench._loadgen import LoadGenerators
from realtime.protocol import publication_fragment, publication_frame

HUB_CHANNEL = "admin:analytics"  # admins may subscribe; no presence, so joins cost nothing
BROADCASTER_CHANNEL = "bench:fanout"
FLOOR_CHANNEL = "bench:floor"

Publish = Callable[[int, float], Awaitable[Any]]


def fragment(seq: int, sent: float, pad: str = "") -> str:
    """`pad` makes the frame larger (e.g. to fill a stalled client's buffers quickly)."""
    # `bts` last: the load generator reads the send time up to the next `}`.
    data: dict[str, Any] = {"seq": seq, "pad": pad, "bts": sent} if pad else {"seq": seq, "bts": sent}
    return publication_fragment("bench", data)


def same_frame(seq: int, sent: float, pad: str = "") -> str:
    """The bytes our hub would deliver, for the baselines (offset = seq, a fixed epoch)."""
    return publication_frame(HUB_CHANNEL, seq + 1, "bench0000000", fragment(seq, sent, pad))


@dataclass
class Phase:
    server: str
    n: int
    rate: float
    connected: int
    connect_seconds: float
    published: int
    published_in_window: int
    window: float
    in_window: int
    latencies: list[float]
    closes: dict[int, int]
    lost: int
    cpu: float  # server CPU seconds per wall second while publishing
    cpu_per_frame: float  # server CPU seconds per frame received while publishing
    loadgen_cpu: float  # load-generator CPU seconds per wall second (all processes)
    by_process: list[list[float]] | None = None  # latencies seen by each load-generator process
    spans: list[float] = field(default_factory=list)  # per publication: first to last subscriber, sorted
    disorder: int = 0  # frames that arrived after a later publication on the same socket
    handshake: str = "plain"
    offset_disorder: int = 0  # frames whose offset was not above the previous one on the same socket
    pings: int = 0  # ping requests sent by subscribers during the phase
    replies: int = 0  # their replies received
    missing: int = 0  # requests without a reply once the phase drained
    reply_disorder: int = 0  # replies that arrived before an earlier request's reply
    # (publication, subscriber) pairs expected for the publications in the window: every subscriber
    # hears every publication of its own channel only. None: everyone is on the one channel.
    expected: int | None = None
    expected_by_process: list[int] | None = None  # the same, for each load-generator process
    publisher_cpu: float = 0.0  # the bench process's CPU seconds per wall second while publishing
    round: int = 0  # which repetition of the whole run (bench.fanout --rounds)

    @property
    def delivered_per_second(self) -> float:
        return self.in_window / self.window

    @property
    def delivered_fraction(self) -> float:
        expected = self.published_in_window * self.connected if self.expected is None else self.expected
        return len(self.latencies) / expected if expected else float("nan")

    def delivered_by_process(self, index: int) -> float:
        assert self.by_process is not None and self.expected_by_process is not None
        expected = self.expected_by_process[index]
        return len(self.by_process[index]) / expected if expected else float("nan")

    def p(self, fraction: float) -> float:
        return percentile(self.latencies, fraction)


async def publish_at(
    publish: Publish, rate: float, seconds: float, m0: float, m1: float, channels: int = 1
) -> tuple[int, list[int]]:
    """Publish at `rate`/s in all for `seconds`, publication `seq` on channel `seq % channels`; returns
    (published, per channel: publications with a send time in [m0, m1]).

    One publisher per channel: a channel's publications are made one after the other, in order (so
    their send times order them, which the load generators check), while channels publish concurrently,
    as an app's many requests do. A publisher that falls behind sends its next publication at once;
    the send time is taken when the publication is actually made."""
    total = int(rate * seconds)
    start = time.perf_counter()
    in_window = [0] * channels

    async def publisher(channel: int) -> None:
        for seq in range(channel, total, channels):
            delay = start + seq / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sent = time.time()
            await publish(seq, sent)
            if m0 <= sent <= m1:
                in_window[channel] += 1

    await asyncio.gather(*(publisher(channel) for channel in range(channels)))
    return total, in_window


def expected_pairs(per_channel: Sequence[int], audience: Sequence[Sequence[int]]) -> list[int]:
    """For each load-generator process, the frames its subscribers should receive: each channel's
    publications times that process's subscribers on the channel."""
    return [sum(pubs * count for pubs, count in zip(per_channel, counts, strict=True)) for counts in audience]


async def received(loadgens: LoadGenerators) -> int:
    return sum(p["frames"] for p in await loadgens.broadcast("peek"))


async def drain(loadgens: LoadGenerators, limit: float) -> None:
    """Wait until no more bench frames or request replies arrive (quiet for 0.5 s), at most `limit`
    seconds."""
    deadline = time.monotonic() + limit
    last = -1
    quiet = 0
    while time.monotonic() < deadline:
        frames = sum(p["frames"] + p.get("replies", 0) for p in await loadgens.broadcast("peek"))
        quiet = quiet + 1 if frames == last else 0
        if quiet >= 2:
            return
        last = frames
        await asyncio.sleep(0.25)


async def settle(server: Server, limit: float = 15.0) -> None:
    """Wait until the server is idle (under 10% CPU over 0.5 s), at most `limit` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = server.cpu_seconds()
        await asyncio.sleep(0.5)
        if server.cpu_seconds() - before < 0.05:
            return


async def measure(
    name: str,
    server: Server | Sequence[Server],
    n: int,
    connected: dict[str, Any],
    rate: float,
    loadgens: LoadGenerators,
    publish: Publish,
    args: argparse.Namespace,
    audience: Sequence[Sequence[int]] | None = None,
) -> Phase:
    """`publish(seq, sent)` makes publication `seq` on channel `seq % channels`, where `audience[p][c]`
    subscribers of load-generator process p listen on channel c (default: one channel, everyone on it)."""
    channels = len(audience[0]) if audience else 1
    servers = [server] if isinstance(server, Server) else list(server)
    t0 = time.time() + 0.2
    m0, m1 = t0 + args.warmup, t0 + args.warmup + args.seconds
    await loadgens.broadcast("measure", (m0, m1))
    requests = getattr(args, "requests_now", 0)
    if requests:
        share = len(loadgens.pipes)
        await loadgens.call_all(
            [
                ("requests", (len(range(index, requests, share)), args.request_interval, m1))
                for index in range(share)
            ]
        )
    await asyncio.sleep(max(0.0, t0 - time.time()))
    profiler = None
    if args.profile:
        # py-spy samples the server while the measured window runs (collapsed stacks, for flamegraph.pl
        # or speedscope). It costs the server little but it does take CPU on a small machine.
        # One file per phase: handshakes and rounds (bench.fanout) do not overwrite each other.
        variant = f"-{getattr(args, 'handshake_now', 'plain')}-round{getattr(args, 'round_now', 0) + 1}"
        out = Path(args.profile) / f"{name}-n{n}-r{rate:g}{variant}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        profiler = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("py-spy")),
                "record",
                "--pid",
                str(servers[0].pid),
                "--format",
                "raw",
                "--rate",
                "200",
                "--duration",
                str(int(args.warmup + args.seconds)),
                "--output",
                str(out),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    cpu0, wall0, gen0 = sum(s.cpu_seconds() for s in servers), time.monotonic(), cpu_seconds(loadgens.pids)
    frames0 = await received(loadgens)
    own0 = time.process_time()
    published, per_channel = await publish_at(publish, rate, args.warmup + args.seconds, m0, m1, channels)
    in_window = sum(per_channel)
    expected_by_process = expected_pairs(per_channel, audience) if audience else None
    publisher_cpu = time.process_time() - own0
    if profiler is not None:
        await asyncio.get_running_loop().run_in_executor(None, profiler.wait)
    frames1 = await received(loadgens)
    wall = time.monotonic() - wall0
    cpu = (sum(s.cpu_seconds() for s in servers) - cpu0) / wall
    loadgen_cpu = (cpu_seconds(loadgens.pids) - gen0) / wall
    await drain(loadgens, args.drain)
    got = await loadgens.collect()
    phase = Phase(
        server=name,
        n=n,
        rate=rate,
        connected=connected["connected"],
        connect_seconds=connected["seconds"],
        published=published,
        published_in_window=in_window,
        window=args.seconds,
        in_window=got["in_window"],
        latencies=sorted(got["latencies"]),
        closes=got["closes"],
        lost=got["lost"],
        cpu=cpu,
        cpu_per_frame=cpu * wall / max(1, frames1 - frames0),
        loadgen_cpu=loadgen_cpu,
        by_process=[sorted(values) for values in got["by_process"]],
        spans=got["spans"],
        disorder=got["disorder"],
        handshake=getattr(args, "handshake_now", "plain"),
        offset_disorder=got["offset_disorder"],
        pings=got["pings"],
        replies=got["replies"],
        missing=got["missing"],
        reply_disorder=got["reply_disorder"],
        expected=sum(expected_by_process) if expected_by_process is not None else None,
        expected_by_process=expected_by_process,
        publisher_cpu=publisher_cpu / wall,
    )
    spread = sorted(got["per_client"].items())
    print(
        f"  {name:11} N={n:5} rate={rate:g}: delivered {phase.delivered_per_second:,.0f}/s "
        f"({phase.delivered_fraction:.1%} of {in_window} pubs x {phase.connected} on {channels} "
        f"channel{'s' if channels > 1 else ''}); "
        f"p50 {ms(phase.p(0.5))} p99 {ms(phase.p(0.99))} max {ms(phase.p(1.0))} ms; "
        f"fan-out span p50 {ms(percentile(phase.spans, 0.5))} max {ms(percentile(phase.spans, 1.0))} ms; "
        f"out of order {phase.disorder} (offsets {phase.offset_disorder}); "
        f"pings {phase.pings} replies {phase.replies} missing {phase.missing}; server CPU {phase.cpu:.0%} "
        f"({phase.cpu_per_frame * 1e6:.1f} us/msg); load generators {phase.loadgen_cpu:.0%}; "
        f"closes {phase.closes}; frames per subscriber (count, subscribers) {spread[:3]}..{spread[-1:]}",
        flush=True,
    )
    return phase


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"
