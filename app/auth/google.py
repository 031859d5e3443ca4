"""Google sign-in (OAuth 2.0 authorization code). Endpoints come from settings, so tests point them at a
local stand-in provider."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from app.audit.service import record
from app.auth.schemas import GoogleUrl, TokenPair
from app.auth.service import NewAccount, create_account, issue_tokens
from app.errors import Conflict, ServiceUnavailable, Unauthorized
from app.http.meta import RequestMeta
from app.runtime import Runtime
from app.security.tokens import InvalidToken
from app.stores import sessions
from app.stores.models import User
from app.stores.sql import Tx
from app.users import store as users
from app.users.service import sessions_revoked

STATE_TTL_SECONDS = 600


def _require_enabled(runtime: Runtime) -> None:
    if not runtime.settings.google_enabled:
        raise ServiceUnavailable(
            "Google sign-in is not configured on this server.", code="google_not_configured"
        )


@dataclass(frozen=True)
class SignInStart:
    url: GoogleUrl
    nonce: str  # goes to the browser in an HttpOnly cookie; the state carries only its hash
    ttl_seconds: int = STATE_TTL_SECONDS


def _nonce_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def authorization_url(runtime: Runtime) -> SignInStart:
    _require_enabled(runtime)
    settings = runtime.settings
    nonce = secrets.token_urlsafe(32)
    state = runtime.tokens.sign_state(
        {"nonce": _nonce_hash(nonce), "jti": secrets.token_urlsafe(16)}, STATE_TTL_SECONDS
    )
    query = urlencode(
        {
            "client_id": settings.google_client_id,
            "redirect_uri": settings.google_redirect_uri,
            "response_type": "code",
            "scope": "openid email profile",
            "state": state,
            "access_type": "online",
            "prompt": "select_account",
        }
    )
    return SignInStart(url=GoogleUrl(url=f"{settings.google_auth_url}?{query}", state=state), nonce=nonce)


async def _check_state(runtime: Runtime, state: str, browser_nonce: str | None) -> None:
    """The state must be ours, unexpired, issued to this browser (its cookie holds the nonce whose hash
    the state carries) and unused: a callback replayed, or posted by a page that got someone else's
    code and state (login CSRF), is refused."""
    try:
        payload = runtime.tokens.verify_state(state)
    except InvalidToken as exc:
        raise Unauthorized(exc.message, code=exc.code) from exc
    expected, state_id = payload.get("nonce"), payload.get("jti")
    if not isinstance(expected, str) or not isinstance(state_id, str):
        raise Unauthorized("The sign-in state is invalid or has expired.", code="invalid_state")
    if browser_nonce is None or not hmac.compare_digest(_nonce_hash(browser_nonce), expected):
        raise Unauthorized(
            "This Google sign-in was not started in this browser; start it again.", code="state_mismatch"
        )
    if not await runtime.revocations.use_once(f"oauth-state:{state_id}", STATE_TTL_SECONDS):
        raise Unauthorized("This Google sign-in was already completed; start it again.", code="state_used")


def _raise_for_outage(response: httpx.Response) -> None:
    """A 5xx from Google is an outage, not a refusal of this sign-in."""
    if response.status_code >= 500:
        raise httpx.HTTPStatusError(
            f"provider answered {response.status_code}", request=response.request, response=response
        )


def _json_object(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    if not isinstance(body, dict):
        raise ValueError("provider answered with something other than a JSON object")
    return body


async def _provider_profile(runtime: Runtime, code: str) -> dict[str, Any]:
    settings = runtime.settings
    failed = Unauthorized("Google did not accept this sign-in.", code="google_auth_failed")
    try:
        token_response = await runtime.http.post(
            settings.google_token_url,
            data={
                "code": code,
                "client_id": settings.google_client_id,
                "client_secret": settings.google_client_secret,
                "redirect_uri": settings.google_redirect_uri,
                "grant_type": "authorization_code",
            },
            headers={"Accept": "application/json"},
        )
        _raise_for_outage(token_response)
        if token_response.status_code != 200:
            raise failed
        access_token = _json_object(token_response).get("access_token")
        if not isinstance(access_token, str):
            raise failed
        info_response = await runtime.http.get(
            settings.google_userinfo_url, headers={"Authorization": f"Bearer {access_token}"}
        )
        _raise_for_outage(info_response)
        if info_response.status_code != 200:
            raise failed
        profile = _json_object(info_response)
    except (httpx.HTTPError, ValueError) as exc:
        raise ServiceUnavailable(
            "Google could not be reached; try again.", code="google_unavailable"
        ) from exc
    if not profile.get("sub") or not profile.get("email") or profile.get("email_verified") is not True:
        raise Unauthorized("Google did not confirm a verified email address.", code="google_email_unverified")
    return profile


async def sign_in(
    runtime: Runtime, *, code: str, state: str, browser_nonce: str | None, meta: RequestMeta
) -> TokenPair:
    _require_enabled(runtime)
    await _check_state(runtime, state, browser_nonce)
    profile = await _provider_profile(runtime, code)
    google_sub, email = str(profile["sub"]), str(profile["email"]).lower()
    revoked: list[str] = []
    async with runtime.db.transaction() as tx:
        user = await users.get_by_google_sub(tx, google_sub)
        if user is None:
            user = await users.get_by_email(tx, email, for_update=True)
            if user is not None and user.google_sub is not None:
                # The address now belongs to another Google account than the one linked: taking the
                # user over through it would let whoever holds the address in Google own the account.
                raise Conflict(
                    "This email is linked to a different Google account.", code="google_account_mismatch"
                )
            if user is not None:
                revoked = await _link(tx, user, google_sub, meta)
        if user is None:
            user = await create_account(
                tx,
                runtime,
                NewAccount(
                    email=email,
                    first_name=str(profile.get("given_name") or email.split("@")[0])[:100],
                    last_name=str(profile.get("family_name") or "")[:100] or "-",
                    password=None,
                    avatar_url=profile.get("picture") if isinstance(profile.get("picture"), str) else None,
                    google_sub=google_sub,
                ),
                meta,
            )
        if not user.is_active:
            raise Unauthorized("The account has been deactivated.", code="account_deactivated")
        await users.set_fields(tx, user, last_login_at=datetime.now(UTC))
        await record(
            tx,
            meta,
            "login",
            actor_id=user.id,
            resource_type="user",
            resource_id=user.id,
            details={"method": "google"},
        )
        tokens = await issue_tokens(tx, runtime, user, meta)
    if revoked:
        await runtime.revocations.revoke_sessions(revoked)
        await runtime.events.publish(sessions_revoked(user.id))
    return tokens


async def _link(tx: Tx, user: User, google_sub: str, meta: RequestMeta) -> list[str]:
    """First Google sign-in to an account registered with a password. Sign-up never proves that the
    registrant owns the address, so the password may be someone else's (who registered the address
    before its owner): Google has now verified the owner, so the password is cleared and every session
    of the account is signed out. The owner signs in with Google from now on."""
    had_password = user.password_hash is not None
    revoked = list(await sessions.revoke_user_families(tx, user.id, datetime.now(UTC)))
    await users.set_fields(tx, user, google_sub=google_sub, password_hash=None)
    await record(
        tx,
        meta,
        "google_linked",
        actor_id=user.id,
        resource_type="user",
        resource_id=user.id,
        details={"password_cleared": had_password, "sessions_revoked": len(revoked)},
    )
    return revoked
