"""The one way timestamps leave the app: ISO 8601 in UTC ending in `Z` (docs/PRODUCT.md).

Browsers read a timestamp without a zone as local time, so every stored or sent instant names UTC.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Literal

Timespec = Literal["auto", "seconds", "milliseconds", "microseconds"]


def iso_z(moment: datetime, *, timespec: Timespec = "auto") -> str:
    """`moment` in UTC as `2026-12-04T05:15:00Z`; a naive `moment` is taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def now_iso_z(*, timespec: Timespec = "auto") -> str:
    return iso_z(datetime.now(UTC), timespec=timespec)


def from_epoch_ms(ms: float, *, timespec: Timespec = "auto") -> str:
    return iso_z(datetime.fromtimestamp(ms / 1000, UTC), timespec=timespec)


def epoch_ms_to_iso_ms(ms: int) -> str:
    """`ms` as `2026-12-04T05:15:07.123Z`, exactly (no float rounding); what `from_epoch_ms(ms,
    timespec="milliseconds")` gives, at a fraction of its cost for instants of the same second (a fold
    formats tens of thousands of them a flush)."""
    second, millis = divmod(int(ms), 1000)
    return f"{_second_of_epoch(second)}.{millis:03d}Z"


def hour_of_epoch_ms(ms: float) -> str:
    """The UTC hour `ms` falls in, as `2026-12-04T05:00:00Z` (the key of an hourly bucket)."""
    return _hour_of_epoch(int(ms // 3_600_000))


@functools.lru_cache(maxsize=4096)
def _second_of_epoch(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")


@functools.lru_cache(maxsize=64)
def _hour_of_epoch(hour: int) -> str:
    return iso_z(datetime.fromtimestamp(hour * 3600, UTC), timespec="seconds")
