"""A lesson's duration: the text an author gave ("15:30", "10 min", "1h 20m", "12") and the whole minutes
it stands for when it can be read, or None when it cannot ("about an hour")."""

from __future__ import annotations

import re

MAX_MINUTES = 100_000

_NUMBER = r"\d+(?:[.,]\d+)?"
_CLOCK = re.compile(r"(\d+):([0-5]?\d)(?::([0-5]?\d))?")
_UNITS = {
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
}
_PART = re.compile(rf"({_NUMBER})\s*({'|'.join(sorted(_UNITS, key=len, reverse=True))})\.?(?![a-z])")
_JOINERS = re.compile(r"[\s,]+|\band\b")


def _minutes(seconds: float) -> int | None:
    minutes = int(seconds / 60 + 0.5)  # to the nearest minute, halves up: "15:30" is 16
    return minutes if minutes <= MAX_MINUTES else None


def minutes_from_text(text: str) -> int | None:
    """Whole minutes for a clock ("m:ss", "h:mm:ss"), a bare number (minutes) or numbers with units
    ("1h 30m", "10 min", "90 seconds"); None for anything else."""
    value = text.strip().lower()
    if not value:
        return None
    if re.fullmatch(_NUMBER, value):
        return _minutes(float(value.replace(",", ".")) * 60)
    clock = _CLOCK.fullmatch(value)
    if clock:
        first, second, third = clock.groups()
        if third is None:
            return _minutes(int(first) * 60 + int(second))
        return _minutes(int(first) * 3600 + int(second) * 60 + int(third))
    parts = list(_PART.finditer(value))
    if not parts or _JOINERS.sub("", _PART.sub("", value)):
        return None
    return _minutes(sum(float(p.group(1).replace(",", ".")) * _UNITS[p.group(2)] for p in parts))


def text_and_minutes(value: str | int) -> tuple[str, int | None]:
    """What to store for a duration sent as text (kept as given) or as whole minutes."""
    if isinstance(value, int):
        return f"{value} min", value
    return value, minutes_from_text(value)
