from __future__ import annotations

from app.discussions import service
from app.discussions.schemas import (
    CourseFilterQuery,
    DiscussionCreate,
    DiscussionItem,
    DiscussionListQuery,
    DiscussionUpdate,
    MessageItem,
    ReplyCreate,
    ReplySent,
    VoteRequest,
    VoteResult,
)
from app.http.meta import request_meta
from app.http.routing import Context, Page, api_route
from app.http.schemas import Message

TAGS = ["discussions"]


@api_route(
    "GET",
    "/api/courses/{course_id:int}/discussions",
    summary="A course's posts, replies included, newest first; threads=true for first posts only, "
    "parent_id for one thread's replies (enrolled learners, owner, admin)",
    tags=TAGS,
    query=DiscussionListQuery,
    response=list[DiscussionItem],
    errors=(401, 403, 404, 422),
    paged=True,
)
async def list_discussions(ctx: Context[None, DiscussionListQuery]) -> Page[DiscussionItem]:
    """A flat list: every post the caller may see, replies included (a reply has a `parent_id`). With
    `threads=true`: first posts only; with `parent_id`: that thread's replies. `lesson_id` narrows to one
    lesson. Private posts appear only to their author, the thread's starter, the course owner and admins.
    `limit` is at most 100."""
    q = ctx.query
    items, total = await service.list_discussions(ctx.runtime, ctx.user, ctx.path_param("course_id"), q)
    return Page(items, total)


@api_route(
    "POST",
    "/api/courses/{course_id:int}/discussions",
    summary="Start a thread or reply to one (enrolled learners, owner, admin; not blocked users)",
    tags=TAGS,
    body=DiscussionCreate,
    response=DiscussionItem,
    status_code=201,
    errors=(401, 403, 404, 422),
)
async def create_post(ctx: Context[DiscussionCreate, None]) -> DiscussionItem:
    """Content is plain text (1–5000 characters), shown as text, never as HTML. A reply to a private
    post is private; a reply takes its thread's lesson."""
    return await service.create_post(ctx.runtime, ctx.user, ctx.path_param("course_id"), ctx.body)


@api_route(
    "PUT",
    "/api/discussions/{comment_id:int}",
    summary="Edit a post (its author within the edit window; the course owner or an admin any time)",
    tags=TAGS,
    body=DiscussionUpdate,
    response=DiscussionItem,
    errors=(401, 403, 404, 422),
)
async def edit_post(ctx: Context[DiscussionUpdate, None]) -> DiscussionItem:
    return await service.edit_post(ctx.runtime, ctx.user, ctx.path_param("comment_id"), ctx.body.content)


@api_route(
    "DELETE",
    "/api/discussions/{comment_id:int}",
    summary="Delete a post and its replies (author, course owner, admin); audited",
    tags=TAGS,
    response=Message,
    errors=(401, 403, 404),
)
async def delete_post(ctx: Context[None, None]) -> Message:
    await service.delete_post(ctx.runtime, ctx.user, ctx.path_param("comment_id"), request_meta(ctx))
    return Message(message="Comment deleted successfully")


@api_route(
    "POST",
    "/api/discussions/{comment_id:int}/vote",
    summary="Vote on a post: the same vote again removes it, the opposite one switches it",
    tags=TAGS,
    body=VoteRequest,
    response=VoteResult,
    errors=(401, 403, 404, 409, 422),
)
async def vote(ctx: Context[VoteRequest, None]) -> VoteResult:
    """Not on your own post (403 cannot_vote_own). `downvotes` is null unless you own the course or are
    an admin."""
    return await service.vote(ctx.runtime, ctx.user, ctx.path_param("comment_id"), ctx.body.vote_type)


@api_route(
    "POST",
    "/api/discussions/{comment_id:int}/reply",
    summary="Reply privately to a post's author (course owner, admin)",
    tags=TAGS,
    body=ReplyCreate,
    response=ReplySent,
    status_code=201,
    errors=(401, 403, 404, 422),
)
async def private_reply(ctx: Context[ReplyCreate, None]) -> ReplySent:
    """Creates a private reply in the post's thread, seen only by the thread's starter and staff."""
    return await service.private_reply(ctx.runtime, ctx.user, ctx.path_param("comment_id"), ctx.body.content)


@api_route(
    "GET",
    "/api/admin/messages",
    summary="Private threads of my courses (instructor) or of every course (admin), newest first",
    tags=TAGS,
    query=CourseFilterQuery,
    response=list[MessageItem],
    roles=("instructor", "admin"),
    errors=(401, 403, 404, 422),
    paged=True,
)
async def staff_messages(ctx: Context[None, CourseFilterQuery]) -> Page[MessageItem]:
    q = ctx.query
    items, total = await service.staff_messages(
        ctx.runtime, ctx.user, course_id=q.course_id, skip=q.skip, limit=q.limit
    )
    return Page(items, total)


routes = [
    list_discussions,
    create_post,
    edit_post,
    delete_post,
    vote,
    private_reply,
    staff_messages,
]
