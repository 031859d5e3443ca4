"""Course discussions: threads, replies, votes, and private questions to a course's staff.

Rules (docs/PRODUCT.md, "Roles and permissions" and "REST surface by area"):
- Threads are two levels deep: a post with no parent starts a thread, and every reply points at the
  thread's first post (replying to a reply joins that reply's thread).
- A private post is visible to its author, the author of the thread it belongs to, the course owner and
  admins. A reply in a private thread is private too, so a private question and its answers stay
  between the learner who asked and the staff. Everyone else gets 404 for it, as if it did not exist.
- Blocked users read but do not post, edit, delete, or vote.
- Votes: the same vote again removes it, the opposite one switches it; nobody votes on their own post.
  Everyone sees upvotes; downvotes only the course owner and admins.
- Events are published after the transaction commits, never from inside it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from app import channels
from app.audit.service import record
from app.courses import store as courses
from app.courses.access import managed_course, participant_course, require_not_blocked
from app.courses.store import CourseAccess
from app.discussions import store
from app.discussions.schemas import (
    Author,
    DiscussionCreate,
    DiscussionItem,
    DiscussionListQuery,
    MessageItem,
    ReplySent,
    VoteResult,
)
from app.discussions.store import Viewer
from app.errors import Forbidden, NotFound, ValidationFailed
from app.events import DomainEvent
from app.http.meta import RequestMeta
from app.runtime import Runtime
from app.security.principal import Principal
from app.stores.models import Comment
from app.stores.mongo import LESSONS, DocumentStore
from app.stores.sql import Database, Tx
from app.syllabus import store as lessons
from app.timestamps import iso_z
from app.users import store as users

log = logging.getLogger(__name__)

AUDIT_EXCERPT = 500


@dataclass(frozen=True)
class Scope:
    """A post the caller may see, with its thread's first post (None for a first post) and course."""

    comment: Comment
    thread: Comment | None
    course: CourseAccess
    is_manager: bool
    viewer: Viewer

    @property
    def starter_id(self) -> int:
        return (self.thread or self.comment).user_id


def _course_viewer(principal: Principal, course_id: int, is_manager: bool) -> Viewer:
    return Viewer(
        user_id=principal.user_id,
        sees_all=principal.is_admin,
        managed=frozenset({course_id}) if is_manager else frozenset(),
    )


async def _global_viewer(tx: Tx, principal: Principal) -> Viewer:
    if principal.is_admin:
        return Viewer(user_id=principal.user_id, sees_all=True)
    if principal.role == "instructor":
        owned = await courses.course_ids_owned_by(tx, principal.user_id)
        return Viewer(user_id=principal.user_id, managed=frozenset(owned))
    return Viewer(user_id=principal.user_id)


def _can_see(viewer: Viewer, comment: Comment, thread: Comment | None) -> bool:
    """The Python twin of store._visible, for a single post already loaded."""
    return (
        viewer.sees_all
        or comment.course_id in viewer.managed
        or not comment.is_private
        or comment.user_id == viewer.user_id
        or (thread is not None and thread.user_id == viewer.user_id)
    )


def _not_found() -> NotFound:
    return NotFound("No such post.", code="comment_not_found")


def _invalid(field: str, message: str, kind: str) -> ValidationFailed:
    return ValidationFailed(
        "The request body is invalid.",
        details=[{"field": field, "location": "body", "message": message, "type": kind}],
    )


async def _scope(
    tx: Tx,
    db: Database,
    principal: Principal,
    comment_id: int,
    *,
    for_update: bool = False,
    for_reply: bool = False,
) -> Scope:
    """The post, if the caller takes part in its course and may see it (404 otherwise; 403 not_enrolled
    for a course the caller does not take part in). `for_update` locks the post's row; `for_reply` keeps
    its thread's first post from being deleted before the transaction ends."""
    comment = await store.get(tx, comment_id, for_update=for_update)
    if comment is None:
        raise _not_found()
    course, is_manager = await participant_course(db, principal, comment.course_id)
    viewer = _course_viewer(principal, course.id, is_manager)
    thread = await _thread_of(tx, comment, lock=for_reply)
    if not _can_see(viewer, comment, thread) or (thread is not None and not _can_see(viewer, thread, None)):
        raise _not_found()
    return Scope(comment=comment, thread=thread, course=course, is_manager=is_manager, viewer=viewer)


