"""Prometheus metrics of the HTTP layer; other packages register their own beside these."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter("learnflow_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "learnflow_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
