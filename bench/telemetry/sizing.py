"""How many learners an overloaded run needs, and how many sockets the api may hold for them."""

from __future__ import annotations

import math

from app.descriptors import open_file_limit

# Descriptors of the api not given to learners' sockets: its store connections (one per Redis or MongoDB
# command in flight, up to 40 to PostgreSQL) and the probes' REST calls; the default reserve
# (app/descriptors.py) also covers REST clients this bench does not have.
API_RESERVED_DESCRIPTORS = 256


def api_sockets() -> int:
    """Sockets the api may hold (WS_MAX_CONNECTIONS): it inherits this process's raised limit."""
    return open_file_limit() - API_RESERVED_DESCRIPTORS


def overload_learners(rate: float, interval: float) -> tuple[int, float]:
    """Learners, and the seconds between their heartbeats, that offer at least `rate` heartbeats/s: at
    `interval` while the api has sockets for them; past its socket bound, as many as it holds, each
    sending more often (the interval cut to the millisecond below)."""
    wanted = math.ceil(rate * interval)
    if wanted <= api_sockets():
        return wanted, interval
    count = api_sockets()
    return count, math.floor(count / rate * 1000) / 1000
