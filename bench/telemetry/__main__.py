"""Telemetry bench: heartbeats over WebSockets through one api + one worker, vs one Mongo write per
REST heartbeat, one invocation.

    .venv/bin/python -m bench.telemetry [--learners 2000] [--seconds 30] [--interval 1] [--overload 2]

Simulated learners (each enrolled in a course with lessons, each with a real access token) send
`heartbeat` ops over /ws to ONE `learnflow serve` (RUN_WORKERS_IN_PROCESS=false); ONE `learnflow worker`
folds the stream into MongoDB and PostgreSQL. Then the same learners send the same heartbeats over HTTP
to the baseline (bench/telemetry/baseline_app.py). With `--peak-learners N,...`, runs with those many
fresh learners follow the first (to find the knee, where the rate is best); with `--overload F`, fresh
learners then offer F times the best end-to-end rate of those runs (the peak) to a fresh api and worker:
the rate kept is reported against that peak. See bench/README.md.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from app.descriptors import open_file_limit, raise_open_file_limit
from bench._harness import Stack, machine, run, stack
from bench.telemetry.baseline_run import baseline
from bench.telemetry.ours import ours
from bench.telemetry.population import fresh_learners, populate
from bench.telemetry.report import report
from bench.telemetry.sizing import api_sockets, overload_learners
from bench.telemetry.verdicts import OVERLOAD, PEAK, end_to_end_rate, peak_of, peak_runs

# A worker's flush cycle (the fold window, then the flush's writes) starts short and lengthens over its
# first few flushes until it holds what arrives while it writes: about 11 s a cycle at 10,000 learners,
# 16-18 s at ~19,500 (where 45 s is two and a half cycles rather than three).
# Measured from 5 s after a cold start, a 60 s window saw flushes still growing, each folding what came
# during the shorter cycle before it, and took that transient for the folded rate (89.5 % of the accepted
# rate at 19,660 learners, where after a 45 s warm-up it folded all of it). Three cycles let it settle.
WARMUP_SECONDS = 45.0


async def bench(made: Stack, args: argparse.Namespace) -> list[dict[str, Any]]:
    started = time.monotonic()
    learners = await populate(made, args)
    print(
        f"set-up: {len(learners):,} learners in {args.courses} courses x {args.lessons} lessons, "
        f"{sum(1 for row in learners if row['probe'] is not None)} probes "
        f"({time.monotonic() - started:.1f} s)",
        flush=True,
    )
    phases = [await ours(made, learners, args)]
    for round_no in range(args.rounds):
        for candidate in args.peak_learners:
            more = await fresh_learners(made, args, candidate)
            phases.append(await ours(made, more, args, role=PEAK, round_no=round_no))
        if args.overload:
            best, _ = peak_of(peak_runs(phases, round_no))
            count, interval = overload_learners(args.overload * end_to_end_rate(best), args.interval)
            if interval < args.interval:
                print(
                    f"overload: the api takes {api_sockets():,} sockets (open-file limit "
                    f"{open_file_limit():,}); {count:,} learners every {interval:g} s instead of every "
                    f"{args.interval:g} s",
                    flush=True,
                )
            more = await fresh_learners(made, args, count)
            print(
                f"overload: {args.overload:g}x the peak end-to-end rate, {end_to_end_rate(best):,.0f}/s",
                flush=True,
            )
            phases.append(await ours(made, more, args, role=OVERLOAD, interval=interval, round_no=round_no))
    if args.baseline != "none":
        phases.append(await baseline(made, learners, args))
    return phases


def learner_counts(text: str) -> list[int]:
    """`--peak-learners`: comma-separated positive learner counts."""
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of learner counts: {text!r}") from exc
    if any(count <= 0 for count in counts):
        raise argparse.ArgumentTypeError(f"learner counts must be positive: {text!r}")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.telemetry", description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=2000, help="simulated learners (one connection each)")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per pipeline")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between a learner's heartbeats")
    parser.add_argument(
        "--warmup",
        type=float,
        default=WARMUP_SECONDS,
        help="unmeasured sending before the window (default: three flush cycles at load; bench/README.md)",
    )
    parser.add_argument(
        "--retry-after",
        type=float,
        default=1.0,
        help="a learner refused with `overloaded` sends the same heartbeat again 1-1.5x this many seconds "
        "later, as the protocol asks (0: at once)",
    )
    parser.add_argument("--drain", type=float, default=90.0, help="max seconds to wait for the folds")
    parser.add_argument("--courses", type=int, default=10)
    parser.add_argument("--lessons", type=int, default=5)
    parser.add_argument(
        "--probes", type=int, default=100, help="learners whose heartbeats are timed to MongoDB"
    )
    parser.add_argument("--poll", type=float, default=0.5, help="probe poll period (the lag's resolution)")
    parser.add_argument("--profile", help="folder for py-spy profiles (raw collapsed stacks) of the servers")
    parser.add_argument(
        "--refusal-seconds",
        type=float,
        default=2.5,
        help="measured seconds of the refusal-cost phase (at most 3; 0 skips it; needs > 4,000 learners)",
    )
    parser.add_argument(
        "--overload",
        type=float,
        default=0.0,
        help="after ours and the peak candidates, offer this many times the best end-to-end rate they "
        "reached (e.g. 2), from fresh learners to a fresh api and worker (0: skip)",
    )
    parser.add_argument(
        "--peak-learners",
        type=learner_counts,
        default=[],
        metavar="N[,N...]",
        help="after the first run, a run with each of these many fresh learners (e.g. just below the knee); "
        "the overload is sized from, and judged against, the best end-to-end rate of all of them",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="repeat the peak candidates and the overloaded run this many times, each overloaded run judged "
        "against its own round's peak, the target on the median (needs --peak-learners and --overload)",
    )
    parser.add_argument("--processes", type=int, default=2, help="load-generator processes")
    parser.add_argument(
        "--serve-processes", type=int, default=1, help="api processes (`learnflow serve --processes`)"
    )
    parser.add_argument(
        "--baseline", choices=("async", "sync", "none"), default="async", help="baseline PyMongo driver"
    )
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds: at least 1")
    if args.rounds > 1 and not (args.peak_learners and args.overload):
        parser.error("--rounds above 1 needs --peak-learners and --overload: each round pairs the two")
    if args.refusal_seconds > 3:
        parser.error("--refusal-seconds: at most 3 (the pause must end before a 5 s socket timeout)")
    raise_open_file_limit()
    started = time.monotonic()
    with stack() as made:
        phases: list[dict[str, Any]] = []

        async def go() -> None:
            phases.extend(await bench(made, args))

        run(go())
    text, ok = report(phases, args)
    print()
    print(
        f"telemetry: {args.learners:,} learners, one heartbeat each every {args.interval:g} s "
        f"(seconds_spent {max(1, min(60, round(args.interval)))}), {args.seconds:g} s measured "
        f"(+{args.warmup:g} s warm-up), {args.processes} load-generator processes; {machine()}"
    )
    print(text)
    print(f"total {time.monotonic() - started:.0f} s")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
