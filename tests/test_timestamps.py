"""The one UTC "Z" timestamp format the app sends and stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from app.timestamps import from_epoch_ms, hour_of_epoch_ms, iso_z, now_iso_z


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
