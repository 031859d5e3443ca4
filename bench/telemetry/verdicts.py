"""The targets judged from the runs' rates: the peak a round is held against, and whether an
overloaded run kept enough of it. Pure functions of the measured figures, tested on their own."""

from __future__ import annotations

import statistics
from typing import Any

# What a run of ours is for: the first run, a peak candidate (`--peak-learners`), the overloaded run.
FIRST, PEAK, OVERLOAD = "first", "peak", "overload"


def took_its_offer(accepted_per_s: float, offered_per_s: float) -> bool:
    """A run that accepted nearly all it was offered measured its offer, not its peak."""
    return accepted_per_s >= 0.97 * offered_per_s


def offered_rate(run: dict[str, Any]) -> float:
    """Heartbeats per second a run's learners offered: one each per interval."""
    return float(run["learners"] / run["interval"])


def peak_of(runs: list[dict[str, Any]]) -> tuple[dict[str, Any], bool]:
    """The run with the best end-to-end rate among those not overloaded (the first run and the peak
    candidates), and whether the peak is only an offer: no run was offered more than it took. With a knee
    (a 2-core box settles lower when saturated than just below it), the best rate comes from a run that took
    its whole offer while a run with more learners settled lower; that rate is the peak to keep 90 % of."""
    best = max(runs, key=end_to_end_rate)
    saturated = any(not took_its_offer(run["accepted_per_s"], offered_rate(run)) for run in runs)
    return best, not saturated


def overload_verdict(peak: float, offered: float, kept: float, *, offer_bound: bool) -> tuple[bool, str]:
    """The graceful-overload target: offered at least twice the peak end-to-end rate, the overloaded run
    kept at least 90 % of it. Not met against a peak that was only an offer (`offer_bound`: no run before
    the overload was offered more than it took): a share of that flatters the overloaded run."""
    met = offered >= 2 * peak and kept >= 0.9 * peak and not offer_bound
    measured = f"{kept / max(peak, 1e-9):.0%} at {offered / max(peak, 1e-9):.2f}x"
    return met, measured + (" of the offer, not the peak" if offer_bound else "")


def overload_rounds(phases: list[dict[str, Any]]) -> list[tuple[list[dict[str, Any]], dict[str, Any]]]:
    """Per overloaded run: the runs of its round its peak is taken from (the first run counts in the first
    round), and the run itself."""
    return [(peak_runs(phases, run["round"]), run) for run in phases if run.get("role") == OVERLOAD]


def peak_runs(phases: list[dict[str, Any]], round_no: int) -> list[dict[str, Any]]:
    """The runs a round's peak is taken from: its peak candidates, and in the first round the first run."""
    return [p for p in phases if p.get("role") in (FIRST, PEAK) and p["round"] == round_no]


def rounds_verdict(rounds: list[tuple[float, float, float, bool]]) -> tuple[bool, str]:
    """The graceful-overload target over `--rounds`, from (peak, offered, kept, offer_bound) per round. Each
    overloaded run is held against the peak of its own round, measured a couple of minutes before it: on a
    box whose speed drifts by more than the target's 10 % within minutes, a pair close in time compares the
    pipeline rather than the box. The
    verdict is the median of the rounds' kept shares; every round must be offered twice its peak, and no
    peak may be only an offer. One round is `overload_verdict`."""
    if len(rounds) == 1:
        peak, offered, kept, offer_bound = rounds[0]
        return overload_verdict(peak, offered, kept, offer_bound=offer_bound)
    shares = [kept / max(peak, 1e-9) for peak, _, kept, _ in rounds]
    middle = statistics.median(shares)
    least_offer = min(offered / max(peak, 1e-9) for peak, offered, _, _ in rounds)
    offer_bound = any(bound for *_, bound in rounds)
    met = middle >= 0.9 and least_offer >= 2 and not offer_bound
    measured = (
        f"median {middle:.0%} of {len(rounds)} rounds ({', '.join(f'{share:.0%}' for share in shares)}) "
        f"at >= {least_offer:.2f}x"
    )
    return met, measured + (" of the offer, not the peak" if offer_bound else "")


def median_refusal_cost(refusals: list[dict[str, Any]]) -> float:
    """Median CPU µs per refusal of the runs that refused something (NaN when none did)."""
    costs = [r["us_per_refusal"] for r in refusals if r["us_per_refusal"] == r["us_per_refusal"]]
    return float(statistics.median(costs)) if costs else float("nan")


def end_to_end_rate(phase: dict[str, Any]) -> float:
    """Heartbeats per second through the whole pipeline: the lesser of accepted and folded."""
    return float(min(phase["accepted_per_s"], phase["folded_per_s"]))
