"""Browsing the audit log (admins: everything; instructors: entries about their own courses)."""

from __future__ import annotations

from app.audit import service
from app.audit.schemas import AuditLogPublic, AuditLogQuery
from app.http.routing import Context, Page, api_route


@api_route(
    "GET",
    "/api/audit-logs",
    summary="Audit entries, newest first (instructors: about their own courses)",
    tags=["audit"],
    query=AuditLogQuery,
    response=list[AuditLogPublic],
    roles=("admin", "instructor"),
    errors=(401, 403, 422),
    paged=True,
)
async def list_audit_logs(ctx: Context[None, AuditLogQuery]) -> Page[AuditLogPublic]:
    """Filters: `user_id` (actor), `action` and `resource_type` (exact), `search` (literal text in the
    action, resource type or id, details or the actor's email), `date_from`/`date_to` (a date means the
    whole UTC day; a date-time is exact). `limit` at most 100. The original API's action names (e.g.
    course_enrolled) filter like the names recorded here (enrolled).

    Instructors see an entry when its resource_type is "course" and resource_id one of their courses, or
    when its details.course_id names one of their courses; they do not see IP addresses or user agents."""
    q = ctx.query
    items, total = await service.browse(
        ctx.runtime, instructor_id=service.instructor_scope(ctx.user), query=q
    )
    return Page([AuditLogPublic.of(item) for item in items], total)


routes = [list_audit_logs]
