"""Redis (or Valkey) client factory: one pooled asyncio client per process, for one server or a cluster.

`redis+cluster://[user:password@]host:port[,host:port…]` (`rediss+cluster://` with TLS) selects Redis
Cluster mode: a `RedisCluster` client that discovers every shard from these seed nodes. Everything else is
one server (`redis://`, `rediss://`, `unix://`). The hub's keys are laid out for both (realtime.keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError

from realtime.redis_client import RedisClient

MAX_CONNECTIONS = 200
CLUSTER_SCHEMES = {"redis+cluster": False, "rediss+cluster": True}


@dataclass(frozen=True)
class ClusterAddress:
    nodes: list[tuple[str, int]]
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @property
    def seeds(self) -> str:
        return ",".join(f"{host}:{port}" for host, port in self.nodes)


def parse_cluster_url(url: str) -> ClusterAddress | None:
    """The seed nodes of a `redis+cluster://` URL; None for any other URL."""
    scheme, separator, rest = url.partition("://")
    if not separator or scheme.lower() not in CLUSTER_SCHEMES:
        return None
    rest = rest.split("/", 1)[0].split("?", 1)[0]
    credentials, at, hosts = rest.rpartition("@")
    username = password = None
    if at:
        user, colon, secret = credentials.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
    nodes = []
    for item in hosts.split(","):
        host, _, port = item.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"cluster seed {item!r} is not host:port")
        nodes.append((host.strip("[]"), int(port)))
    return ClusterAddress(nodes, username, password, CLUSTER_SCHEMES[scheme.lower()])


def cluster_url(node_urls: list[str]) -> str:
    """`redis+cluster://` from a list of node URLs (`redis://[user:pw@]host:port`, the first one's
    credentials and scheme apply to all)."""
    if not node_urls:
        raise ValueError("no cluster node URLs")
    first = node_urls[0]
    scheme, _, rest = first.partition("://")
    credentials, at, _ = rest.split("/", 1)[0].rpartition("@")
    seeds = [url.partition("://")[2].split("/", 1)[0].rpartition("@")[2] for url in node_urls]
    tls = scheme.lower() == "rediss"
    return f"{'rediss' if tls else 'redis'}+cluster://{credentials + '@' if at else ''}{','.join(seeds)}"


def _retry(retries: int) -> Retry:
    # After a restart (or a failover) every pooled connection to that server is dead; retrying on a fresh
    # connection keeps the first command after it from failing.
    return Retry(ExponentialBackoff(cap=0.5, base=0.05), retries)


def create_redis(url: str, *, retries: int = 3) -> RedisClient:
    """`retries=0` for a client whose commands are not idempotent (a command whose reply was lost may
    have run: sending it again could apply it twice)."""
    cluster = parse_cluster_url(url)
    if cluster is not None:
        return RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in cluster.nodes],
            username=cluster.username,
            password=cluster.password,
            ssl=cluster.tls,
            max_connections=MAX_CONNECTIONS,  # per shard
            decode_responses=True,
            health_check_interval=30,
            socket_connect_timeout=5,
            retry=_retry(retries),
            retry_on_error=[ConnectionError, TimeoutError],
        )
    pool = waiting_pool(
        url,
        decode_responses=True,
        health_check_interval=30,
        retry=_retry(retries),
        retry_on_error=[ConnectionError, TimeoutError],
    )
    # from_pool: the client owns the pool, so closing the client closes its connections too.
    return Redis.from_pool(pool)


def waiting_pool(url: str, **options: Any) -> BlockingConnectionPool:
    """Connections to one server for a client that may see bursts: a burst (thousands of sockets
    authenticating at once, a tick of requests rate-limited together) waits for a free connection
    instead of failing; only a wait of more than 5 s is an error."""
    return BlockingConnectionPool.from_url(
        url, max_connections=MAX_CONNECTIONS, timeout=5, socket_connect_timeout=5, **options
    )


async def ping(client: RedisClient) -> None:
    await client.ping()
