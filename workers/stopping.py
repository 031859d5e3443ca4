"""Stopping a worker loop even when a store client absorbed the cancellation.

A worker stops by being cancelled (`start_workers`' stop, `learnflow worker` on SIGTERM). A store client
can swallow the CancelledError on its way: Python 3.11's `asyncio.wait_for` returns a result that arrived
together with the cancellation, and a client may turn it into its own connection error, which a worker
loop takes for a failed batch and retries for ever. The request still shows on the task
(`Task.cancelling`), so the loops ask the task as well.
"""

from __future__ import annotations

import asyncio


def stop_requested() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def stop_if_requested(cause: BaseException | None = None) -> None:
    """Raise CancelledError when the running task was asked to stop and is still running; `cause`: the
    error a store client raised instead of the cancellation."""
    if stop_requested():
        raise asyncio.CancelledError from cause
