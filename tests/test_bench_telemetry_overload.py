"""bench.telemetry's overloaded run offers what it was asked to, even past the api's socket bound."""

from __future__ import annotations

import argparse

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


def _run(learners: int, accepted: float, folded: float, interval: float = 1.0) -> dict[str, object]:
    return {"learners": learners, "interval": interval, "accepted_per_s": accepted, "folded_per_s": folded}


def test_the_peak_is_the_best_run_below_the_knee_not_the_saturated_first_run() -> None:
    # Measured on one box: 12,000 learners settled at 7,388/s; 9,000 took their whole offer at 8,883/s.
    first, below = _run(12_000, 7_814.0, 7_388.0), _run(9_000, 9_000.0, 8_883.0)
    best, offer_bound = telemetry_bench.peak_of([first, below])
    assert best is below and not offer_bound
    peak = telemetry_bench.end_to_end_rate(best)
    met, measured = telemetry_bench.overload_verdict(peak, 2 * peak, 6_880.0, offer_bound=offer_bound)
    assert not met and measured == "77% at 2.00x"  # 93 % of the first run alone


def test_the_peak_is_only_an_offer_when_no_run_was_offered_more_than_it_took() -> None:
    runs = [_run(8_000, 8_000.0, 7_950.0), _run(6_000, 6_000.0, 5_990.0)]
    best, offer_bound = telemetry_bench.peak_of(runs)
    assert best is runs[0] and offer_bound


def test_the_end_to_end_rate_of_a_run_is_the_lesser_of_accepted_and_folded() -> None:
    best, _ = telemetry_bench.peak_of([_run(12_000, 9_500.0, 7_000.0), _run(10_000, 8_000.0, 8_100.0)])
    assert best["learners"] == 10_000  # 8,000 end to end beats 7,000


def test_peak_learners_are_a_comma_separated_list_of_positive_counts() -> None:
    assert telemetry_bench.learner_counts("9000,10500") == [9_000, 10_500]
    assert telemetry_bench.learner_counts("9000") == [9_000]
    for bad in ("9k", "9000,-1", "0"):
        with pytest.raises(argparse.ArgumentTypeError):
            telemetry_bench.learner_counts(bad)
