"""Prometheus metrics of the hub, named under the namespace its configuration gives
(`<namespace>_ws_connections`, ...), so two hubs in one process, or a hub in another product, keep
their own series."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from prometheus_client import Counter, Gauge


@dataclass(frozen=True)
class HubMetrics:
    connections: Gauge
    messages_in: Counter
    # Counted once per publication (and per reply), not per socket write.
    messages_out: Counter
    publications_out: Counter
    slow_consumers: Counter
    relay_reconnects: Counter
    refused_full: Counter


@functools.cache
def hub_metrics(namespace: str) -> HubMetrics:
    """The metrics of `namespace`, registered once per process (a registry refuses a name twice)."""
    return HubMetrics(
        connections=Gauge(f"{namespace}_ws_connections", "Open WebSocket connections"),
        messages_in=Counter(f"{namespace}_ws_messages_in_total", "Frames received from clients"),
        messages_out=Counter(f"{namespace}_ws_messages_out_total", "Frames sent to clients"),
        publications_out=Counter(
            f"{namespace}_ws_publications_total", "Publications fanned out to local subscribers"
        ),
        slow_consumers=Counter(
            f"{namespace}_ws_slow_consumers_total", "Connections closed as slow consumers"
        ),
        relay_reconnects=Counter(
            f"{namespace}_ws_relay_reconnects_total", "Times the bus relay reconnected to Redis"
        ),
        refused_full=Counter(
            f"{namespace}_ws_refused_full_total", "Sockets refused before their upgrade: the hub was full"
        ),
    )
