from __future__ import annotations

from app.http.meta import request_meta
from app.http.routing import Context, Page, api_route
from app.users import service
from app.users.schemas import (
    BlockResult,
    DeactivateResult,
    RoleChange,
    RoleChanged,
    UserListQuery,
    UserPublic,
    UserRef,
)

TAGS = ["users"]
ADMIN = ("admin",)


@api_route(
    "GET",
    "/api/users",
    summary="List users (admin); filters: role, search",
    tags=TAGS,
    query=UserListQuery,
    response=list[UserPublic],
    roles=ADMIN,
    errors=(401, 403, 422),
    paged=True,
)
async def list_users(ctx: Context[None, UserListQuery]) -> Page[UserPublic]:
    q = ctx.query
    items, total = await service.list_users(
        ctx.runtime, skip=q.skip, limit=q.limit, role=q.role, search=q.search
    )
    return Page(items, total)


@api_route(
    "GET",
    "/api/users/{user_id:int}",
    summary="One user (admin)",
    tags=TAGS,
    response=UserPublic,
    roles=ADMIN,
    errors=(401, 403, 404),
)
async def get_user(ctx: Context[None, None]) -> UserPublic:
    return await service.get_user(ctx.runtime, ctx.path_param("user_id"))


@api_route(
    "PUT",
    "/api/users/{user_id:int}/role",
    summary="Change a user's role (admin; not your own)",
    tags=TAGS,
    body=RoleChange,
    response=RoleChanged,
    roles=ADMIN,
    errors=(400, 401, 403, 404, 422),
)
async def change_role(ctx: Context[RoleChange, None]) -> RoleChanged:
    user = await service.change_role(
        ctx.runtime,
        actor_id=ctx.user.user_id,
        user_id=ctx.path_param("user_id"),
        role=ctx.body.role,
        meta=request_meta(ctx),
    )
    return RoleChanged(
        **user.model_dump(),
        message=f"User role updated to {user.role}",
        user=UserRef(id=user.id, email=user.email, role=user.role),
    )


@api_route(
    "POST",
    "/api/users/{user_id:int}/block",
    summary="Block or unblock a user (toggles; admin)",
    tags=TAGS,
    response=BlockResult,
    roles=ADMIN,
    errors=(400, 401, 403, 404),
)
async def toggle_block(ctx: Context[None, None]) -> BlockResult:
    blocked = await service.toggle_block(
        ctx.runtime, actor_id=ctx.user.user_id, user_id=ctx.path_param("user_id"), meta=request_meta(ctx)
    )
    return BlockResult(message="User blocked" if blocked else "User unblocked", is_blocked=blocked)


@api_route(
    "POST",
    "/api/users/{user_id:int}/deactivate",
    summary="Deactivate a user (admin); signs them out",
    tags=TAGS,
    response=DeactivateResult,
    roles=ADMIN,
    errors=(400, 401, 403, 404),
)
async def deactivate(ctx: Context[None, None]) -> DeactivateResult:
    await service.deactivate(
        ctx.runtime, actor_id=ctx.user.user_id, user_id=ctx.path_param("user_id"), meta=request_meta(ctx)
    )
    return DeactivateResult(message="User deactivated", is_active=False)


routes = [list_users, get_user, change_role, toggle_block, deactivate]
