from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

STREAM_LENGTH = Gauge(
    "learnflow_telemetry_stream_length", "Entries in the telemetry stream (not yet acknowledged)"
)
PENDING = Gauge("learnflow_telemetry_pending", "Entries delivered to a worker and not yet acknowledged")
LAG = Gauge("learnflow_telemetry_consumer_lag", "Entries in the stream no worker has read yet")
BATCH_SIZE = Histogram(
    "learnflow_telemetry_batch_size",
    "Heartbeats per folded batch",
    buckets=(1, 10, 50, 100, 250, 500, 1000, 5000),
)
FOLDED = Counter("learnflow_telemetry_folded_total", "Heartbeats folded into the stores")
CLAIMED = Counter("learnflow_telemetry_claimed_total", "Entries claimed from consumers that stopped")
