from __future__ import annotations

from dataclasses import dataclass

from realtime.keys import DEFAULT_KEYS, KeyLayout


@dataclass(frozen=True)
class HubConfig:
    auth_timeout_seconds: float = 5.0
    max_frame_bytes: int = 64 * 1024
    outgoing_queue_size: int = 256
    frames_per_second: float = 20.0
    frame_burst: int = 40
    max_subscriptions: int = 100
    max_connections_per_user: int = 10
    # Sockets this hub serves at once (None: no bound). Past it a new one is refused before its upgrade
    # (HTTP 503 with Retry-After), so the process keeps file descriptors for its own store connections.
    max_connections: int | None = None
    history_size: int = 200
    history_ttl_seconds: int = 600
    presence_ttl_seconds: float = 30.0
    server_ping_seconds: float = 25.0
    # Every Redis key and shard channel of the hub (realtime.keys), under one prefix (`lf` by default):
    # hubs with different prefixes share a Redis without seeing each other.
    keys: KeyLayout = DEFAULT_KEYS
    # Keep the online-users sets (realtime.online); False turns the bookkeeping off.
    track_online: bool = True
    # Prometheus metric names start with this (realtime.metrics): `<namespace>_ws_connections`, ...
    metrics_namespace: str = "realtime"

    @property
    def online_key(self) -> str | None:
        """Where the online-users sets live (under the prefix), or None when they are not kept."""
        return self.keys.online if self.track_online else None
