"""Google sign-in (OAuth 2.0 authorization code). Endpoints come from settings, so tests point them at a
local stand-in provider."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from app.audit.service import RequestMeta, record
from app.auth.schemas import GoogleUrl, TokenPair
from app.auth.service import NewAccount, create_account, issue_tokens
from app.errors import Conflict, ServiceUnavailable, Unauthorized
from app.runtime import Runtime
from app.security.tokens import InvalidToken
from app.users import store as users

_STATE_TTL_SECONDS = 600


def _require_enabled(runtime: Runtime) -> None:
    if not runtime.settings.google_enabled:
        raise ServiceUnavailable(
            "Google sign-in is not configured on this server.", code="google_not_configured"
        )


def authorization_url(runtime: Runtime) -> GoogleUrl:
    _require_enabled(runtime)
    settings = runtime.settings
    state = runtime.tokens.sign_state({"nonce": secrets.token_urlsafe(16)}, _STATE_TTL_SECONDS)
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
    return GoogleUrl(url=f"{settings.google_auth_url}?{query}", state=state)


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


async def sign_in(runtime: Runtime, *, code: str, state: str, meta: RequestMeta) -> TokenPair:
    _require_enabled(runtime)
    try:
        runtime.tokens.verify_state(state)
    except InvalidToken as exc:
        raise Unauthorized(exc.message, code=exc.code) from exc
    profile = await _provider_profile(runtime, code)
    google_sub, email = str(profile["sub"]), str(profile["email"]).lower()
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
                # The provider verified the address, so the existing account is the same person's.
                await users.set_fields(tx, user, google_sub=google_sub)
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
        return await issue_tokens(tx, runtime, user, meta)
