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


def test_a_first_run_that_took_nearly_all_its_offer_did_not_measure_its_peak() -> None:
    assert telemetry_bench.took_its_offer(10_891.0, 11_000.0)
    assert not telemetry_bench.took_its_offer(10_500.0, 12_000.0)


def test_overload_is_judged_at_twice_the_peak_and_ninety_percent_of_it() -> None:
    assert telemetry_bench.overload_verdict(10_000.0, 20_000.0, 9_000.0, offer_bound=False) == (
        True,
        "90% at 2.00x",
    )
    assert not telemetry_bench.overload_verdict(10_000.0, 20_000.0, 8_990.0, offer_bound=False)[0]
    assert not telemetry_bench.overload_verdict(10_000.0, 19_900.0, 9_500.0, offer_bound=False)[0]


def test_overload_is_not_met_against_a_peak_that_was_only_the_offer() -> None:
    met, measured = telemetry_bench.overload_verdict(9_884.0, 19_768.0, 10_141.0, offer_bound=True)
    assert not met
    assert measured == "103% at 2.00x of the offer, not the peak"
