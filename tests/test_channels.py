"""Channel names and audiences (app/channels.py): parsing refuses anything that is not one of our channels,
and private events reach only the people they concern."""

from __future__ import annotations

from app import channels


def test_names_round_trip_and_strangers_are_refused() -> None:
    assert channels.parse(channels.discussion(7)) == channels.CourseChannel(7, "discussion")
    assert channels.parse(channels.user(3)) == channels.UserChannel(3)
    assert channels.parse(channels.ADMIN_ANALYTICS) == channels.AdminChannel(channels.ADMIN_ANALYTICS)
    for stranger in ("course:7:chat", "course:x:discussion", "user:", "news", "course:7:discussion:x"):
        assert channels.parse(stranger) is None


def test_typing_belongs_to_discussions_only() -> None:
    assert channels.is_discussion(channels.discussion(7))
    assert not channels.is_discussion(channels.leaderboard(7))
    assert not channels.is_discussion("spoof:discussion")  # the suffix alone is not enough
    assert not channels.is_discussion(channels.user(7))


def test_a_conversation_is_heard_by_its_two_people_only() -> None:
    assert channels.conversation_audience(9, 4) == (4, 9)
    assert channels.conversation_audience(4, 9) == channels.conversation_audience(9, 4)
    assert channels.conversation_audience(5, 5) == (5,)
