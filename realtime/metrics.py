"""Prometheus metrics of the hub."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

CONNECTIONS = Gauge("learnflow_ws_connections", "Open WebSocket connections")
MESSAGES_IN = Counter("learnflow_ws_messages_in_total", "Frames received from clients")
# Counted once per publication (and per reply), not per socket write.
MESSAGES_OUT = Counter("learnflow_ws_messages_out_total", "Frames sent to clients")
PUBLICATIONS_OUT = Counter("learnflow_ws_publications_total", "Publications fanned out to local subscribers")
SLOW_CONSUMERS = Counter("learnflow_ws_slow_consumers_total", "Connections closed as slow consumers")
RELAY_RECONNECTS = Counter("learnflow_ws_relay_reconnects_total", "Times the bus relay reconnected to Redis")
