from __future__ import annotations

from app.discussions import service as discussions
from app.discussions.schemas import MessageItem
from app.http.routing import Context, Page, api_route
from app.http.schemas import PageQuery
from app.messages import service
from app.messages.schemas import (
    ChatSummary,
    ChatUser,
    HistoryQuery,
    MessageCreate,
    MessagePublic,
    PartnerQuery,
    ReadQuery,
    ReadResult,
)

TAGS = ["messages"]


@api_route(
    "GET",
    "/api/chat-partners",
    summary="People the caller may message (admins see every active user); filters: search, role",
    tags=TAGS,
    query=PartnerQuery,
    response=list[ChatUser],
    errors=(401, 422),
    paged=True,
)
async def chat_partners(ctx: Context[None, PartnerQuery]) -> Page[ChatUser]:
    """A learner's instructors and an instructor's learners (through course enrollments), plus every
    admin; an admin may message anyone, so an admin gets every active user. Sorted by name, paged with
    skip/limit (limit at most 100)."""
    q = ctx.query
    items, total = await service.chat_partners(
        ctx.runtime, ctx.user, search=q.search, role=q.role, skip=q.skip, limit=q.limit
    )
    return Page(items, total)


@api_route(
    "GET",
    "/api/chats",
    summary="The caller's conversations, newest first, with unread counts",
    tags=TAGS,
    query=PageQuery,
    response=list[ChatSummary],
    errors=(401, 422),
    paged=True,
)
async def list_chats(ctx: Context[None, PageQuery]) -> Page[ChatSummary]:
    """One entry per partner: the partner, the newest message either way and how many of the partner's
    messages the caller has not read. Conversations with deactivated users are left out. Paged with
    skip/limit (limit at most 100)."""
    q = ctx.query
    items, total = await service.chats(ctx.runtime, ctx.user, skip=q.skip, limit=q.limit)
    return Page(items, total)


@api_route(
    "GET",
    "/api/chats/{partner_id:int}",
    summary="A conversation's newest messages, oldest first; page back with `before` (a message id)",
    tags=TAGS,
    query=HistoryQuery,
    response=list[MessagePublic],
    errors=(400, 401, 404, 422),
    paged=True,
)
async def history(ctx: Context[None, HistoryQuery]) -> list[MessagePublic]:
    """404 unless the caller may message the partner or already has a conversation with them.
    Cursor paging: a page holds the newest messages with ids below `before` (default: the newest of
    all), at most `limit` (default 50, at most 100), listed oldest first as a chat shows them.
    X-Total-Count is the conversation's size; the Link header's rel="next" points at the next older page
    while there is one."""
    q = ctx.query
    items, total, more = await service.history(
        ctx.runtime, ctx.user, ctx.path_param("partner_id"), before=q.before, limit=q.limit
    )
    newest = ctx.request.url.remove_query_params("before").include_query_params(limit=q.limit)
    links = [f'<{newest}>; rel="first"']
    if more and items:
        older = ctx.request.url.include_query_params(before=items[-1].id, limit=q.limit)
        links.append(f'<{older}>; rel="next"')
    ctx.response_headers.update({"X-Total-Count": str(total), "Link": ", ".join(links)})
    return items[::-1]


@api_route(
    "POST",
    "/api/chats/{partner_id:int}",
    summary="Send a plain-text message (1-2000 characters) to someone the caller may message",
    tags=TAGS,
    body=MessageCreate,
    response=MessagePublic,
    status_code=201,
    errors=(400, 401, 403, 404, 422),
)
async def send(ctx: Context[MessageCreate, None]) -> MessagePublic:
    """Allowed between a learner and the instructors of their courses, and between anyone and admins.
    404 for unknown or deactivated recipients and for anyone outside the rule the caller never talked
    with (so the answer does not tell whether an account exists); 403 `cannot_message` when a
    conversation exists but the relationship has ended; 403 `user_blocked` for blocked senders."""
    return await service.send(ctx.runtime, ctx.user, ctx.path_param("partner_id"), ctx.body.content)


@api_route(
    "PUT",
    "/api/chats/{partner_id:int}/read",
    summary="Mark the partner's messages to the caller as read (optionally only up to a message id)",
    tags=TAGS,
    query=ReadQuery,
    response=ReadResult,
    errors=(400, 401, 404, 422),
)
async def mark_read(ctx: Context[None, ReadQuery]) -> ReadResult:
    """The partner is told (a read receipt) when anything was newly marked."""
    return await service.mark_read(ctx.runtime, ctx.user, ctx.path_param("partner_id"), up_to=ctx.query.up_to)


@api_route(
    "GET",
    "/api/my-messages",
    summary="My private posts and replies, and the private replies to my threads, newest first",
    tags=["discussions"],  # listed with the posts they come from
    query=PageQuery,
    response=list[MessageItem],
    errors=(401, 422),
    paged=True,
)
async def my_messages(ctx: Context[None, PageQuery]) -> Page[MessageItem]:
    q = ctx.query
    items, total = await discussions.my_messages(ctx.runtime, ctx.user, skip=q.skip, limit=q.limit)
    return Page(items, total)


routes = [my_messages, chat_partners, list_chats, history, send, mark_read]
