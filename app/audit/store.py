"""SQL for the audit_logs table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, Text, and_, cast, func, or_, select

from app.stores.models import AuditLog, Course, User
from app.stores.sql import Tx, like_escape


async def add(
    tx: Tx,
    *,
    action: str,
    user_id: int | None,
    resource_type: str | None,
    resource_id: str | None,
    details: dict[str, Any],
    ip_address: str | None,
    user_agent: str | None,
) -> None:
    tx.add(
        AuditLog(
            action=action,
            user_id=user_id,
            resource_type=resource_type,
            resource_id=resource_id,
            details=details,
            ip_address=ip_address,
            user_agent=user_agent,
        )
    )


def about_courses_of(instructor_id: int) -> ColumnElement[bool]:
    """Entries about an instructor's courses: a course resource they own, or details.course_id naming one."""
    owned = select(cast(Course.id, String)).where(Course.instructor_id == instructor_id).scalar_subquery()
    return or_(
        and_(AuditLog.resource_type == "course", AuditLog.resource_id.in_(owned)),
        AuditLog.details["course_id"].astext.in_(owned),
    )


def _search(search: str) -> ColumnElement[bool]:
    pattern = "%" + like_escape(search) + "%"
    return or_(
        AuditLog.action.ilike(pattern, escape="\\"),
        AuditLog.resource_type.ilike(pattern, escape="\\"),
        AuditLog.resource_id.ilike(pattern, escape="\\"),
        cast(AuditLog.details, Text).ilike(pattern, escape="\\"),
        User.email.ilike(pattern, escape="\\"),
    )


async def list_entries(
    tx: Tx,
    *,
    instructor_id: int | None,
    user_id: int | None,
    action: str | None,
    resource_type: str | None,
    search: str | None,
    since: datetime | None,
    before: datetime | None,
    skip: int,
    limit: int,
) -> tuple[list[tuple[AuditLog, User | None]], int]:
    """Entries newest first with their actor, and how many match. `before` is exclusive;
    `instructor_id` narrows to entries about that instructor's courses (None: everything)."""
    conditions: list[ColumnElement[bool]] = []
    if instructor_id is not None:
        conditions.append(about_courses_of(instructor_id))
    if user_id is not None:
        conditions.append(AuditLog.user_id == user_id)
    if action:
        conditions.append(AuditLog.action == action)
    if resource_type:
        conditions.append(AuditLog.resource_type == resource_type)
    if search:
        conditions.append(_search(search))
    if since is not None:
        conditions.append(AuditLog.created_at >= since)
    if before is not None:
        conditions.append(AuditLog.created_at < before)
    joined = select(AuditLog, User).outerjoin(User, User.id == AuditLog.user_id).where(*conditions)
    count = select(func.count()).select_from(AuditLog)
    if search:  # the only condition on the actor's row
        count = count.outerjoin(User, User.id == AuditLog.user_id)
    total = (await tx.execute(count.where(*conditions))).scalar_one()
    query = joined.order_by(AuditLog.created_at.desc(), AuditLog.id.desc()).offset(skip).limit(limit)
    rows: list[tuple[AuditLog, User | None]] = [
        (entry, user) for entry, user in (await tx.execute(query)).all()
    ]
    return rows, int(total)