async def _thread_of(tx: Tx, comment: Comment, *, lock: bool) -> Comment | None:
    """The first post of `comment`'s thread (None when `comment` is one). With `lock`, that first post is
    locked FOR KEY SHARE, and only it: a thread's deletion locks the first post before its replies, so
    locking in the same order cannot deadlock with it."""
    if comment.parent_id is None:
        if lock and await store.get(tx, comment.id, for_reply=True) is None:
            raise _not_found()
        return None
    thread = await store.get(tx, comment.parent_id, for_reply=lock)
    if thread is None:  # deleted between the two reads, and the reply with it
        raise _not_found()
    return thread


# --- presentation -------------------------------------------------------------------------------------


def _shows_downvotes(viewer: Viewer, course_id: int) -> bool:
    return viewer.sees_all or course_id in viewer.managed


async def _item_fields(
    documents: DocumentStore, viewer: Viewer, posts: Sequence[store.Post], *, general: str | None
) -> list[dict[str, Any]]:
    """The fields of each post as the caller may see them; `general` is the lesson title of a post that
    belongs to no lesson."""
    lesson_titles = await lessons.titles(documents, {post.lesson_id for post in posts if post.lesson_id})
    fields = []
    for post in posts:
        name = f"{post.author_first_name} {post.author_last_name}".strip()
        fields.append(
            {
                "id": post.id,
                "course_id": post.course_id,
                "user_id": post.user_id,
                "author_name": name,
                "author_avatar": post.author_avatar_url,
                "content": post.content,
                "is_private": post.is_private,
                "lesson_id": post.lesson_id,
                "parent_id": post.parent_id,
                "created_at": post.created_at,
                "upvotes": post.upvotes,
                "downvotes": post.downvotes if _shows_downvotes(viewer, post.course_id) else None,
                "user_vote": post.user_vote,
                "course_title": post.course_title,
                "lesson_title": lesson_titles.get(post.lesson_id or "", general),
                "author": Author(
                    id=post.user_id, name=name, avatar=post.author_avatar_url, role=post.author_role
                ),
                "reply_count": post.reply_count,
                "updated_at": post.updated_at,
            }
        )
    return fields


async def _items(
    documents: DocumentStore, viewer: Viewer, posts: Sequence[store.Post]
) -> list[DiscussionItem]:
    return [DiscussionItem(**fields) for fields in await _item_fields(documents, viewer, posts, general=None)]


async def _item(tx: Tx, documents: DocumentStore, viewer: Viewer, comment: Comment) -> DiscussionItem:
    """One post just written, as lists show it."""
    (item,) = await _items(documents, viewer, await store.shown(tx, viewer, [comment.id]))
    return item


async def _messages(
    documents: DocumentStore, viewer: Viewer, posts: Sequence[store.Post], *, general: str
) -> list[MessageItem]:
    return [MessageItem(**fields) for fields in await _item_fields(documents, viewer, posts, general=general)]


# --- events -------------------------------------------------------------------------------------------


def _event_payload(comment: Comment, author: Author | None = None) -> dict[str, Any]:
    """What a live view needs to show the post; never the downvotes (learners may receive it)."""
    payload: dict[str, Any] = {
        "id": comment.id,
        "course_id": comment.course_id,
        "parent_id": comment.parent_id,
        "lesson_id": comment.lesson_id,
        "is_private": comment.is_private,
    }
    if author is not None:
        payload |= {
            "content": comment.content,
            "author": author.model_dump(),
            "upvotes": comment.upvotes,
            "created_at": iso_z(comment.created_at),
            "updated_at": iso_z(comment.updated_at),
        }
    return payload


def _event(
    name: str, data: dict[str, Any], *, comment: Comment, course: CourseAccess, starter_id: int
) -> DomainEvent:
    """Private posts name their audience; `_publish` adds the admins once it has read them."""
    audience: tuple[int, ...] = ()
    if comment.is_private:
        audience = channels.private_post_audience(
            author_id=comment.user_id, starter_id=starter_id, owner_id=course.instructor_id
        )
    return DomainEvent(
        name=name,
        data=data,
        course_id=course.id,
        user_ids=(starter_id,),
        private=comment.is_private,
        audience=audience,
    )


async def _publish(runtime: Runtime, event: DomainEvent) -> None:
    # The change is committed: a failing publisher must not turn it into an error the client would retry.
    try:
        if event.private:
            async with runtime.db.read() as tx:
                admins = await users.active_admin_ids(tx)
            event = channels.with_admins(event, admins)
        await runtime.events.publish(event)
    except Exception:  # noqa: BLE001 - logged with context; live views refetch on reconnect
        log.exception("publishing a domain event failed", extra={"event": event.name})


# --- reading ------------------------------------------------------------------------------------------


