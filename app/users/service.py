"""Admin management of users: roles, blocking, deactivation."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from app.audit.service import record
from app.errors import BadRequest, Conflict, NotFound, Unauthorized
from app.events import DomainEvent
from app.http.meta import SYSTEM, RequestMeta
from app.runtime import Runtime
from app.security.passwords import hash_password, verify_password
from app.stores import sessions
from app.stores.models import User
from app.stores.sql import Tx
from app.users import store
from app.users.schemas import UserPublic

log = logging.getLogger(__name__)


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
        await runtime.callers.account_changed(user_id)
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
    await runtime.callers.account_changed(user_id)
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
    await runtime.callers.account_changed(user_id)
    await runtime.revocations.revoke_sessions(list(revoked))
    # Closes the user's live connections on every instance (the hub re-checks them, docs/ARCHITECTURE.md).
    await runtime.events.publish(
        DomainEvent(name="user.deactivated", data={"user_id": user_id}, user_ids=(user_id,))
    )


class AdminPromotionRefused(Conflict):
    def __init__(self, email: str, role: str) -> None:
        super().__init__(
            f"{email} is already registered as a {role}. Sign-up does not prove who owns an address, so "
            "it is not made an admin unless forced (`learnflow create-admin --force`, or "
            "ADMIN_BOOTSTRAP_FORCE=true at start-up); forcing signs out its sessions and unlinks Google.",
            code="admin_promotion_refused",
            details={"role": role},
        )


@dataclass(frozen=True)
class AdminBootstrap:
    admin: UserPublic
    outcome: str  # created | promoted | password_reset | reactivated | unchanged
    sessions_revoked: int = 0


async def ensure_admin(
    runtime: Runtime,
    *,
    email: str,
    password: str,
    meta: RequestMeta,
    force: bool = False,
    first_name: str = "Admin",
    last_name: str = "User",
) -> AdminBootstrap:
    """Create the admin, or bring the existing admin account to this password (active, unblocked).

    An existing account that is not an admin may belong to whoever registered the address first, so it
    is promoted only with `force`: then its password is replaced, its Google link removed and every one
    of its sessions revoked, so nothing its registrant held survives. Without `force` the refusal is
    audited and AdminPromotionRefused raised. Idempotent: a second run with the same password changes
    nothing.
    """
    settings = runtime.settings
    async with runtime.db.transaction() as tx:
        user = await store.get_by_email(tx, email, for_update=True)
        if user is None:
            user = await store.add(
                tx,
                email=email.lower(),
                first_name=first_name,
                last_name=last_name,
                password_hash=await hash_password(password, rounds=settings.bcrypt_rounds),
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
            return AdminBootstrap(UserPublic.model_validate(user), "created")
        previous_role = user.role
        if previous_role != "admin" and not force:
            await record(
                tx,
                meta,
                "admin_bootstrap_refused",
                actor_id=None,
                resource_type="user",
                resource_id=user.id,
                details={"role": previous_role},
            )
        else:
            outcome, revoked = await _make_admin(tx, runtime, user, password, meta)
        public = UserPublic.model_validate(user)
    if previous_role != "admin" and not force:
        raise AdminPromotionRefused(public.email, previous_role)
    if outcome != "unchanged":
        await runtime.callers.account_changed(public.id)
    if revoked:
        await runtime.revocations.revoke_sessions(revoked)
        await runtime.events.publish(sessions_revoked(public.id))
    if outcome == "promoted":
        await runtime.events.publish(
            DomainEvent(
                name="user.role_changed",
                data={"user_id": public.id, "role": "admin", "previous_role": previous_role},
                user_ids=(public.id,),
            )
        )
    return AdminBootstrap(public, outcome, len(revoked))


async def _make_admin(
    tx: Tx, runtime: Runtime, user: User, password: str, meta: RequestMeta
) -> tuple[str, list[str]]:
    """An active, unblocked admin with this password; a new password or a promotion revokes every
    session of the account. Returns the outcome and the revoked session ids."""
    rounds = runtime.settings.bcrypt_rounds
    previous_role = user.role
    promoting = previous_role != "admin"
    keeps_password = not promoting and await verify_password(password, user.password_hash, rounds=rounds)
    changes: dict[str, object] = {}
    revoked: list[str] = []
    if not keeps_password:
        changes["password_hash"] = await hash_password(password, rounds=rounds)
        revoked = list(await sessions.revoke_user_families(tx, user.id, datetime.now(UTC)))
    if promoting:
        changes.update(role="admin", google_sub=None)
    if not user.is_active or user.is_blocked:
        changes.update(is_active=True, is_blocked=False)
    if not changes:
        return "unchanged", revoked
    google_unlinked = promoting and user.google_sub is not None
    await store.set_fields(tx, user, **changes)
    details: dict[str, object] = {"by": "admin_bootstrap", "sessions_revoked": len(revoked)}
    if promoting:
        details.update(
            {"from": previous_role, "to": "admin", "forced": True, "google_unlinked": google_unlinked}
        )
        action, outcome = "role_changed", "promoted"
    elif revoked:
        action, outcome = "password_changed", "password_reset"
    else:
        return "reactivated", revoked
    await record(tx, meta, action, actor_id=None, resource_type="user", resource_id=user.id, details=details)
    return outcome, revoked


async def bootstrap_admin(runtime: Runtime) -> None:
    """ADMIN_EMAIL + ADMIN_PASSWORD in the environment create the first admin at start-up (or bring the
    existing admin to that password). An existing non-admin account with that email is promoted only
    with ADMIN_BOOTSTRAP_FORCE=true; otherwise the refusal is logged and audited and the server starts
    without promoting anyone."""
    settings = runtime.settings
    if not (settings.admin_email and settings.admin_password):
        return
    try:
        done = await ensure_admin(
            runtime,
            email=settings.admin_email,
            password=settings.admin_password,
            meta=SYSTEM,
            force=settings.admin_bootstrap_force,
        )
    except AdminPromotionRefused as exc:
        log.error("admin bootstrap refused", extra={"reason": exc.message})
        return
    log.info("admin bootstrap", extra={"outcome": done.outcome, "sessions_revoked": done.sessions_revoked})


async def count_users(runtime: Runtime) -> int:
    async with runtime.db.read() as tx:
        return await store.count(tx)


def sessions_revoked(user_id: int) -> DomainEvent:
    """Open WebSockets of revoked sessions are closed when their connection is re-checked."""
    return DomainEvent(name="session.revoked", data={"user_id": user_id}, user_ids=(user_id,))
