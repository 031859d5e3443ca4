"""Audit entries, written in the same transaction as the action they record, and browsed by staff."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol

from app.audit import store
from app.audit.schemas import AuditEntry, end_of, start_of
from app.errors import Forbidden
from app.http.meta import RequestMeta
from app.runtime import Runtime
from app.security.principal import Principal
from app.stores.models import AuditLog, User
from app.stores.sql import Tx


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


# --- browsing ----------------------------------------------------------------------------------------------


class AuditFilters(Protocol):
    """The filters of `GET /api/audit-logs`, shared by the activity report."""

    @property
    def user_id(self) -> int | None: ...
    @property
    def action(self) -> str | None: ...
    @property
    def resource_type(self) -> str | None: ...
    @property
    def search(self) -> str | None: ...
    @property
    def date_from(self) -> date | datetime | None: ...
    @property
    def date_to(self) -> date | datetime | None: ...
    @property
    def skip(self) -> int: ...
    @property
    def limit(self) -> int: ...


def instructor_scope(principal: Principal) -> int | None:
    """Whose courses' entries the caller may browse: None for every entry (admins)."""
    if principal.role == "admin":
        return None
    if principal.role == "instructor":
        return principal.user_id
    raise Forbidden("The audit log is for instructors and admins.", code="insufficient_role")


def _entry(entry: AuditLog, actor: User | None, *, platform: bool) -> AuditEntry:
    # Instructors see what happened in their courses, not where their learners connect from.
    return AuditEntry(
        id=entry.id,
        user_id=entry.user_id,
        user_email=actor.email if actor else None,
        user_name=f"{actor.first_name} {actor.last_name}".strip() if actor else None,
        action=entry.action,
        resource_type=entry.resource_type,
        resource_id=entry.resource_id,
        details=entry.details if isinstance(entry.details, dict) else {"value": entry.details},
        ip_address=entry.ip_address if platform else None,
        user_agent=entry.user_agent if platform else None,
        created_at=entry.created_at,
    )


async def browse(
    runtime: Runtime, *, instructor_id: int | None, query: AuditFilters
) -> tuple[list[AuditEntry], int]:
    """Newest first. Instructors see only entries about their own courses: resource_type "course" with
    one of their course ids, or any entry whose details.course_id is one of their courses."""
    async with runtime.db.read() as tx:
        rows, total = await store.list_entries(
            tx,
            instructor_id=instructor_id,
            user_id=query.user_id,
            action=query.action,
            resource_type=query.resource_type,
            search=query.search,
            since=start_of(query.date_from),
            before=end_of(query.date_to),
            skip=query.skip,
            limit=query.limit,
        )
    platform = instructor_id is None
    return [_entry(entry, actor, platform=platform) for entry, actor in rows], total
