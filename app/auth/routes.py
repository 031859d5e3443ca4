from __future__ import annotations

from starlette.responses import Response

from app.auth import google, service
from app.auth.cookies import (
    clear_refresh_cookie,
    clear_state_cookie,
    json_response,
    refresh_cookie,
    set_state_cookie,
    state_cookie,
    token_response,
)
from app.auth.schemas import (
    GoogleCallback,
    GoogleUrl,
    LoginRequest,
    Message,
    PasswordChange,
    ProfileUpdate,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
)
from app.errors import Unauthorized
from app.http.meta import request_meta
from app.http.routing import Context, api_route
from app.users import service as users_service
from app.users.schemas import UserPublic

TAGS = ["auth"]


@api_route(
    "POST",
    "/api/auth/register",
    summary="Create a learner account",
    tags=TAGS,
    body=RegisterRequest,
    response=TokenPair,
    status_code=201,
    auth="none",
    rate_limit="register",
    errors=(409, 422, 429),
)
async def register(ctx: Context[RegisterRequest, None]) -> Response:
    """The refresh token also comes as an HttpOnly cookie scoped to /api/auth/refresh (see refresh)."""
    body = ctx.body
    tokens = await service.register(
        ctx.runtime,
        service.NewAccount(
            email=str(body.email),
            first_name=body.first_name,
            last_name=body.last_name,
            password=body.password,
        ),
        request_meta(ctx),
    )
    return token_response(ctx.runtime.settings, tokens, 201)


@api_route(
    "POST",
    "/api/auth/login",
    summary="Sign in with email and password",
    tags=TAGS,
    body=LoginRequest,
    response=TokenPair,
    auth="none",
    rate_limit="login",
    errors=(401, 422, 429),
)
async def login(ctx: Context[LoginRequest, None]) -> Response:
    """Limited per client address and per account (clients the account signed in from recently are
    exempt from the latter). Failed attempts are throttled per (account, client): after a few, each
    failure doubles the wait before the next try (429 `login_throttled` with Retry-After). Unknown
    emails, wrong passwords and deactivated accounts all get 401 `invalid_credentials`."""
    tokens = await service.login(
        ctx.runtime, email=str(ctx.body.email), password=ctx.body.password, meta=request_meta(ctx)
    )
    return token_response(ctx.runtime.settings, tokens)


@api_route(
    "POST",
    "/api/auth/refresh",
    summary="Rotate a refresh token for a new token pair",
    tags=TAGS,
    body=RefreshRequest,
    response=TokenPair,
    auth="none",
    errors=(401, 422, 429),
)
async def refresh(ctx: Context[RefreshRequest, None]) -> Response:
    """The refresh token comes from the body (`refresh_token`) or, when the body has none, from the
    `lf_refresh` cookie that token responses set (HttpOnly, SameSite=Strict, Path=/api/auth/refresh)."""
    presented = ctx.body.refresh_token or refresh_cookie(ctx.request)
    if presented is None:
        raise Unauthorized("No refresh token was sent.", code="invalid_refresh_token")
    tokens = await service.refresh(ctx.runtime, refresh_token=presented, meta=request_meta(ctx))
    return token_response(ctx.runtime.settings, tokens)


@api_route(
    "POST",
    "/api/auth/logout",
    summary="Revoke this access token and its session",
    tags=TAGS,
    response=Message,
    errors=(401,),
)
async def logout(ctx: Context[None, None]) -> Response:
    user = ctx.user
    await service.logout(
        ctx.runtime,
        user_id=user.user_id,
        jti=user.jti,
        session_id=user.session_id,
        expires_at=user.expires_at,
        meta=request_meta(ctx),
    )
    return clear_refresh_cookie(json_response(Message(message="Signed out")), ctx.runtime.settings)


@api_route("GET", "/api/auth/me", summary="The signed-in user", tags=TAGS, response=UserPublic, errors=(401,))
async def me(ctx: Context[None, None]) -> UserPublic:
    return await users_service.get_public(ctx.runtime, ctx.user.user_id)


@api_route(
    "PUT",
    "/api/auth/profile",
    summary="Update your name or avatar",
    tags=TAGS,
    body=ProfileUpdate,
    response=UserPublic,
    errors=(401, 403, 422),
)
async def update_profile(ctx: Context[ProfileUpdate, None]) -> UserPublic:
    user = await service.update_profile(
        ctx.runtime,
        user_id=ctx.user.user_id,
        is_blocked=ctx.user.is_blocked,
        changes=ctx.body.model_dump(exclude_unset=True),
    )
    return UserPublic.model_validate(user)


@api_route(
    "PUT",
    "/api/auth/password",
    summary="Change your password (signs out your other sessions)",
    tags=TAGS,
    body=PasswordChange,
    response=Message,
    errors=(400, 401, 422),
)
async def change_password(ctx: Context[PasswordChange, None]) -> Message:
    await service.change_password(
        ctx.runtime,
        user_id=ctx.user.user_id,
        session_id=ctx.user.session_id,
        current=ctx.body.current_password,
        new=ctx.body.new_password,
        meta=request_meta(ctx),
    )
    return Message(message="Password changed")


@api_route(
    "GET",
    "/api/auth/google/url",
    summary="Where to send the browser for Google sign-in",
    tags=TAGS,
    response=GoogleUrl,
    auth="none",
    errors=(429, 503),
)
async def google_url(ctx: Context[None, None]) -> Response:
    """Also sets the `lf_oauth_state` cookie (HttpOnly, SameSite=Strict, Path=/api/auth/google): the
    callback is accepted only from the browser holding it, once."""
    start = google.authorization_url(ctx.runtime)
    response = json_response(start.url, no_store=True)
    return set_state_cookie(response, ctx.runtime.settings, start.nonce, start.ttl_seconds)


@api_route(
    "POST",
    "/api/auth/google/callback",
    summary="Finish Google sign-in with the authorization code",
    tags=TAGS,
    body=GoogleCallback,
    response=TokenPair,
    auth="none",
    rate_limit="login",
    errors=(401, 409, 422, 429, 503),
)
async def google_callback(ctx: Context[GoogleCallback, None]) -> Response:
    """401 `state_mismatch` without the browser's `lf_oauth_state` cookie, `state_used` for a replay.
    The first Google sign-in to an account registered with a password links it, clears that password
    and signs out the account's other sessions (sign-up never proved who owns the address)."""
    tokens = await google.sign_in(
        ctx.runtime,
        code=ctx.body.code,
        state=ctx.body.state,
        browser_nonce=state_cookie(ctx.request),
        meta=request_meta(ctx),
    )
    return clear_state_cookie(token_response(ctx.runtime.settings, tokens), ctx.runtime.settings)


routes = [register, login, refresh, logout, me, update_profile, change_password, google_url, google_callback]
