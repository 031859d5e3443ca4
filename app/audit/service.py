"""Audit entries, written in the same transaction as the action they record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.audit import store
from app.stores.sql import Tx


@dataclass(frozen=True)
class RequestMeta:
    """Who asked, from where: the real client IP (see app/http/middleware.py) and user agent."""

    ip: str | None
    user_agent: str | None


SYSTEM = RequestMeta(ip=None, user_agent="learnflow-cli")


async def record(
    tx: Tx,
    meta: RequestMeta,
    action: str,
    *,
    actor_id: int | None,
    resource_type: str | None = None,
    resource_id: int | str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    await store.add(
        tx,
        action=action,
        user_id=actor_id,
        resource_type=resource_type,
        resource_id=None if resource_id is None else str(resource_id),
        details=details or {},
        ip_address=meta.ip,
        user_agent=meta.user_agent,
    )