async def list_discussions(
    runtime: Runtime, principal: Principal, course_id: int, query: DiscussionListQuery
) -> tuple[list[DiscussionItem], int]:
    course, is_manager = await participant_course(runtime.db, principal, course_id)
    viewer = _course_viewer(principal, course.id, is_manager)
    if query.parent_id is not None:
        async with runtime.db.read() as tx:
            thread = await store.get(tx, query.parent_id)
        if thread is None or thread.course_id != course.id or not _can_see(viewer, thread, None):
            raise _not_found()
    rows, total = await store.list_course(
        runtime.db,
        viewer,
        course_id=course.id,
        parent_id=query.parent_id,
        threads_only=query.threads,
        lesson_id=query.lesson_id,
        sort=query.sort,
        skip=query.skip,
        limit=query.limit,
    )
    return await _items(runtime.documents, viewer, rows), total


async def my_messages(
    runtime: Runtime, principal: Principal, *, skip: int, limit: int
) -> tuple[list[MessageItem], int]:
    async with runtime.db.read() as tx:
        viewer = await _global_viewer(tx, principal)
        rows, total = await store.private_for_user(runtime.db, viewer, skip=skip, limit=limit)
    return await _messages(runtime.documents, viewer, rows, general="General"), total


async def staff_messages(
    runtime: Runtime, principal: Principal, *, course_id: int | None, skip: int, limit: int
) -> tuple[list[MessageItem], int]:
    async with runtime.db.read() as tx:
        course_ids: list[int] | None
        if course_id is not None:
            course_ids = [(await managed_course(tx, principal, course_id)).id]
        elif principal.is_admin:
            course_ids = None
        else:
            course_ids = await courses.course_ids_owned_by(tx, principal.user_id)
        viewer = await _global_viewer(tx, principal)
        rows, total = await store.private_threads(runtime.db, viewer, course_ids, skip=skip, limit=limit)
    return await _messages(runtime.documents, viewer, rows, general="General Course Query"), total


# --- writing ------------------------------------------------------------------------------------------


async def _reply_target(tx: Tx, viewer: Viewer, course: CourseAccess, parent_id: int) -> Comment:
    """The thread a new reply joins, locked against deletion until the reply is inserted. A post the
    caller cannot see is reported exactly like a missing one."""
    problem = _invalid("parent_id", "No such post in this course.", "parent_not_found")
    target = await store.get(tx, parent_id)
    if target is None or target.course_id != course.id:
        raise problem
    try:
        thread = await _thread_of(tx, target, lock=True)
    except NotFound:
        raise problem from None
    if not _can_see(viewer, target, thread) or (thread is not None and not _can_see(viewer, thread, None)):
        raise problem
    return thread or target


async def create_post(
    runtime: Runtime, principal: Principal, course_id: int, body: DiscussionCreate
) -> DiscussionItem:
    require_not_blocked(principal)
    async with runtime.db.transaction() as tx:
        course, is_manager = await participant_course(runtime.db, principal, course_id)
        viewer = _course_viewer(principal, course.id, is_manager)
        thread: Comment | None = None
        lesson_id, is_private = body.lesson_id, body.is_private
        if body.parent_id is not None:
            thread = await _reply_target(tx, viewer, course, body.parent_id)
            if lesson_id is not None and lesson_id != thread.lesson_id:
                raise _invalid("lesson_id", "A reply belongs to its thread's lesson.", "lesson_mismatch")
            lesson_id = thread.lesson_id
            is_private = is_private or thread.is_private
        elif lesson_id is not None:
            lesson = await runtime.documents.get(LESSONS, lesson_id)
            if lesson is None or lesson.get("course_id") != course.id:
                raise _invalid("lesson_id", "No such lesson in this course.", "lesson_not_found")
        comment = await store.add(
            tx,
            course_id=course.id,
            user_id=principal.user_id,
            lesson_id=lesson_id,
            parent_id=thread.id if thread else None,
            content=body.content,
            is_private=is_private,
        )
        item = await _item(tx, runtime.documents, viewer, comment)
    starter_id = thread.user_id if thread else comment.user_id
    await _publish(
        runtime,
        _event(
            "comment.created",
            _event_payload(comment, item.author),
            comment=comment,
            course=course,
            starter_id=starter_id,
        ),
    )
    return item


async def private_reply(runtime: Runtime, principal: Principal, comment_id: int, content: str) -> ReplySent:
    """The course owner or an admin answers a post privately: only the thread's starter and staff see it."""
    require_not_blocked(principal)
    async with runtime.db.transaction() as tx:
        scope = await _scope(tx, runtime.db, principal, comment_id, for_reply=True)
        if not scope.is_manager:
            raise Forbidden(
                "Only the course's instructor or an admin may reply privately.", code="not_course_owner"
            )
        thread = scope.thread or scope.comment
        reply = await store.add(
            tx,
            course_id=scope.course.id,
            user_id=principal.user_id,
            lesson_id=thread.lesson_id,
            parent_id=thread.id,
            content=content,
            is_private=True,
        )
        item = await _item(tx, runtime.documents, scope.viewer, reply)
    await _publish(
        runtime,
        _event(
            "comment.created",
            _event_payload(reply, item.author),
            comment=reply,
            course=scope.course,
            starter_id=thread.user_id,
        ),
    )
    return ReplySent(**item.model_dump(), message="Reply sent successfully")


