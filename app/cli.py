"""The `learnflow` command: serve, worker, migrate, create-admin, seed-demo."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import logging
import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import TYPE_CHECKING

from app.config import Settings, UnsafeConfiguration
from app.descriptors import raise_open_file_limit
from app.logs import configure_logging
from app.runtime import StoreUrls
from app.servers import resolve_store_urls

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger("learnflow")

# CPython's defaults are (700, 10, 10). A young collection walks every tracked object made since the last one
# that is still alive, and under load most of them are: the frames, futures and replies of messages in flight,
# a second or more each while their batch is accepted. At 700 the api collected ~130 times a second at 10,000
# learners, 10-13 % of its CPU, for almost nothing freed (reference counting frees them when they finish); at
# 50,000 it is ~1.6 % (docs/performance/telemetry-ingest.md, "Frames without the parser"). Cyclic garbage
# (closed sockets, exceptions) lingers longer in exchange: 10,800 malformed frames grew the api by 4.7 MiB
# with 50,000 and by 10.1 MiB with 100,000 (tests/hostile/test_ws_fuzzer.py bounds it at 10 MiB).
GC_THRESHOLDS = (50_000, 10, 1000)


def _settings() -> Settings:
    settings = Settings()
    settings.check_safe_for_production()
    json_lines = settings.log_format == "json" or (settings.log_format == "auto" and settings.is_production)
    configure_logging(level=settings.log_level, json_lines=json_lines)
    return settings


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _has_users(settings: Settings, urls: StoreUrls) -> bool:
    from app.runtime import Runtime
    from app.users.service import count_users

    async def run() -> bool:
        runtime = Runtime.open(settings, urls)
        try:
            return await count_users(runtime) > 0
        finally:
            await runtime.close()

    return asyncio.run(run())


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.main import create_app
    from app.stores.migrate import upgrade
    from realtime.uvicorn_ws import uvicorn_ws_options

    settings = _settings()
    settings.check_safe_to_serve(args.host or settings.host)
    # Before the hub is made: its socket bound follows from the limit (app/descriptors.py).
    open_files = raise_open_file_limit()
    urls, embedded = resolve_store_urls(settings)
    try:
        upgrade(urls.database_url)
        if args.seed_demo_if_empty and not _has_users(settings, urls):
            _print_seeded(_seed(settings, urls))
        background = None
        if settings.run_workers_in_process and args.processes == 1:
            from workers.runner import start_workers

            background = start_workers
        app = create_app(settings, urls, background=background)
        config = uvicorn.Config(
            app,
            host=args.host or settings.host,
            port=args.port or settings.port,
            log_config=None,
            access_log=False,
            proxy_headers=False,  # the app resolves client IPs itself from TRUSTED_PROXIES
            ws_max_size=settings.ws_max_frame_bytes,
            **uvicorn_ws_options(),
        )
        log.info(
            "serving",
            extra={
                "url": f"http://{config.host}:{config.port}",
                "open_file_limit": open_files,
                "ws_max_connections": settings.hub_config().max_connections,
            },
        )
        # uvicorn re-raises the stop signal once it has shut down; turning it into SystemExit lets the
        # finally below stop the embedded servers instead of the process dying on the spot.
        signal.signal(signal.SIGTERM, _exit_on_signal)
        # What exists now (modules, the app and its schemas) lives as long as the process. Frozen, it is
        # no longer scanned by each full collection, which then costs milliseconds instead of stalling
        # every request in flight for 100+ ms (bench.rest: docs/performance/rest.md, "Hot reads straight on
        # the driver; collector pauses").
        gc.collect()
        gc.freeze()
        # What arrives later (thousands of sockets, heartbeats waiting seconds for their acceptance) ages into
        # the oldest generation too; a full collection then walks all of it several times a second under load
        # (bench.telemetry: docs/performance/telemetry-ingest.md, "Flushes that keep up"). A full collection
        # now waits for 1,000 middle-generation ones instead of 10, and a young one for 50,000 new objects
        # (GC_THRESHOLDS).
        gc.set_threshold(*GC_THRESHOLDS)
        if args.processes > 1:
            _serve_processes(config, args.processes, settings, urls)
        else:
            uvicorn.Server(config).run()
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


def _serve_processes(config: uvicorn.Config, count: int, settings: Settings, urls: StoreUrls) -> None:
    """Several api processes; the stream workers (in embedded mode) run once, in this parent process."""
    from app.processes import serve_processes, wait_for_stop_signal

    def parent() -> None:
        if not settings.run_workers_in_process:
            wait_for_stop_signal()
            return
        from workers.runner import run_standalone

        asyncio.run(run_standalone(settings, urls))

    serve_processes(config, count, parent)


def migrate(args: argparse.Namespace) -> int:
    from app.stores.migrate import upgrade

    settings = _settings()
    urls, embedded = resolve_store_urls(settings)
    try:
        upgrade(urls.database_url)
    finally:
        if embedded is not None:
            embedded.stop()
    log.info("database migrated to the latest revision")
    return 0


def create_admin(args: argparse.Namespace) -> int:
    from app.auth.schemas import RegisterRequest
    from app.http.meta import SYSTEM
    from app.runtime import Runtime
    from app.stores.migrate import upgrade
    from app.users.service import AdminBootstrap, AdminPromotionRefused, ensure_admin

    settings = _settings()
    email = args.email or input("Admin email: ").strip()
    password = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != password:
        print("Passwords differ.", file=sys.stderr)
        return 2
    try:
        RegisterRequest(email=email, first_name="Admin", last_name="User", password=password)
    except ValueError as exc:
        print(f"Invalid email or password:\n{exc}", file=sys.stderr)
        return 2
    urls, embedded = resolve_store_urls(settings)

    async def run() -> AdminBootstrap:
        runtime = Runtime.open(settings, urls)
        try:
            return await ensure_admin(runtime, email=email, password=password, meta=SYSTEM, force=args.force)
        finally:
            await runtime.close()

    try:
        upgrade(urls.database_url)
        done = asyncio.run(run())
    except AdminPromotionRefused as exc:
        print(exc.message, file=sys.stderr)
        return 3
    finally:
        if embedded is not None:
            embedded.stop()
    revoked = f", {done.sessions_revoked} session(s) signed out" if done.sessions_revoked else ""
    print(f"Admin {done.admin.email}: {done.outcome.replace('_', ' ')}{revoked}.")
    return 0


def _seed(settings: Settings, urls: StoreUrls) -> dict[str, int] | None:
    """Seeds the demo data unless it is already there; None when it was."""
    from app.runtime import Runtime
    from app.seed import already_seeded, seed_demo

    async def run() -> dict[str, int] | None:
        runtime = Runtime.open(settings, urls)
        try:
            await runtime.documents.ensure_schema()
            if await already_seeded(runtime):
                return None
            return await seed_demo(runtime)
        finally:
            await runtime.close()

    return asyncio.run(run())


def _print_seeded(made: dict[str, int] | None) -> None:
    from app.seed import DEMO_DOMAIN, DEMO_PASSWORD

    if made is None:
        print(f"Demo data is already present (accounts @{DEMO_DOMAIN}); nothing to do.")
        return
    print("Demo data created: " + ", ".join(f"{count} {name}" for name, count in made.items()))
    print(
        f"Sign in as avery.admin@{DEMO_DOMAIN} (admin), ada.lovelace@{DEMO_DOMAIN} (instructor) or "
        f"maya.patel@{DEMO_DOMAIN} (learner), password {DEMO_PASSWORD}"
    )


def seed_demo(args: argparse.Namespace) -> int:
    from app.stores.migrate import upgrade

    settings = _settings()
    urls, embedded = resolve_store_urls(settings)
    try:
        upgrade(urls.database_url)
        _print_seeded(_seed(settings, urls))
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


def worker(args: argparse.Namespace) -> int:
    from workers.runner import run_standalone

    settings = _settings()
    if settings.uses_embedded_servers:
        print(
            "`learnflow worker` runs against external servers: set DATABASE_URL, REDIS_URL and MONGO_URL. "
            "With embedded servers, `learnflow serve` runs the workers itself.",
            file=sys.stderr,
        )
        return 2
    urls, _ = resolve_store_urls(settings)
    asyncio.run(run_standalone(settings, urls))
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="learnflow", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run the API (and embedded servers when no URLs are set)")
    serve_cmd.add_argument("--host")
    serve_cmd.add_argument("--port", type=int)
    serve_cmd.add_argument(
        "--processes",
        type=_positive,
        default=1,
        help="api processes on the one port (SO_REUSEPORT), each with its own hub; workers run once",
    )
    serve_cmd.add_argument(
        "--seed-demo-if-empty", action="store_true", help="load the demo data set when there are no users yet"
    )
    commands.add_parser("migrate", help="apply database migrations")
    admin_cmd = commands.add_parser("create-admin", help="create or update an admin account interactively")
    admin_cmd.add_argument("--email")
    admin_cmd.add_argument(
        "--force",
        action="store_true",
        help="promote an existing non-admin account with this email (its sessions are signed out, its "
        "Google link removed); without it such an account is left alone",
    )
    commands.add_parser("worker", help="run the stream workers")
    commands.add_parser("seed-demo", help="load a demo data set")
    args = parser.parse_args(argv)
    commands_by_name = {
        "serve": serve,
        "migrate": migrate,
        "create-admin": create_admin,
        "worker": worker,
        "seed-demo": seed_demo,
    }
    try:
        return commands_by_name[args.command](args)
    except UnsafeConfiguration as exc:
        print(f"learnflow: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
