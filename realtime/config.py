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
    history_size: int = 200
    history_ttl_seconds: int = 600
    presence_ttl_seconds: float = 30.0
    server_ping_seconds: float = 25.0
    # Every Redis key and shard channel of the hub (realtime.keys).
    keys: KeyLayout = DEFAULT_KEYS
    # Redis key prefix of the online-users sets (realtime.online); None turns the bookkeeping off.
    online_key: str | None = DEFAULT_KEYS.online
