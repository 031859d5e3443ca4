"""The public catalogue and course pages, cached in the process as the bytes anonymous callers get.

They are the same for every anonymous caller, so each is computed once and then answered from memory,
with an ETag. Every change that can alter them (a course, its lessons, an enrollment, a rating) calls
`changed()` once its transaction has committed, before its response is sent: that empties this process's
cache at once and, through Redis pub/sub (`lf:public-cache`), every other instance's. While this process
is not subscribed (start-up, Redis away) nothing is served from the cache, so a missed message can never
leave a stale page behind; entries also expire after `PUBLIC_CACHE_SECONDS`, which bounds how long a
change the cache is not told about (an instructor's new name or avatar) takes to show.

A computation that started before an invalidation is not stored after it (generation check), and
concurrent misses of one page wait for a single computation.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

CHANNEL = "lf:public-cache"
_MAX_ENTRIES = 2048
_ENROLLED_FALSE = b'"is_enrolled":false'
_ENROLLED_TRUE = b'"is_enrolled":true'


@dataclass(frozen=True)
class Page:
    """One cached page: its items' JSON (each with `"is_enrolled":false`), their course ids, the body
    anonymous callers get, its ETag, and the total for paging headers."""

    fragments: tuple[bytes, ...]
    course_ids: tuple[int, ...]
    body: bytes
    etag: str
    total: int
    expires: float
    # Paging headers by request URL (they name it in Link), filled by the catalogue route.
    headers: dict[str, dict[str, str]] = field(default_factory=dict, compare=False)

    @classmethod
    def of_list(cls, fragments: list[bytes], course_ids: list[int], total: int, seconds: float) -> Page:
        return cls._make(
            tuple(fragments), tuple(course_ids), b"[" + b",".join(fragments) + b"]", total, seconds
        )

    @classmethod
    def of_one(cls, body: bytes, course_id: int, seconds: float) -> Page:
        return cls._make((body,), (course_id,), body, 1, seconds)

    @classmethod
    def _make(
        cls, fragments: tuple[bytes, ...], ids: tuple[int, ...], body: bytes, total: int, seconds: float
    ) -> Page:
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        return cls(fragments, ids, body, etag, total, time.monotonic() + seconds)

    def list_for(self, enrolled: set[int]) -> bytes:
        """The list body with `is_enrolled` true for the courses in `enrolled`. The marker cannot occur
        inside a JSON string (its quotes would be escaped there), so the replacement hits only the field."""
        if not enrolled.intersection(self.course_ids):
            return self.body
        parts = [
            fragment.replace(_ENROLLED_FALSE, _ENROLLED_TRUE, 1) if course_id in enrolled else fragment
            for fragment, course_id in zip(self.fragments, self.course_ids, strict=True)
        ]
        return b"[" + b",".join(parts) + b"]"

    def matches(self, if_none_match: str | None) -> bool:
        """Whether an If-None-Match header names this page's ETag (weak comparison, RFC 9110 13.1.2)."""
        if not if_none_match:
            return False
        for tag in if_none_match.split(","):
            tag = tag.strip()
            if tag == "*" or tag.removeprefix("W/") == self.etag:
                return True
        return False


Compute = Callable[[], Awaitable[Page | None]]


class PublicCache:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.generation = 0
        self.subscribed = False
        self._pages: dict[Hashable, Page] = {}
        # Smaller public facts the pages are built from (a learner's courses, a course's lesson ids), each
        # with its expiry; emptied with the pages.
        self._facts: dict[Hashable, tuple[float, Any]] = {}
        self._computing: dict[tuple[Hashable, int], asyncio.Future[Page | None]] = {}
        self._redis: Any = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    @property
    def enabled(self) -> bool:
        return self.seconds > 0

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self, redis: Any) -> None:
        """Listen for other instances' invalidations; returns once subscribed (or after 5 s without)."""
        if not self.enabled:
            return
        self._redis = redis
        self._task = asyncio.create_task(self._listen(), name="public-cache-invalidations")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), 5.0)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _listen(self) -> None:
        delay = 0.1
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                self.clear()  # whatever was missed while unsubscribed
                self.subscribed = True
                self._ready.set()
                delay = 0.1
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self.clear()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - stay up: the cache is bypassed until resubscribed
                log.warning("public cache lost its invalidation channel", extra={"error": repr(exc)})
            finally:
                self.subscribed = False
                self.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(2.0, delay * 2)

    # -- use ---------------------------------------------------------------------------------------

    def clear(self) -> None:
        self.generation += 1
        self._pages.clear()
        self._facts.clear()

    def known(self, key: Hashable) -> Any:
        """The fact remembered under `key`, or None (none kept, expired, or not subscribed)."""
        if not self.subscribed:
            return None
        found = self._facts.get(key)
        if found is None or found[0] <= time.monotonic():
            return None
        return found[1]

    def remember(self, key: Hashable, value: Any, generation: int) -> None:
        """Keep `value`, read from the stores when the cache was at `generation`, unless the cache has
        been emptied since (the value may predate a change)."""
        if generation != self.generation or not self.subscribed:
            return
        if len(self._facts) >= _MAX_ENTRIES * 8:
            self._facts.clear()
        self._facts[key] = (time.monotonic() + self.seconds, value)

    async def enrolled(
        self, user_id: int, compute: Callable[[], Awaitable[frozenset[int]]]
    ) -> frozenset[int]:
        """The ids of the courses a learner is enrolled in; emptied like the pages (enrolling and leaving
        are changes that call `changed()`)."""
        key = ("enrolled", user_id)
        found: frozenset[int] | None = self.known(key)
        if found is None:
            generation = self.generation
            found = await compute()
            self.remember(key, found, generation)
        return found

    async def changed(self) -> None:
        """A public page may differ now: forget every page here and on every other instance."""
        if not self.enabled:
            return
        self.clear()
        if self._redis is not None:
            try:
                await self._redis.publish(CHANNEL, "1")
            except Exception:  # noqa: BLE001 - the change is committed; other instances' entries expire
                log.warning("could not tell other instances to forget public pages", exc_info=True)

    async def get(self, key: Hashable, compute: Compute) -> Page | None:
        """The cached page for `key`, or `compute()`'s (stored unless the cache was invalidated
        meanwhile). None from compute means "not cacheable"; the caller then answers without the cache."""
        if not self.subscribed:
            return await compute()
        page = self._pages.get(key)
        if page is not None and page.expires > time.monotonic():
            return page
        # Keyed by generation too: a request that comes after an invalidation never joins a computation
        # that may have read the data from before the change.
        slot = (key, self.generation)
        pending = self._computing.get(slot)
        if pending is None:
            pending = asyncio.ensure_future(self._compute(key, compute))
            self._computing[slot] = pending
            pending.add_done_callback(lambda _: self._computing.pop(slot, None))
        # A caller that goes away does not cancel the computation the others wait for.
        return await asyncio.shield(pending)

    async def _compute(self, key: Hashable, compute: Compute) -> Page | None:
        generation = self.generation
        page = await compute()
        if page is not None and generation == self.generation and self.subscribed:
            if len(self._pages) >= _MAX_ENTRIES:
                self._pages.clear()
            self._pages[key] = page
        return page
