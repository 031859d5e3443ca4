"""The caller's account as authentication reads it on every request. It lives with the stores, below every
domain, because the HTTP layer (app/http/principal.py) that all routes share needs it."""

from __future__ import annotations

from dataclasses import dataclass

from app.stores.models import User
from app.stores.sql import Database, Tx


@dataclass(frozen=True)
class AccountState:
    """What authenticating a request needs of the caller's row, read fresh on every request."""

    id: int
    role: str
    email: str
    is_blocked: bool
    is_active: bool


_ACCOUNT_STATE = "SELECT id, role, email, is_blocked, is_active FROM users WHERE id = $1"


async def account_state(db: Database, user_id: int) -> AccountState | None:
    """One plain statement outside any session: it runs on every authenticated request."""
    row = await db.plain.fetch_row(_ACCOUNT_STATE, user_id)
    if row is None:
        return None
    return AccountState(
        id=row["id"],
        role=row["role"],
        email=row["email"],
        is_blocked=row["is_blocked"],
        is_active=row["is_active"],
    )


async def account(tx: Tx, user_id: int) -> User | None:
    """The whole row, inside the caller's transaction."""
    return await tx.get(User, user_id)
