"""Reading a lesson's free-text duration as whole minutes (app/syllabus/duration.py)."""

from __future__ import annotations

import pytest

from app.syllabus.duration import minutes_from_text, text_and_minutes


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("15:30", 16),  # m:ss, to the nearest minute, halves up
        ("0:29", 0),
        ("1:05:00", 65),  # h:mm:ss
        ("12", 12),  # a bare number is minutes
        ("1.5", 2),
        ("2,5", 3),
        ("10 min", 10),
        ("10 mins", 10),
        ("10min.", 10),
        ("10m", 10),
        ("90 seconds", 2),
        ("1 hour", 60),
        ("1.5 hours", 90),
        ("1h 30m", 90),
        ("2 hrs, 15 mins", 135),
        ("1 hour and 5 minutes", 65),
        ("  20 MIN  ", 20),
    ],
)
def test_readable_durations(text: str, minutes: int) -> None:
    assert minutes_from_text(text) == minutes


@pytest.mark.parametrize(
    "text", ["", "   ", "about an hour", "10 minx", "min", "1:75", "15:30 and change", "99999999", "-5"]
)
def test_unreadable_durations_have_no_minutes(text: str) -> None:
    assert minutes_from_text(text) is None


def test_text_is_kept_as_given_and_whole_minutes_become_text() -> None:
    assert text_and_minutes("15:30") == ("15:30", 16)
    assert text_and_minutes("whenever") == ("whenever", None)
    assert text_and_minutes(12) == ("12 min", 12)
    assert text_and_minutes(0) == ("0 min", 0)