async def edit_post(runtime: Runtime, principal: Principal, comment_id: int, content: str) -> DiscussionItem:
    require_not_blocked(principal)
    async with runtime.db.transaction() as tx:
        scope = await _scope(tx, runtime.db, principal, comment_id, for_update=True)
        comment = scope.comment
        if not scope.is_manager:
            if comment.user_id != principal.user_id:
                raise Forbidden(
                    "Only the author, the course's instructor or an admin may edit this.", code="not_author"
                )
            window = timedelta(seconds=runtime.settings.discussion_edit_window_seconds)
            if datetime.now(UTC) - comment.created_at >= window:
                raise Forbidden(
                    "The time for editing this post has passed.",
                    code="edit_window_closed",
                    details={"edit_window_seconds": runtime.settings.discussion_edit_window_seconds},
                )
        await store.set_content(tx, comment, content)
        item = await _item(tx, runtime.documents, scope.viewer, comment)
    await _publish(
        runtime,
        _event(
            "comment.edited",
            _event_payload(comment, item.author),
            comment=comment,
            course=scope.course,
            starter_id=scope.starter_id,
        ),
    )
    return item


async def delete_post(runtime: Runtime, principal: Principal, comment_id: int, meta: RequestMeta) -> None:
    require_not_blocked(principal)
    async with runtime.db.transaction() as tx:
        scope = await _scope(tx, runtime.db, principal, comment_id, for_update=True)
        comment = scope.comment
        if not scope.is_manager and comment.user_id != principal.user_id:
            raise Forbidden(
                "Only the author, the course's instructor or an admin may delete this.", code="not_author"
            )
        replies = await store.count_replies(tx, comment.id)
        payload = {**_event_payload(comment), "replies_deleted": replies}
        await store.remove(tx, comment.id)
        await record(
            tx,
            meta,
            "comment_deleted",
            actor_id=principal.user_id,
            resource_type="comment",
            resource_id=comment.id,
            details={
                "course_id": comment.course_id,
                "author_id": comment.user_id,
                "parent_id": comment.parent_id,
                "lesson_id": comment.lesson_id,
                "is_private": comment.is_private,
                "replies_deleted": replies,
                "by": "author" if comment.user_id == principal.user_id else "moderator",
                "content_excerpt": comment.content[:AUDIT_EXCERPT],
            },
        )
    await _publish(
        runtime,
        _event("comment.deleted", payload, comment=comment, course=scope.course, starter_id=scope.starter_id),
    )


async def vote(
    runtime: Runtime, principal: Principal, comment_id: int, vote_type: Literal[1, -1]
) -> VoteResult:
    require_not_blocked(principal)
    async with runtime.db.transaction() as tx:
        # The post's row lock serialises votes on it, so the counters and the vote row always agree.
        scope = await _scope(tx, runtime.db, principal, comment_id, for_update=True)
        comment = scope.comment
        if comment.user_id == principal.user_id:
            raise Forbidden("You cannot vote on your own post.", code="cannot_vote_own")
        existing = await store.get_vote(tx, principal.user_id, comment.id)
        previous = existing.vote_type if existing is not None else None
        user_vote: Literal[1, -1, 0] = vote_type
        if existing is None:
            await store.add_vote(tx, principal.user_id, comment.id, vote_type)
            message = "Vote registered"
        elif previous == vote_type:
            await store.remove_vote(tx, existing)
            user_vote = 0
            message = "Vote removed"
        else:
            await store.set_vote(tx, existing, vote_type)
            message = "Vote updated"
        up = int(user_vote == 1) - int(previous == 1)
        down = int(user_vote == -1) - int(previous == -1)
        upvotes, downvotes = await store.bump_counters(tx, comment.id, up=up, down=down)
    await _publish(
        runtime,
        _event(
            "vote.changed",
            {**_event_payload(comment), "upvotes": upvotes},
            comment=comment,
            course=scope.course,
            starter_id=scope.starter_id,
        ),
    )
    return VoteResult(
        message=message,
        comment_id=comment.id,
        upvotes=upvotes,
        downvotes=downvotes if _shows_downvotes(scope.viewer, comment.course_id) else None,
        user_vote=user_vote,
    )
