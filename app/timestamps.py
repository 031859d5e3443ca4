"""The one way timestamps leave the app: ISO 8601 in UTC ending in `Z` (docs/PRODUCT.md).

Browsers read a timestamp without a zone as local time, so every stored or sent instant names UTC.
"""

from __future__ import annotations

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


def hour_of_epoch_ms(ms: float) -> str:
    """The UTC hour `ms` falls in, as `2026-12-04T05:00:00Z` (the key of an hourly bucket)."""
    moment = datetime.fromtimestamp(ms / 1000, UTC).replace(minute=0, second=0, microsecond=0)
    return iso_z(moment, timespec="seconds")
