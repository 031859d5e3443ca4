from __future__ import annotations

from app.auth import google, service
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
    UserPublic,
)
from app.http.meta import request_meta
from app.http.routing import Context, api_route
from app.users import service as users_service

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
async def register(ctx: Context[RegisterRequest, None]) -> TokenPair:
    body = ctx.body
    return await service.register(
        ctx.runtime,
        service.NewAccount(
            email=str(body.email),
            first_name=body.first_name,
            last_name=body.last_name,
            password=body.password,
        ),
        request_meta(ctx),
    )


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
async def login(ctx: Context[LoginRequest, None]) -> TokenPair:
    email = str(ctx.body.email).lower()
    await ctx.runtime.rate_limiter.hit(ctx.runtime.settings.rate_limit_login, "login_account", email)
    return await service.login(ctx.runtime, email=email, password=ctx.body.password, meta=request_meta(ctx))


@api_route(
    "POST",
    "/api/auth/refresh",
    summary="Rotate a refresh token for a new token pair",
    tags=TAGS,
    body=RefreshRequest,
    response=TokenPair,
    auth="none",
    errors=(401, 422),
)
async def refresh(ctx: Context[RefreshRequest, None]) -> TokenPair:
    return await service.refresh(ctx.runtime, refresh_token=ctx.body.refresh_token, meta=request_meta(ctx))


@api_route(
    "POST",
    "/api/auth/logout",
    summary="Revoke this access token and its session",
    tags=TAGS,
    response=Message,
    errors=(401,),
)
async def logout(ctx: Context[None, None]) -> Message:
    user = ctx.user
    await service.logout(
        ctx.runtime,
        user_id=user.user_id,
        jti=user.jti,
        session_id=user.session_id,
        expires_at=user.expires_at,
        meta=request_meta(ctx),
    )
    return Message(message="Signed out")


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
    errors=(503,),
)
async def google_url(ctx: Context[None, None]) -> GoogleUrl:
    return google.authorization_url(ctx.runtime)


@api_route(
    "POST",
    "/api/auth/google/callback",
    summary="Finish Google sign-in with the authorization code",
    tags=TAGS,
    body=GoogleCallback,
    response=TokenPair,
    auth="none",
    rate_limit="login",
    errors=(401, 409, 422, 503),
)
async def google_callback(ctx: Context[GoogleCallback, None]) -> TokenPair:
    return await google.sign_in(ctx.runtime, code=ctx.body.code, state=ctx.body.state, meta=request_meta(ctx))


routes = [register, login, refresh, logout, me, update_profile, change_password, google_url, google_callback]
