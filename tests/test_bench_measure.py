"""The bench's publishing schedule and delivery accounting (bench/_measure.py): publications spread
round-robin over channels reach the asked rate even when one publication takes longer than the gap
between two, keep their order within a channel, and each subscriber is expected to receive its own
channel's publications only."""

from __future__ import annotations

import asyncio
import time

from bench._measure import Phase, expected_pairs, publish_at


def phase(published_in_window: int, connected: int, latencies: int, **extra: object) -> Phase:
    return Phase(
        server="hub",
        n=connected,
        rate=0.0,
        connected=connected,
        connect_seconds=0.0,
        published=published_in_window,
        published_in_window=published_in_window,
        window=1.0,
        in_window=latencies,
        latencies=[0.001] * latencies,
        closes={},
        lost=0,
        cpu=0.0,
        cpu_per_frame=0.0,
        loadgen_cpu=0.0,
        **extra,  # type: ignore[arg-type]
    )


async def test_slow_publications_over_several_channels_keep_the_rate_and_each_channels_order() -> None:
    made: list[tuple[int, float]] = []

    async def publish(seq: int, sent: float) -> None:
        made.append((seq, sent))
        await asyncio.sleep(0.02)  # ten times the gap between two publications

    now = time.time()
    started = time.perf_counter()
    published, per_channel = await publish_at(publish, 500.0, 0.2, now - 10, now + 10, channels=10)
    elapsed = time.perf_counter() - started
    assert published == 100 and per_channel == [10] * 10
    assert sorted(seq for seq, _ in made) == list(range(100))
    assert elapsed < 1.0  # one at a time, they would take 2 s
    for channel in range(10):
        sends = [sent for seq, sent in made if seq % 10 == channel]
        assert sends == sorted(sends)


async def test_one_channel_publishes_one_at_a_time() -> None:
    in_flight = 0
    most = 0

    async def publish(seq: int, sent: float) -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.001)
        in_flight -= 1

    now = time.time()
    published, per_channel = await publish_at(publish, 1000.0, 0.05, now - 10, now + 10)
    assert (published, per_channel, most) == (50, [50], 1)


def test_each_subscriber_expects_its_own_channels_publications_only() -> None:
    # Process 0: 2 subscribers on channel 0, 1 on channel 1; process 1: 1 on each.
    expected = expected_pairs([30, 20], [[2, 1], [1, 1]])
    assert expected == [80, 50]
    everyone_got_theirs = phase(50, 5, 130, expected=sum(expected), expected_by_process=expected)
    everyone_got_theirs.by_process = [[0.0] * 80, [0.0] * 50]
    assert everyone_got_theirs.delivered_fraction == 1.0
    assert [everyone_got_theirs.delivered_by_process(index) for index in (0, 1)] == [1.0, 1.0]


def test_one_channel_expects_every_publication_at_every_subscriber() -> None:
    assert phase(50, 4, 100).delivered_fraction == 0.5
