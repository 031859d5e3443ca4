"""Who is calling: the bearer token checked against its signature, the revocation list and the user row.

The role and the blocked/active flags come from the database on every request, so an admin's change
takes effect on the caller's next request rather than when the token expires.
"""

from __future__ import annotations

from typing import TypeVar

from starlette.requests import HTTPConnection

from app.errors import BadRequest, Unauthorized
from app.runtime import Runtime
from app.security.principal import Principal
from app.security.tokens import AccessClaims, InvalidToken
from app.stores import accounts
from app.stores.accounts import AccountState
from app.stores.models import User

# The caller's row as either read gives it: the plain per-request read or the ORM user (WebSocket).
_Account = TypeVar("_Account", AccountState, User)

_URL_TOKEN_PARAMS = ("token", "access_token", "jwt")


def reject_token_in_url(connection: HTTPConnection) -> None:
    """URLs end up in logs, histories and Referer headers, so a token there is refused outright."""
    if not connection.scope.get("query_string"):
        return  # no query string to parse (most requests)
    if any(name in connection.query_params for name in _URL_TOKEN_PARAMS):
        raise BadRequest(
            "Tokens are never accepted in the URL; send an Authorization header.", code="token_in_url"
        )


def bearer_token(connection: HTTPConnection) -> str | None:
    reject_token_in_url(connection)
    header = connection.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "Use the Authorization: Bearer <token> scheme.",
            code="invalid_token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


def _claims(connection: HTTPConnection, runtime: Runtime) -> AccessClaims | None:
    """Decode once per request; the result is cached on the connection's state."""
    if "claims" in connection.state._state:
        cached: AccessClaims | None = connection.state.claims
        return cached
    claims: AccessClaims | None = None
    token = bearer_token(connection)
    if token is not None:
        try:
            claims = runtime.tokens.decode_access(token)
        except InvalidToken as exc:
            connection.state.claims_error = exc
    connection.state.claims = claims
    return claims


def client_ip_key(connection: HTTPConnection) -> str:
    return f"ip:{connection.scope.get('client_ip') or 'unknown'}"


def rate_limit_key(connection: HTTPConnection, principal: Principal | None) -> str:
    """Per user only once the caller is authenticated (signature, revocation list and account all
    checked); public routes and callers without a usable token count against their address. A token
    that merely verifies must never buy a fresh bucket on sign-up or sign-in."""
    return f"user:{principal.user_id}" if principal is not None else client_ip_key(connection)


async def principal_from_token(token: str, runtime: Runtime) -> tuple[Principal, User]:
    """Used by the WebSocket hub, where the token arrives in the first frame; the user row comes along
    so the hub can describe the connection without reading it again."""
    try:
        claims = runtime.tokens.decode_access(token)
    except InvalidToken as exc:
        raise Unauthorized(exc.message, code=exc.code) from exc
    return await _principal_and_user(claims, runtime)


async def _principal(claims: AccessClaims, runtime: Runtime) -> Principal:
    """Every authenticated request: the revocation list and the caller's current role and flags, so a
    revocation or an account change counts on the next request (app/stores/callers.py: one Redis read,
    the row from PostgreSQL only after it changed)."""
    caller = await runtime.callers.caller(claims.jti, claims.session_id, claims.user_id)
    if caller.revoked:
        raise _revoked()
    account = _usable(caller.account)
    return _principal_of(claims, account.id, account.role, account.email, account.is_blocked)


async def _principal_and_user(claims: AccessClaims, runtime: Runtime) -> tuple[Principal, User]:
    await _refuse_revoked(claims, runtime)
    async with runtime.db.read() as tx:
        user = _usable(await accounts.account(tx, claims.user_id))
    return _principal_of(claims, user.id, user.role, user.email, user.is_blocked), user


async def _refuse_revoked(claims: AccessClaims, runtime: Runtime) -> None:
    if await runtime.revocations.is_revoked(claims.jti, claims.session_id):
        raise _revoked()


def _revoked() -> Unauthorized:
    return Unauthorized("The token has been revoked.", code="token_revoked")


def _usable(account: _Account | None) -> _Account:
    if account is None:
        raise Unauthorized("The account no longer exists.", code="invalid_token")
    if not account.is_active:
        raise Unauthorized("The account has been deactivated.", code="account_deactivated")
    return account


def _principal_of(claims: AccessClaims, user_id: int, role: str, email: str, is_blocked: bool) -> Principal:
    return Principal(
        user_id=user_id,
        role=role,
        email=email,
        is_blocked=is_blocked,
        jti=claims.jti,
        session_id=claims.session_id,
        expires_at=claims.expires_at,
    )


async def authenticate(connection: HTTPConnection, runtime: Runtime, *, required: bool) -> Principal | None:
    claims = _claims(connection, runtime)
    error: InvalidToken | None = getattr(connection.state, "claims_error", None)
    if error is not None:
        raise Unauthorized(error.message, code=error.code, headers={"WWW-Authenticate": "Bearer"})
    if claims is None:
        if required:
            raise Unauthorized(
                "Sign in to do this.", code="not_authenticated", headers={"WWW-Authenticate": "Bearer"}
            )
        return None
    return await _principal(claims, runtime)
