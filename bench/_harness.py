"""What every bench shares: store servers, `learnflow serve` instances, bench users and tokens, tables.

Stores: BENCH_DATABASE_URL, BENCH_REDIS_URL and BENCH_MONGO_URL when all three are set (use scratch
servers: the bench creates users and publishes on `admin:analytics`), otherwise embedded servers
(app.stores.embedded.EmbeddedServers) started in a temporary folder and stopped at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import uuid
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from app.runtime import StoreUrls
from app.stores.embedded import EmbeddedServers
from harness.cluster import ManagedProcess

ROOT = Path(__file__).resolve().parent.parent
TOKEN_TTL_SECONDS = 6 * 3600
BENCH_EMAIL = "bench-{:05d}@bench.example.com"


@dataclass
class Stack:
    urls: StoreUrls
    workdir: Path
    jwt_secret: str
    embedded: EmbeddedServers | None

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


@contextlib.contextmanager
def stack() -> Iterator[Stack]:
    exit_on_sigterm()
    workdir = Path(tempfile.mkdtemp(prefix="learnflow-bench-"))
    names = ("BENCH_DATABASE_URL", "BENCH_REDIS_URL", "BENCH_MONGO_URL")
    given = [os.environ.get(name) for name in names]
    embedded: EmbeddedServers | None = None
    if all(given):
        urls = StoreUrls(*(str(url) for url in given))
        print("stores: BENCH_*_URL from the environment", flush=True)
    else:
        print("stores: embedded servers in", workdir, flush=True)
        embedded = EmbeddedServers(workdir / "servers")
        started = embedded.start(need_postgres=True, need_redis=True, need_mongo=True)
        urls = StoreUrls(started["database_url"], started["redis_url"], started["mongo_url"])
    made = Stack(urls, workdir, secrets.token_urlsafe(48), embedded)
    try:
        from app.stores.migrate import upgrade

        upgrade(urls.database_url)
        yield made
    finally:
        made.stop()


# -- users and tokens ---------------------------------------------------------------------------------


async def ensure_admins(database_url: str, count: int) -> list[int]:
    """`count` active admin users (created through the app's store layer when missing); their ids."""
    from sqlalchemy import select

    from app.stores.models import User
    from app.stores.sql import Database

    emails = [BENCH_EMAIL.format(i) for i in range(count)]
    database = Database(database_url)
    try:
        async with database.read() as tx:
            rows = (await tx.execute(select(User.email, User.id).where(User.email.like("bench-%")))).all()
        existing = {email: user_id for email, user_id in rows}
        missing = [email for email in emails if email not in existing]
        for start in range(0, len(missing), 5000):
            async with database.transaction() as tx:
                users = [
                    User(
                        email=email,
                        first_name="Bench",
                        last_name=email[6:11],
                        role="admin",
                        is_active=True,
                        is_blocked=False,
                    )
                    for email in missing[start : start + 5000]
                ]
                tx.add_all(users)
                await tx.flush()
                existing.update({user.email: user.id for user in users})
        async with database.transaction() as tx:
            # Users left over from an earlier run may have been changed; make them plain active admins.
            await tx.execute(
                User.__table__.update()
                .where(User.email.like("bench-%"))
                .values(role="admin", is_active=True, is_blocked=False)
            )
    finally:
        await database.close()
    return [existing[email] for email in emails]


def mint_tokens(secret: str, user_ids: Sequence[int]) -> list[str]:
    from app.security.tokens import TokenCodec

    codec = TokenCodec(secret, TOKEN_TTL_SECONDS)
    return [codec.issue_access(user_id=uid, role="admin", session_id=uuid.uuid4().hex) for uid in user_ids]


# -- server processes ---------------------------------------------------------------------------------


# A server process of the bench is a harness.cluster.ManagedProcess: pid, port, log, rss(), cpu_seconds(),
# stop() (SIGTERM, then SIGKILL), and it never outlives the bench (atexit, parent-death signal).
Server = ManagedProcess


def cpu_seconds(pids: Sequence[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
    return total


def _spawn(name: str, argv: list[str], env: dict[str, str], workdir: Path, health: str | None) -> Server:
    ready = f"http:{health}" if health else "port"
    server = ManagedProcess(name, argv, {**os.environ, **env}, workdir, ready=ready)
    try:
        server.start(timeout=60)
    except BaseException:
        server.stop()
        raise
    return server


def hub_command() -> list[str]:
    """`python -m app.cli`, or BENCH_HUB_COMMAND (e.g. a launcher that patches the hub to try a change)."""
    return os.environ.get("BENCH_HUB_COMMAND", "").split() or [sys.executable, "-m", "app.cli"]


# The document-store database of every LearnFlow process the benches start.
MONGO_DATABASE = "learnflow_bench"


def app_environment(made: Stack) -> dict[str, str]:
    """The settings of every LearnFlow process the benches start: production, on the bench stores."""
    return {
        "LEARNFLOW_ENV": "production",
        "LEARNFLOW_DATA_DIR": str(made.workdir / "data"),
        "DATABASE_URL": made.urls.database_url,
        "REDIS_URL": made.urls.redis_url,
        "MONGO_URL": made.urls.mongo_url,
        "MONGO_DATABASE": MONGO_DATABASE,
        "JWT_SECRET": made.jwt_secret,
        "ACCESS_TOKEN_TTL_SECONDS": str(TOKEN_TTL_SECONDS),
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "console",
        "ADMIN_EMAIL": "",
        "ADMIN_PASSWORD": "",
    }


def start_hub(made: Stack, name: str = "hub", *, processes: int = 1, **env: str) -> Server:
    """A real `learnflow serve` process on the bench stores (`--processes N`: N api processes under it)."""
    environment = {**app_environment(made), **env}
    argv = [*hub_command(), "serve", "--host", "127.0.0.1", "--port", "{port}"]
    if processes > 1:
        argv += ["--processes", str(processes)]
    return _spawn(name, argv, environment, made.workdir, "/api/health")


def start_module(made: Stack, name: str, module: str, *args: str, **env: str) -> Server:
    argv = [sys.executable, "-m", module, *args]
    return _spawn(name, argv, {"BENCH_REDIS_URL": made.urls.redis_url, **env}, made.workdir, None)


def start_uvicorn(made: Stack, name: str, app: str, *args: str, **env: str) -> Server:
    """An ASGI app of the benches' own (a baseline) under uvicorn on loopback, quiet; `args` add options."""
    return start_module(
        made,
        name,
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--log-level",
        "warning",
        "--no-access-log",
        *args,
        **env,
    )


# -- figures and tables ----------------------------------------------------------------------------------


def percentile(values: array | list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return float(ordered[index])


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append(
            "| "
            + " | ".join(c.rjust(w) if n else c.ljust(w) for c, w in zip(row, widths, strict=True))
            + " |"
        )
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def machine() -> str:
    model = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}; nproc {os.cpu_count()}; CPU {model}; "
        f"load avg {' '.join(f'{x:.2f}' for x in os.getloadavg())}; Python {platform.python_version()}"
    )


def install_uvloop() -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()


def _exit(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def exit_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the servers the bench started are stopped."""
    signal.signal(signal.SIGTERM, _exit)


def run(main: Any) -> None:
    install_uvloop()
    asyncio.run(main)


def versus(ours: float, baseline: float, floor: float) -> str:
    """The ratios a benchmark prints after its figures: ours against its baseline and its floor."""
    return f"ours / baseline: {ours / baseline:.2f}x; ours / floor: {ours / floor:.2f}x"
