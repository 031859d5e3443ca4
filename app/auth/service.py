"""Sign-up, sign-in, token rotation, sign-out and password changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.audit.service import record
from app.auth.schemas import TokenPair
from app.errors import BadRequest, Conflict, Forbidden, TooManyRequests, Unauthorized, ValidationFailed
from app.http.meta import RequestMeta
from app.runtime import Runtime
from app.security.passwords import hash_password, verify_password
from app.security.tokens import InvalidToken, new_refresh_token, parse_refresh_token
from app.stores import sessions
from app.stores.models import User
from app.stores.sql import Tx
from app.users import store as users
from app.users.service import sessions_revoked


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
        tokens = await issue_tokens(tx, runtime, user, meta)
    # The client that created the account counts as one it signed in from (see login).
    await runtime.login_attempts.succeeded(account.email.lower(), meta.ip or "unknown")
    return tokens


async def login(runtime: Runtime, *, email: str, password: str, meta: RequestMeta) -> TokenPair:
    """Every failure looks the same from outside: an unknown email, a wrong password and a deactivated
    account's right password all cost one bcrypt check at the configured cost, count against the
    (account, client) pair and answer 401 `invalid_credentials`."""
    settings = runtime.settings
    attempts = runtime.login_attempts
    email = email.lower()
    client = meta.ip or "unknown"
    wait = await attempts.wait_seconds(email, client)
    if wait:
        raise _throttled(wait)
    if not await attempts.is_known(email, client):
        # Attempts at one account from everywhere else; clients it signed in from recently are exempt,
        # so guessing from elsewhere never keeps the owner out.
        await runtime.rate_limiter.hit(settings.rate_limit_login_account, "login_account", email)
    async with runtime.db.read() as tx:
        found = await users.get_by_email(tx, email)
    password_ok = await verify_password(
        password, found.password_hash if found else None, rounds=settings.bcrypt_rounds
    )
    if found is not None and password_ok and found.is_active:
        async with runtime.db.transaction() as tx:
            user = await users.get_by_email(tx, email, for_update=True)
            if user is not None and user.is_active:
                await users.set_fields(tx, user, last_login_at=_now())
                await record(tx, meta, "login", actor_id=user.id, resource_type="user", resource_id=user.id)
                tokens = await issue_tokens(tx, runtime, user, meta)
            else:
                tokens = None
        if tokens is not None:
            await attempts.succeeded(email, client)
            return tokens
    failures, delay = await attempts.failed(email, client)
    reason = "bad_credentials" if found is None or not password_ok else "account_deactivated"
    async with runtime.db.transaction() as tx:
        actor = found.id if found else None
        await record(
            tx,
            meta,
            "login_failed",
            actor_id=actor,
            resource_type="user",
            resource_id=actor,
            details={"email": email, "reason": reason},
        )
        if delay and failures == settings.login_free_failures + 1:
            await record(
                tx,
                meta,
                "login_throttled",
                actor_id=actor,
                resource_type="user",
                resource_id=actor,
                details={"email": email, "failures": failures, "client": client},
            )
    raise Unauthorized("The email or password is incorrect.", code="invalid_credentials")


def _throttled(seconds: int) -> TooManyRequests:
    return TooManyRequests(
        "Too many failed sign-ins from here; wait before trying again.",
        code="login_throttled",
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
    reused_by = 0
    async with runtime.db.transaction() as tx:
        stored = await sessions.get_for_update(tx, presented.token_id)
        if stored is None or stored.token_hash != presented.secret_hash:
            raise invalid
        if stored.revoked_at is not None or stored.expires_at <= now:
            raise invalid
        if stored.used_at is not None:
            # A rotated token came back: someone holds a copy. End the whole session for both.
            reused_family, reused_by = stored.family_id, stored.user_id
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
    # As on logout: open WebSockets of the session (the thief's among them) are closed now, not when
    # their access token runs out.
    await runtime.events.publish(sessions_revoked(reused_by))
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
    await runtime.events.publish(sessions_revoked(user_id))


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
    if not await verify_password(current, user.password_hash, rounds=runtime.settings.bcrypt_rounds):
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
    await runtime.events.publish(sessions_revoked(user_id))
