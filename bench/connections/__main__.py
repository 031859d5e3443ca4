"""Memory per idle authenticated connection on our hub.

    .venv/bin/python -m bench.connections [--counts 1000,5000,10000,20000] [--subscribe]
        [--handshake plain|browser]

One real `learnflow serve` process; load-generator processes open authenticated /ws connections (a
real access token per connection, one bench admin user each) up to each count in turn, leave them
idle, and the server's RSS is read with psutil. Per connection = (RSS at the count - RSS before the
first connection) / count; "marginal" is the growth since the previous count divided by the connections
added. A count the server's file-descriptor limit cannot hold is lowered to fit and marked.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
from typing import Any

import psutil

from app.descriptors import raise_open_file_limit
from bench._harness import (
    Server,
    Stack,
    ensure_admins,
    machine,
    mint_tokens,
    run,
    stack,
    start_hub,
    table,
)
from bench._loadgen import LoadGenerators

KIB = 1024
TARGET_KIB = 20


async def quiet_rss(server: Server, seconds: float) -> int:
    """The server's RSS once it has been idle for a moment (CPU under 5% over 0.5 s, bounded)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        before = server.cpu_seconds()
        await asyncio.sleep(0.5)
        if server.cpu_seconds() - before < 0.025:
            break
    return server.rss()


async def bench(made: Stack, args: argparse.Namespace) -> list[list[Any]]:
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    counts = sorted(int(c) for c in args.counts.split(","))
    users = await ensure_admins(made.urls.database_url, counts[-1])
    tokens = mint_tokens(made.jwt_secret, users)
    loadgens = LoadGenerators(args.processes)
    # Idle sockets up to the descriptors left (`room` below) rather than the hub's default bound, which
    # keeps 1,024 of them for store connections this bench's hub does not make.
    server = start_hub(made, WS_MAX_CONNECTIONS_PER_USER="10", WS_MAX_CONNECTIONS=str(limit))
    rows: list[list[Any]] = []
    try:
        # Warm up (imports, pools, first-use allocations), then measure from an idle server.
        warm = await loadgens.connect(
            kind="hub",
            host="127.0.0.1",
            port=server.port,
            path="/ws",
            count=50,
            tokens=tokens[-50:],
            channel=None,
        )
        assert warm["connected"] == 50, warm
        await loadgens.broadcast("close_all")
        base = await quiet_rss(server, 5)
        base_fds = psutil.Process(server.pid).num_fds()
        room = limit - base_fds - 64  # pools may still open a few descriptors
        print(f"hub pid {server.pid}: base RSS {base / 2**20:.1f} MiB, {base_fds} fds, fd limit {limit}")
        open_now, previous_rss = 0, base
        for wanted in counts:
            count = min(wanted, room)
            started = time.monotonic()
            if count > open_now:
                result = await loadgens.connect(
                    kind="hub",
                    host="127.0.0.1",
                    port=server.port,
                    path="/ws",
                    count=count - open_now,
                    tokens=tokens[open_now:count],
                    channel="user:{user_id}" if args.subscribe else None,
                    concurrency=args.concurrency,
                    user_ids=users[open_now:count] if args.subscribe else None,
                    browser=args.handshake == "browser",
                )
                if result["failed"]:
                    print(f"  {result['failed']} connections failed: {result['errors']}")
                added = result["connected"]
            else:
                added = 0
            seconds = time.monotonic() - started
            open_now += added
            rss = await quiet_rss(server, args.settle)
            per = (rss - base) / open_now / KIB if open_now else float("nan")
            marginal = (rss - previous_rss) / added / KIB if added else float("nan")
            previous_rss = rss
            label = str(wanted) if count == wanted else f"{wanted} -> {count} (fd limit {limit})"
            rows.append(
                [
                    label,
                    open_now,
                    f"{seconds:.1f}",
                    f"{added / seconds:,.0f}" if seconds else "-",
                    f"{rss / 2**20:.1f}",
                    f"{(rss - base) / 2**20:.1f}",
                    f"{per:.1f}",
                    f"{marginal:.1f}",
                    "yes" if per <= TARGET_KIB else "NO",
                ]
            )
            print(
                f"  {open_now} open (+{added} in {seconds:.1f}s): RSS {rss / 2**20:.1f} MiB, "
                f"{per:.1f} KiB/conn, marginal {marginal:.1f} KiB/conn",
                flush=True,
            )
            if count < wanted:
                break  # the fd limit: larger counts cannot be reached either
        await loadgens.broadcast("close_all")
    finally:
        await loadgens.close()
        server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.connections", description=__doc__.split("\n")[0])
    parser.add_argument("--counts", default="1000,5000,10000,20000", help="open connections to measure at")
    parser.add_argument("--processes", type=int, default=2, help="load-generator processes")
    parser.add_argument(
        "--concurrency", type=int, default=32, help="connection attempts in flight per process"
    )
    parser.add_argument("--settle", type=float, default=10.0, help="max seconds to wait for an idle server")
    parser.add_argument(
        "--subscribe",
        action="store_true",
        help="each connection also subscribes to its user:{id} channel",
    )
    parser.add_argument(
        "--handshake",
        choices=("plain", "browser"),
        default="plain",
        help="browser: each connection offers permessage-deflate, as browsers do",
    )
    args = parser.parse_args()
    raise_open_file_limit()
    started = time.monotonic()
    rows: list[list[Any]] = []
    with stack() as made:

        async def go() -> None:
            rows.extend(await bench(made, args))

        run(go())
    print()
    what = "authenticated + subscribed to user:{id}" if args.subscribe else "authenticated, no subscription"
    print(f"idle connections ({what}; {args.handshake} handshake); {machine()}")
    print(
        table(
            [
                "connections",
                "open",
                "connect s",
                "conn/s",
                "server RSS MiB",
                "growth MiB",
                "KiB/conn",
                "marginal KiB/conn",
                f"<= {TARGET_KIB} KiB",
            ],
            rows,
        )
    )
    print(f"total {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
