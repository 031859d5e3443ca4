"""File descriptors: the process's open-file limit, and how many client sockets the hub may hold.

Every client socket is a descriptor, and so is every connection to a store. A process at its limit can
neither accept a socket nor open a store connection, so with every descriptor held by idle WebSockets
each request that needs a fresh store connection fails (a connection storm of 20,000 learners against a
limit of 20,000 turned every heartbeat into `store_unavailable` for as long as the sockets stayed). The
hub therefore serves at most `socket_budget()` sockets and leaves the rest to the stores.
"""

from __future__ import annotations

import resource

# Descriptors never given to WebSockets: the store pools (at most PostgreSQL 40 connections, MongoDB
# 100, Redis 200 per client; an idle api held 19 descriptors in all), log files, the embedded servers'
# pipes, and REST clients' keep-alive connections, which no bound of ours covers.
RESERVED = 1024


def open_file_limit() -> int:
    """The soft limit on open files in force now."""
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def raise_open_file_limit() -> int:
    """Raise the soft limit on open files to the hard one (what an unprivileged process may do); returns
    the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):  # an unlimited hard limit the kernel will not grant as soft
            return soft
    return open_file_limit()


def socket_budget(limit: int | None = None) -> int | None:
    """Sockets the hub may hold under an open-file `limit` (the current soft limit when None): the limit
    less RESERVED, or less a quarter of it when that is smaller. None when there is no limit."""
    if limit is None:
        limit = open_file_limit()
    if limit == resource.RLIM_INFINITY:
        return None
    return max(1, limit - min(RESERVED, limit // 4))
