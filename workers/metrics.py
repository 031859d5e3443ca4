from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

STREAM_LENGTH = Gauge(
    "learnflow_telemetry_stream_length",
    "Entries in a partition of the telemetry stream (not yet acknowledged)",
    ["partition"],
)
PENDING = Gauge(
    "learnflow_telemetry_pending",
    "Entries of a partition delivered to a worker and not yet acknowledged",
    ["partition"],
)
LAG = Gauge(
    "learnflow_telemetry_consumer_lag", "Entries in a partition no worker has read yet", ["partition"]
)
BATCH_SIZE = Histogram(
    "learnflow_telemetry_batch_size",
    "Heartbeats per folded batch",
    buckets=(1, 10, 50, 100, 250, 500, 1000, 5000),
)
FOLDED = Counter("learnflow_telemetry_folded_total", "Heartbeats folded into the stores")
CLAIMED = Counter("learnflow_telemetry_claimed_total", "Heartbeats claimed from consumers that stopped")

LIVE_PUSHES = Counter("learnflow_live_pushes_total", "Live-view publications made by the workers", ["view"])
LIVE_TICK_SECONDS = Histogram(
    "learnflow_live_tick_seconds",
    "Duration of one live-view tick",
    ["view"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
LIVE_ERRORS = Counter("learnflow_live_errors_total", "Live-view ticks or pushes that failed", ["view"])
LIVE_DIRTY_LEADERBOARDS = Gauge(
    "learnflow_live_dirty_leaderboards", "Courses whose leaderboard changed and awaits a push (or a listener)"
)
