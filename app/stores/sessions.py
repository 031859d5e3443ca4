"""SQL for refresh tokens (one family per sign-in session)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update

from app.stores.models import RefreshToken
from app.stores.sql import Tx


async def add(
    tx: Tx,
    *,
    token_id: str,
    family_id: str,
    user_id: int,
    token_hash: str,
    expires_at: datetime,
    ip_address: str | None,
    user_agent: str | None,
) -> None:
    tx.add(
        RefreshToken(
            id=token_id,
            family_id=family_id,
            user_id=user_id,
            token_hash=token_hash,
            expires_at=expires_at,
            ip_address=ip_address,
            user_agent=user_agent,
        )
    )
    await tx.flush()


async def get_for_update(tx: Tx, token_id: str) -> RefreshToken | None:
    query = select(RefreshToken).where(RefreshToken.id == token_id).with_for_update()
    return (await tx.execute(query)).scalar_one_or_none()


async def mark_used(tx: Tx, token: RefreshToken, now: datetime) -> None:
    token.used_at = now
    await tx.flush()


async def revoke_family(tx: Tx, family_id: str, now: datetime) -> None:
    await tx.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_user_families(
    tx: Tx, user_id: int, now: datetime, *, keep: str | None = None
) -> Sequence[str]:
    """Revoke every live session of a user (but `keep`); returns the revoked family ids."""
    conditions = [RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None)]
    if keep is not None:
        conditions.append(RefreshToken.family_id != keep)
    result = await tx.execute(
        update(RefreshToken).where(*conditions).values(revoked_at=now).returning(RefreshToken.family_id)
    )
    return sorted(set(result.scalars().all()))
