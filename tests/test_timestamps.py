"""The one UTC "Z" timestamp format the app sends and stores."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

from app.timestamps import epoch_ms_to_iso_ms, from_epoch_ms, hour_of_epoch_ms, iso_z, now_iso_z


def test_an_aware_moment_is_written_in_utc_with_z() -> None:
    paris = timezone(timedelta(hours=1))
    assert iso_z(datetime(2026, 12, 4, 6, 15, tzinfo=paris)) == "2026-12-04T05:15:00Z"


def test_a_naive_moment_is_read_as_utc_never_as_local_time() -> None:
    assert iso_z(datetime(2026, 12, 4, 5, 15, 0, 250000)) == "2026-12-04T05:15:00.250000Z"


def test_precision_can_be_chosen() -> None:
    moment = datetime(2026, 12, 4, 5, 15, 7, 123456, tzinfo=UTC)
    assert iso_z(moment, timespec="seconds") == "2026-12-04T05:15:07Z"
    assert iso_z(moment, timespec="milliseconds") == "2026-12-04T05:15:07.123Z"


def test_epoch_milliseconds_and_now() -> None:
    assert from_epoch_ms(1_796_361_300_000, timespec="seconds") == "2026-12-04T05:15:00Z"
    assert now_iso_z().endswith("Z") and "+" not in now_iso_z()


def test_the_hour_of_an_instant_is_its_utc_hour() -> None:
    moment = datetime(2026, 12, 4, 5, 59, 59, 999000, tzinfo=UTC)
    assert hour_of_epoch_ms(moment.timestamp() * 1000) == "2026-12-04T05:00:00Z"
    assert hour_of_epoch_ms(datetime(2026, 12, 4, 6, tzinfo=UTC).timestamp() * 1000) == "2026-12-04T06:00:00Z"


def test_epoch_milliseconds_to_milliseconds_is_exact_and_cached_per_second_only() -> None:
    """Instants on either side of second, hour, day and year boundaries, and random ones: the same text
    as exact arithmetic gives, however many share a second."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    edges = [
        int(datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp() * 1000) + d
        for d in (-1, 0, 999, 1000, 1001)
    ]
    rng = random.Random(7)
    samples = edges + [rng.randrange(0, 4_102_444_800_000) for _ in range(2000)]
    for ms in samples:
        expected = iso_z(epoch + timedelta(milliseconds=ms), timespec="milliseconds")
        assert epoch_ms_to_iso_ms(ms) == expected, ms
        assert hour_of_epoch_ms(ms) == iso_z(
            (epoch + timedelta(milliseconds=ms)).replace(minute=0, second=0, microsecond=0),
            timespec="seconds",
        )
    assert epoch_ms_to_iso_ms(1_796_361_307_005) == "2026-12-04T05:15:07.005Z"
