"""SQL for the audit_logs table."""

from __future__ import annotations

from typing import Any

from app.stores.models import AuditLog
from app.stores.sql import Tx


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
