"""bench.telemetry's overloaded run offers what it was asked to, even past the api's socket bound."""

from __future__ import annotations

import pytest

import bench.telemetry.__main__ as telemetry_bench


@pytest.fixture
def sockets(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(telemetry_bench, "api_sockets", lambda: 19_744)
    return 19_744


def test_under_the_socket_bound_learners_keep_the_interval(sockets: int) -> None:
    count, interval = telemetry_bench.overload_learners(2 * 9_000.4, 1.0)
    assert (count, interval) == (18_001, 1.0)  # rounded up: never offers less than asked
    assert count / interval >= 2 * 9_000.4


def test_past_the_socket_bound_the_learners_send_more_often(sockets: int) -> None:
    rate = 2 * 9_884.0
    count, interval = telemetry_bench.overload_learners(rate, 1.0)
    assert count == sockets
    assert interval == 0.998  # 19,744 / 19,768 = 0.99879 s, cut to the millisecond below
    assert count / interval >= rate


def test_a_longer_interval_is_shortened_the_same_way(sockets: int) -> None:
    count, interval = telemetry_bench.overload_learners(10_000.0, 2.5)
    assert count == sockets and interval == 1.974
    assert count / interval >= 10_000.0
