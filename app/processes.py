"""`learnflow serve --processes N`: N api processes on one port, each with its own hub behind the relay.

The parent binds N listening sockets to the same address with SO_REUSEPORT (the kernel spreads new
connections over them by a hash of the client address) and forks one uvicorn server per socket. A child
that dies takes its socket with it, so the kernel stops routing to it; the parent then stops the rest (a
supervisor such as compose restarts the whole). Store servers and stream workers belong to the parent:
`parent()` runs there (the workers, or just waiting for a stop signal) while the children serve.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable

import uvicorn

log = logging.getLogger("learnflow")

STOP_GRACE_SECONDS = 10.0


def reuseport_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` listening sockets sharing one address; port 0 picks one free port for all of them."""
    if not hasattr(socket, "SO_REUSEPORT"):
        raise RuntimeError("--processes needs SO_REUSEPORT (Linux, BSD, macOS)")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]
            sock.listen(2048)
            sock.set_inheritable(True)
            sockets.append(sock)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _serve_child(config: uvicorn.Config, sock: socket.socket) -> None:
    # The parent's handlers (e.g. SIGTERM -> SystemExit) must not run the parent's clean-up here;
    # uvicorn installs its own while it serves.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    code = 0
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except BaseException:  # noqa: BLE001 - report, then leave without unwinding into the parent's code
        log.exception("api process failed")
        code = 1
    finally:
        logging.shutdown()
        os._exit(code)


def serve_processes(config: uvicorn.Config, count: int, parent: Callable[[], None]) -> None:
    """Fork `count` servers of `config` (its app must not have been started), run `parent()` until it
    returns (on SIGTERM/SIGINT), then stop the servers. Exits 1 if a server died on its own."""
    sockets = reuseport_sockets(config.host, config.port, count)
    children: list[int] = []
    for sock in sockets:
        pid = os.fork()
        if pid == 0:
            for other in sockets:
                if other is not sock:
                    other.close()
            _serve_child(config, sock)
        children.append(pid)
    for sock in sockets:
        sock.close()
    log.info("api processes started", extra={"pids": children, "port": config.port})
    stopping, crashed = threading.Event(), threading.Event()
    watcher = threading.Thread(
        target=_watch, args=(children, stopping, crashed), name="api-processes", daemon=True
    )
    watcher.start()
    try:
        parent()
    finally:
        stopping.set()
        _stop(children)
    if crashed.is_set():
        raise SystemExit(1)


def _watch(children: list[int], stopping: threading.Event, crashed: threading.Event) -> None:
    """An api process that exits on its own stops the whole (the rest would serve a shrunken share)."""
    # Stop signals sent to the process must reach the main thread, which waits for them.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    while not stopping.is_set():
        for pid in children:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 0
            if done and not stopping.is_set():
                log.error("api process exited; stopping", extra={"pid": pid, "status": status})
                if status != 0:  # a clean exit is a stop signal sent to the whole group (Ctrl-C)
                    crashed.set()
                main = threading.main_thread().ident
                assert main is not None
                signal.pthread_kill(main, signal.SIGTERM)
                return
        stopping.wait(0.5)


def _stop(children: list[int]) -> None:
    for pid in children:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for pid in children:
        while True:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                break
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                break
            time.sleep(0.05)


def wait_for_stop_signal() -> None:
    """Block until SIGTERM or SIGINT (the parent's job when it runs no workers)."""
    stop = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop)
    signal.sigwait(stop)
