"""Admin management of users: roles, blocking, deactivation."""

from __future__ import annotations

from datetime import UTC, datetime

from app.audit.service import SYSTEM, RequestMeta, record
from app.auth import store as sessions
from app.auth.schemas import UserPublic
from app.errors import BadRequest, NotFound, Unauthorized
from app.events import DomainEvent
from app.runtime import Runtime
from app.security.passwords import hash_password
from app.stores.models import User
from app.stores.sql import Tx
from app.users import store


async def get_public(runtime: Runtime, user_id: int) -> UserPublic:
    async with runtime.db.read() as tx:
        user = await store.get(tx, user_id)
    if user is None:
        raise Unauthorized("The account no longer exists.", code="invalid_token")
    return UserPublic.model_validate(user)


async def get_user(runtime: Runtime, user_id: int) -> UserPublic:
    async with runtime.db.read() as tx:
        user = await store.get(tx, user_id)
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    return UserPublic.model_validate(user)


async def list_users(
    runtime: Runtime, *, skip: int, limit: int, role: str | None, search: str | None
) -> tuple[list[UserPublic], int]:
    async with runtime.db.read() as tx:
        rows, total = await store.list_users(tx, skip=skip, limit=limit, role=role, search=search)
    return [UserPublic.model_validate(row) for row in rows], total


async def _target(tx: Tx, actor_id: int, user_id: int, what: str) -> User:
    if actor_id == user_id:
        raise BadRequest(f"You cannot {what} your own account.", code="cannot_modify_self")
    user = await store.get_for_update(tx, user_id)
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    return user


async def change_role(
    runtime: Runtime, *, actor_id: int, user_id: int, role: str, meta: RequestMeta
) -> UserPublic:
    async with runtime.db.transaction() as tx:
        user = await _target(tx, actor_id, user_id, "change the role of")
        previous = user.role
        if previous != role:
            await store.set_fields(tx, user, role=role)
            await record(
                tx,
                meta,
                "role_changed",
                actor_id=actor_id,
                resource_type="user",
                resource_id=user_id,
                details={"from": previous, "to": role},
            )
        public = UserPublic.model_validate(user)
    if previous != role:
        # Live connections of the user are re-authorized (e.g. a demoted admin loses admin:analytics).
        await runtime.events.publish(
            DomainEvent(
                name="user.role_changed",
                data={"user_id": user_id, "role": role, "previous_role": previous},
                user_ids=(user_id,),
            )
        )
    return public


async def toggle_block(runtime: Runtime, *, actor_id: int, user_id: int, meta: RequestMeta) -> bool:
    async with runtime.db.transaction() as tx:
        user = await _target(tx, actor_id, user_id, "block")
        blocked = not user.is_blocked
        await store.set_fields(tx, user, is_blocked=blocked)
        await record(
            tx,
            meta,
            "user_blocked" if blocked else "user_unblocked",
            actor_id=actor_id,
            resource_type="user",
            resource_id=user_id,
        )
    await runtime.events.publish(
        DomainEvent(
            name="user.blocked" if blocked else "user.unblocked",
            data={"user_id": user_id, "is_blocked": blocked},
            user_ids=(user_id,),
        )
    )
    return blocked


async def deactivate(runtime: Runtime, *, actor_id: int, user_id: int, meta: RequestMeta) -> None:
    now = datetime.now(UTC)
    async with runtime.db.transaction() as tx:
        user = await _target(tx, actor_id, user_id, "deactivate")
        if not user.is_active:
            return
        await store.set_fields(tx, user, is_active=False)
        revoked = await sessions.revoke_user_families(tx, user_id, now)
        await record(
            tx,
            meta,
            "user_deactivated",
            actor_id=actor_id,
            resource_type="user",
            resource_id=user_id,
            details={"sessions_revoked": len(revoked)},
        )
    await runtime.revocations.revoke_sessions(list(revoked))
    # Closes the user's live connections on every instance (the hub re-checks them, SPEC §4).
    await runtime.events.publish(
        DomainEvent(name="user.deactivated", data={"user_id": user_id}, user_ids=(user_id,))
    )


async def ensure_admin(
    runtime: Runtime,
    *,
    email: str,
    password: str,
    meta: RequestMeta,
    first_name: str = "Admin",
    last_name: str = "User",
) -> tuple[UserPublic, bool]:
    """Create the admin, or make the existing account an active admin with this password. Idempotent."""
    password_hash = await hash_password(password, rounds=runtime.settings.bcrypt_rounds)
    async with runtime.db.transaction() as tx:
        user = await store.get_by_email(tx, email, for_update=True)
        created = user is None
        if user is None:
            user = await store.add(
                tx,
                email=email.lower(),
                first_name=first_name,
                last_name=last_name,
                password_hash=password_hash,
                role="admin",
            )
            await record(
                tx,
                meta,
                "register",
                actor_id=user.id,
                resource_type="user",
                resource_id=user.id,
                details={"method": "admin_bootstrap"},
            )
        else:
            previous_role = user.role
            await store.set_fields(
                tx,
                user,
                password_hash=password_hash,
                role="admin",
                is_active=True,
                is_blocked=False,
                locked_until=None,
                failed_login_count=0,
            )
            if previous_role != "admin":
                await record(
                    tx,
                    meta,
                    "role_changed",
                    actor_id=None,
                    resource_type="user",
                    resource_id=user.id,
                    details={"from": previous_role, "to": "admin", "by": "admin_bootstrap"},
                )
        return UserPublic.model_validate(user), created


async def bootstrap_admin(runtime: Runtime) -> None:
    """ADMIN_EMAIL + ADMIN_PASSWORD in the environment create or update the first admin at start-up."""
    settings = runtime.settings
    if settings.admin_email and settings.admin_password:
        await ensure_admin(runtime, email=settings.admin_email, password=settings.admin_password, meta=SYSTEM)


async def count_users(runtime: Runtime) -> int:
    async with runtime.db.read() as tx:
        return await store.count(tx)
