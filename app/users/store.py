"""SQL for the users table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict
from app.stores.models import User
from app.stores.sql import Tx, like_escape


async def get(tx: Tx, user_id: int) -> User | None:
    return await tx.get(User, user_id)


async def get_for_update(tx: Tx, user_id: int) -> User | None:
    return (await tx.execute(select(User).where(User.id == user_id).with_for_update())).scalar_one_or_none()


async def get_by_email(tx: Tx, email: str, *, for_update: bool = False) -> User | None:
    query = select(User).where(User.email == email.lower())
    if for_update:
        query = query.with_for_update()
    return (await tx.execute(query)).scalar_one_or_none()


async def get_by_google_sub(tx: Tx, google_sub: str) -> User | None:
    return (await tx.execute(select(User).where(User.google_sub == google_sub))).scalar_one_or_none()


def _violated_constraint(exc: IntegrityError) -> str | None:
    # SQLAlchemy's asyncpg adapter chains the driver's error, which names the constraint.
    driver_error = getattr(exc.orig, "__cause__", None)
    name = getattr(driver_error, "constraint_name", None)
    return name if isinstance(name, str) else None


async def add(tx: Tx, **fields: Any) -> User:
    """Insert a user. Two concurrent sign-ups with one email both pass the service's look-up; the unique
    constraint decides, and the loser gets the same 409 as a sequential duplicate instead of a 500."""
    user = User(**fields)
    tx.add(user)
    try:
        await tx.flush()
    except IntegrityError as exc:
        if _violated_constraint(exc) == "uq_users_email":
            raise Conflict("An account with this email already exists.", code="email_taken") from exc
        raise
    await tx.refresh(user)
    return user


async def set_fields(tx: Tx, user: User, **fields: Any) -> User:
    for name, value in fields.items():
        setattr(user, name, value)
    await tx.flush()
    await tx.refresh(user)
    return user


def _search_filter(search: str) -> Any:
    pattern = "%" + like_escape(search) + "%"
    return or_(
        User.email.ilike(pattern, escape="\\"),
        User.first_name.ilike(pattern, escape="\\"),
        User.last_name.ilike(pattern, escape="\\"),
        (User.first_name + " " + User.last_name).ilike(pattern, escape="\\"),
    )


async def list_users(
    tx: Tx, *, skip: int, limit: int, role: str | None, search: str | None
) -> tuple[Sequence[User], int]:
    conditions = []
    if role:
        conditions.append(User.role == role)
    if search:
        conditions.append(_search_filter(search))
    total = (await tx.execute(select(func.count()).select_from(User).where(*conditions))).scalar_one()
    rows = (
        (await tx.execute(select(User).where(*conditions).order_by(User.id).offset(skip).limit(limit)))
        .scalars()
        .all()
    )
    return rows, int(total)


async def active_admin_ids(tx: Tx) -> list[int]:
    rows = await tx.execute(select(User.id).where(User.role == "admin", User.is_active.is_(True)))
    return [int(user_id) for user_id in rows.scalars().all()]


async def count(tx: Tx) -> int:
    return int((await tx.execute(select(func.count(User.id)))).scalar_one())
