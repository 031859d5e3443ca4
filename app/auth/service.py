"""Sign-up, sign-in, token rotation, sign-out and password changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.audit.service import RequestMeta, record
from app.auth import store as sessions
from app.auth.schemas import TokenPair
from app.errors import BadRequest, Conflict, Forbidden, TooManyRequests, Unauthorized, ValidationFailed
from app.events import DomainEvent
from app.runtime import Runtime
from app.security.passwords import hash_password, verify_password
from app.security.tokens import InvalidToken, new_refresh_token, parse_refresh_token
from app.stores.models import User
from app.stores.sql import Tx
from app.users import store as users


@dataclass(frozen=True)
class NewAccount:
    email: str
    first_name: str
    last_name: str
    password: str | None
    avatar_url: str | None = None
    google_sub: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


async def issue_tokens(
    tx: Tx, runtime: Runtime, user: User, meta: RequestMeta, *, family_id: str | None = None
) -> TokenPair:
    """A new refresh token (in a new session, or rotated within `family_id`) and an access token."""
    refresh = new_refresh_token()
    family = family_id or refresh.token_id
    await sessions.add(
        tx,
        token_id=refresh.token_id,
        family_id=family,
        user_id=user.id,
        token_hash=refresh.secret_hash,
        expires_at=_now() + timedelta(seconds=runtime.settings.refresh_token_ttl_seconds),
        ip_address=meta.ip,
        user_agent=meta.user_agent,
    )
    access = runtime.tokens.issue_access(user_id=user.id, role=user.role, session_id=family)
    return TokenPair(
        access_token=access,
        refresh_token=refresh.value,
        expires_in=runtime.settings.access_token_ttl_seconds,
    )


async def create_account(tx: Tx, runtime: Runtime, account: NewAccount, meta: RequestMeta) -> User:
    if await users.get_by_email(tx, account.email) is not None:
        raise Conflict("An account with this email already exists.", code="email_taken")
    password_hash = (
        await hash_password(account.password, rounds=runtime.settings.bcrypt_rounds)
        if account.password is not None
        else None
    )
    user = await users.add(
        tx,
        email=account.email.lower(),
        first_name=account.first_name,
        last_name=account.last_name,
        password_hash=password_hash,
        avatar_url=account.avatar_url,
        google_sub=account.google_sub,
        role="learner",
    )
    await record(
        tx,
        meta,
        "register",
        actor_id=user.id,
        resource_type="user",
        resource_id=user.id,
        details={"method": "google" if account.google_sub else "password"},
    )
    return user


async def register(runtime: Runtime, account: NewAccount, meta: RequestMeta) -> TokenPair:
    async with runtime.db.transaction() as tx:
        user = await create_account(tx, runtime, account, meta)
        return await issue_tokens(tx, runtime, user, meta)


async def login(runtime: Runtime, *, email: str, password: str, meta: RequestMeta) -> TokenPair:
    settings = runtime.settings
    async with runtime.db.read() as tx:
        found = await users.get_by_email(tx, email)
    now = _now()
    if found is not None and found.locked_until is not None and found.locked_until > now:
        raise _locked(found.locked_until, now)
    password_ok = await verify_password(password, found.password_hash if found else None)

    locked_until: datetime | None = None
    async with runtime.db.transaction() as tx:
        user = await users.get_by_email(tx, email, for_update=True) if found is not None else None
        if user is None or not password_ok:
            if user is not None:
                window_start = now - timedelta(seconds=settings.login_failure_window_seconds)
                fresh = user.first_failed_login_at is None or user.first_failed_login_at < window_start
                count = 1 if fresh else user.failed_login_count + 1
                first = now if fresh else user.first_failed_login_at
                if count >= settings.login_max_failures:
                    locked_until = now + timedelta(seconds=settings.login_lockout_seconds)
                    await users.set_fields(
                        tx, user, failed_login_count=0, first_failed_login_at=None, locked_until=locked_until
                    )
                    await record(
                        tx,
                        meta,
                        "lockout",
                        actor_id=user.id,
                        resource_type="user",
                        resource_id=user.id,
                        details={"failures": count, "locked_until": locked_until.isoformat()},
                    )
                else:
                    await users.set_fields(tx, user, failed_login_count=count, first_failed_login_at=first)
            await record(
                tx,
                meta,
                "login_failed",
                actor_id=user.id if user else None,
                resource_type="user",
                resource_id=user.id if user else None,
                details={"email": email.lower(), "reason": "bad_credentials"},
            )
        else:
            if not user.is_active:
                raise Unauthorized("The account has been deactivated.", code="account_deactivated")
            await users.set_fields(
                tx,
                user,
                failed_login_count=0,
                first_failed_login_at=None,
                locked_until=None,
                last_login_at=now,
            )
            await record(tx, meta, "login", actor_id=user.id, resource_type="user", resource_id=user.id)
            return await issue_tokens(tx, runtime, user, meta)
    if locked_until is not None:
        raise _locked(locked_until, now)
    raise Unauthorized("The email or password is incorrect.", code="invalid_credentials")


def _locked(until: datetime, now: datetime) -> TooManyRequests:
    seconds = max(1, int((until - now).total_seconds()) + 1)
    return TooManyRequests(
        "Too many failed sign-ins; the account is locked for a while.",
        code="account_locked",
        details={"retry_after": seconds},
        headers={"Retry-After": str(seconds)},
    )


async def refresh(runtime: Runtime, *, refresh_token: str, meta: RequestMeta) -> TokenPair:
    invalid = Unauthorized("The refresh token is invalid or has expired.", code="invalid_refresh_token")
    try:
        presented = parse_refresh_token(refresh_token)
    except InvalidToken as exc:
        raise invalid from exc
    now = _now()
    reused_family: str | None = None
    async with runtime.db.transaction() as tx:
        stored = await sessions.get_for_update(tx, presented.token_id)
        if stored is None or stored.token_hash != presented.secret_hash:
            raise invalid
        if stored.revoked_at is not None or stored.expires_at <= now:
            raise invalid
        if stored.used_at is not None:
            # A rotated token came back: someone holds a copy. End the whole session for both.
            reused_family = stored.family_id
            await sessions.revoke_family(tx, stored.family_id, now)
            await record(
                tx,
                meta,
                "refresh_token_reused",
                actor_id=stored.user_id,
                resource_type="session",
                resource_id=stored.family_id,
            )
        else:
            user = await users.get(tx, stored.user_id)
            if user is None or not user.is_active:
                raise Unauthorized("The account has been deactivated.", code="account_deactivated")
            await sessions.mark_used(tx, stored, now)
            return await issue_tokens(tx, runtime, user, meta, family_id=stored.family_id)
    await runtime.revocations.revoke_sessions([reused_family])
    raise Unauthorized(
        "This refresh token was already used; the session has been signed out.", code="refresh_token_reused"
    )


async def logout(
    runtime: Runtime, *, user_id: int, jti: str, session_id: str, expires_at: datetime, meta: RequestMeta
) -> None:
    now = _now()
    async with runtime.db.transaction() as tx:
        await sessions.revoke_family(tx, session_id, now)
        await record(tx, meta, "logout", actor_id=user_id, resource_type="session", resource_id=session_id)
    await runtime.revocations.revoke_token(jti, int((expires_at - now).total_seconds()) + 1)
    await runtime.revocations.revoke_sessions([session_id])
    await runtime.events.publish(_sessions_revoked(user_id))


async def update_profile(
    runtime: Runtime, *, user_id: int, is_blocked: bool, changes: dict[str, str | None]
) -> User:
    # The schema lets every field be omitted, but only avatar_url may be cleared: the names are NOT NULL.
    nulls = [name for name in ("first_name", "last_name") if name in changes and changes[name] is None]
    if nulls:
        raise ValidationFailed(
            "The request body is invalid.",
            details=[
                {"field": name, "location": "body", "message": "may not be null", "type": "null_not_allowed"}
                for name in nulls
            ],
        )
    if is_blocked:
        raise Forbidden("Blocked accounts cannot change their profile.", code="user_blocked")
    async with runtime.db.transaction() as tx:
        user = await users.get_for_update(tx, user_id)
        if user is None:
            raise Unauthorized("The account no longer exists.", code="invalid_token")
        return await users.set_fields(tx, user, **changes) if changes else user


async def change_password(
    runtime: Runtime, *, user_id: int, session_id: str, current: str, new: str, meta: RequestMeta
) -> None:
    async with runtime.db.read() as tx:
        user = await users.get(tx, user_id)
    if user is None:
        raise Unauthorized("The account no longer exists.", code="invalid_token")
    if user.password_hash is None:
        raise BadRequest("This account signs in with Google and has no password.", code="no_password")
    if not await verify_password(current, user.password_hash):
        raise BadRequest("The current password is incorrect.", code="invalid_current_password")
    if current == new:
        raise BadRequest("The new password must differ from the current one.", code="password_unchanged")
    new_hash = await hash_password(new, rounds=runtime.settings.bcrypt_rounds)
    async with runtime.db.transaction() as tx:
        locked = await users.get_for_update(tx, user_id)
        assert locked is not None
        await users.set_fields(tx, locked, password_hash=new_hash)
        revoked = await sessions.revoke_user_families(tx, user_id, _now(), keep=session_id)
        await record(
            tx,
            meta,
            "password_changed",
            actor_id=user_id,
            resource_type="user",
            resource_id=user_id,
            details={"sessions_revoked": len(revoked)},
        )
    await runtime.revocations.revoke_sessions(list(revoked))
    await runtime.events.publish(_sessions_revoked(user_id))


def _sessions_revoked(user_id: int) -> DomainEvent:
    """Open WebSockets of revoked sessions are closed when their connection is re-checked."""
    return DomainEvent(name="session.revoked", data={"user_id": user_id}, user_ids=(user_id,))
