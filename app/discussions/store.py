"""SQL for discussion posts (`comments`) and their votes.

Who may see a post is one rule, expressed once here (`_visible`): managers of the post's course see
everything; everyone else sees public posts, their own posts, and private replies in threads they
started. Lists, reply counts and message inboxes all filter with it, so a private post cannot leak
through a count or a list that forgot a condition.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, TypeVarTuple

from sqlalchemy import (
    ARRAY,
    BindParameter,
    ColumnElement,
    Integer,
    Row,
    Select,
    and_,
    any_,
    bindparam,
    delete,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from app.errors import Conflict
from app.stores.models import Comment, Course, User, Vote
from app.stores.plain import PlainRow, PlainStatement
from app.stores.sql import Database, Tx

Sort = Literal["new", "top", "old"]
_Row = TypeVarTuple("_Row")

_Parent = aliased(Comment, name="parent")


@dataclass(frozen=True)
class Viewer:
    """Who is reading: `sees_all` for admins; `managed` are the course ids the viewer owns."""

    user_id: int
    sees_all: bool = False
    managed: frozenset[int] = frozenset()


def _visible(viewer: Viewer, child: Any = Comment, parent: Any = _Parent) -> ColumnElement[bool]:
    """`child` is visible to `viewer`; `parent` must be outer-joined on child.parent_id. The viewer's id
    and managed courses are the parameters `viewer_id` and `managed` (`_viewer_params`)."""
    if viewer.sees_all:
        return true()
    viewer_id: BindParameter[int] = bindparam("viewer_id", required=True)
    conditions: list[ColumnElement[bool]] = [
        child.is_private.is_(False),
        child.user_id == viewer_id,
        parent.user_id == viewer_id,
    ]
    if viewer.managed:
        conditions.append(child.course_id == any_(bindparam("managed", required=True, type_=ARRAY(Integer))))
    return or_(*conditions)


def _viewer_params(viewer: Viewer) -> dict[str, Any]:
    return {"viewer_id": viewer.user_id, "managed": sorted(viewer.managed)}


def _viewer_shape(viewer: Viewer) -> tuple[bool, bool]:
    """What of the viewer changes a statement's text (the rest are parameters)."""
    return viewer.sees_all, bool(viewer.managed)


def _with_parent(query: Select[*_Row]) -> Select[*_Row]:
    return query.outerjoin(_Parent, Comment.parent_id == _Parent.id)


def _order(query: Select[Any], sort: Sort) -> Select[Any]:
    if sort == "top":
        return query.order_by(
            (Comment.upvotes - Comment.downvotes).desc(), Comment.created_at.desc(), Comment.id.desc()
        )
    if sort == "old":
        return query.order_by(Comment.created_at.asc(), Comment.id.asc())
    return query.order_by(Comment.created_at.desc(), Comment.id.desc())


_Reply = aliased(Comment, name="reply")


def _shown(viewer: Viewer) -> Select[Any]:
    """Each post's columns with what a list shows beside them: its author, the viewer's vote (0 for
    none), how many of its replies the viewer may see, and its course's title. Rows of this select are
    `Post`s; it starts from `comments` with its author and course joined."""
    replies = select(func.count(_Reply.id)).where(
        _Reply.parent_id == Comment.id, _visible(viewer, child=_Reply, parent=Comment)
    )
    vote = select(Vote.vote_type).where(
        Vote.comment_id == Comment.id, Vote.user_id == bindparam("viewer_id", required=True)
    )
    return (
        select(
            *Comment.__table__.c,
            User.first_name.label("author_first_name"),
            User.last_name.label("author_last_name"),
            User.avatar_url.label("author_avatar_url"),
            User.role.label("author_role"),
            func.coalesce(vote.scalar_subquery(), 0).label("user_vote"),
            replies.scalar_subquery().label("reply_count"),
            Course.title.label("course_title"),
        )
        .join(User, User.id == Comment.user_id)
        .join(Course, Course.id == Comment.course_id)
    )


# A post as lists show it: the `comments` columns plus those `_shown` adds.
Post = Row[Any] | PlainRow

# Statements built once per shape, each with every value a parameter: building a statement and keying
# it (SQLAlchemy walks it for its compiled-SQL cache) costs as much as running it. Shapes are few
# (viewer kind × filters × sort), so neither cache grows past a few dozen.
_SHOWN: dict[Hashable, Select[Any]] = {}
_PAGES: dict[Hashable, PlainStatement] = {}
_Built = TypeVar("_Built")


def _built(cache: dict[Hashable, _Built], shape: Hashable, build: Callable[[], _Built]) -> _Built:
    if shape not in cache:
        cache[shape] = build()
    return cache[shape]


async def _page(
    db: Database,
    viewer: Viewer,
    shape: Hashable,
    conditions: Callable[[], Sequence[ColumnElement[bool]]],
    params: dict[str, Any],
    *,
    sort: Sort,
    skip: int,
    limit: int,
) -> tuple[list[Post], int]:
    """One plain statement (committed posts only): the page of posts and how many match (the count is
    the outer side of a lateral join, so a page past the end still reports the total). `conditions` are
    built once per `shape`, with their values as `params`."""

    def build() -> Select[Any]:
        where = and_(*conditions())
        total = _with_parent(select(func.count(Comment.id).label("total"))).where(where).subquery("total")
        page = (
            _order(_with_parent(_shown(viewer)).where(where), sort)
            .offset(bindparam("skip", required=True))
            .limit(bindparam("limit", required=True))
            .lateral("page")
        )
        return select(total.c.total, page).select_from(total.outerjoin(page, true()))

    statement = _built(_PAGES, (shape, _viewer_shape(viewer), sort), lambda: PlainStatement.of(build()))
    values = {**_viewer_params(viewer), **params, "skip": skip, "limit": limit}
    rows = await db.plain.fetch(statement, values)
    count = int(rows[0].total) if rows else 0
    return [row for row in rows if row.id is not None], count


async def shown(tx: Tx, viewer: Viewer, comment_ids: Sequence[int]) -> list[Post]:
    """These posts as lists show them to `viewer`, in the order given (no visibility filter: for posts
    the caller has just been allowed to see or write)."""

    def build() -> Select[Any]:
        return _shown(viewer).where(Comment.id.in_(bindparam("ids", required=True, expanding=True)))

    statement = _built(_SHOWN, _viewer_shape(viewer), build)
    found = (await tx.execute(statement, {**_viewer_params(viewer), "ids": list(comment_ids)})).all()
    rows = {row.id: row for row in found}
    return [rows[comment_id] for comment_id in comment_ids]


# --- posts ------------------------------------------------------------------------------------------------


async def get(
    tx: Tx, comment_id: int, *, for_update: bool = False, for_reply: bool = False
) -> Comment | None:
    """`for_update` locks the row against other writers (votes, edits, deletes); `for_reply` only keeps it
    from being deleted until the transaction ends (FOR KEY SHARE, what the foreign key check takes), so a
    reply never points at a thread deleted in between the look-up and the insert."""
    query = select(Comment).where(Comment.id == comment_id)
    if for_update:
        query = query.with_for_update()
    elif for_reply:
        query = query.with_for_update(key_share=True)
    return (await tx.execute(query)).scalar_one_or_none()


async def add(tx: Tx, **fields: Any) -> Comment:
    comment = Comment(**fields)
    tx.add(comment)
    try:
        await tx.flush()
    except IntegrityError as exc:
        # Only the course (or the author's account) can vanish under us: the thread is locked by get().
        raise Conflict(
            "The course or account was removed while posting.", code="removed_concurrently"
        ) from exc
    await tx.refresh(comment)
    return comment


async def set_content(tx: Tx, comment: Comment, content: str) -> Comment:
    comment.content = content
    await tx.flush()
    await tx.refresh(comment)
    return comment


async def remove(tx: Tx, comment_id: int) -> None:
    """Deletes the post; the database removes its replies and votes (ON DELETE CASCADE)."""
    await tx.execute(delete(Comment).where(Comment.id == comment_id))


async def count_replies(tx: Tx, comment_id: int) -> int:
    query = select(func.count(Comment.id)).where(Comment.parent_id == comment_id)
    return int((await tx.execute(query)).scalar_one())


async def list_course(
    db: Database,
    viewer: Viewer,
    *,
    course_id: int,
    parent_id: int | None,
    threads_only: bool,
    lesson_id: str | None,
    sort: Sort,
    skip: int,
    limit: int,
) -> tuple[list[Post], int]:
    """A course's posts as `viewer` may see them: the replies of one thread (`parent_id`), its first
    posts (`threads_only`), or all of them, replies included."""
    threads_only = threads_only and parent_id is None

    def conditions() -> list[ColumnElement[bool]]:
        where = [Comment.course_id == bindparam("course_id", required=True), _visible(viewer)]
        if parent_id is not None:
            where.append(Comment.parent_id == bindparam("parent_id", required=True))
        elif threads_only:
            where.append(Comment.parent_id.is_(None))
        if lesson_id is not None:
            where.append(Comment.lesson_id == bindparam("lesson_id", required=True))
        return where

    shape = ("course", parent_id is not None, threads_only, lesson_id is not None)
    params = {"course_id": course_id, "parent_id": parent_id, "lesson_id": lesson_id}
    return await _page(db, viewer, shape, conditions, params, sort=sort, skip=skip, limit=limit)


async def private_for_user(db: Database, viewer: Viewer, *, skip: int, limit: int) -> tuple[list[Post], int]:
    """The viewer's private posts and replies, and the private replies in threads they started."""

    def conditions() -> list[ColumnElement[bool]]:
        viewer_id: BindParameter[int] = bindparam("viewer_id", required=True)
        return [Comment.is_private.is_(True), or_(Comment.user_id == viewer_id, _Parent.user_id == viewer_id)]

    return await _page(db, viewer, ("mine",), conditions, {}, sort="new", skip=skip, limit=limit)


async def private_threads(
    db: Database, viewer: Viewer, course_ids: Collection[int] | None, *, skip: int, limit: int
) -> tuple[list[Post], int]:
    """Private first posts in the given courses (every course when None), newest first."""
    if course_ids is not None and not course_ids:
        return [], 0

    def conditions() -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = [Comment.is_private.is_(True), Comment.parent_id.is_(None)]
        if course_ids is not None:
            where.append(
                Comment.course_id == any_(bindparam("course_ids", required=True, type_=ARRAY(Integer)))
            )
        return where

    params = {"course_ids": sorted(course_ids or ())}
    shape = ("staff", course_ids is None)
    return await _page(db, viewer, shape, conditions, params, sort="new", skip=skip, limit=limit)


# --- votes ------------------------------------------------------------------------------------------------


async def get_vote(tx: Tx, user_id: int, comment_id: int) -> Vote | None:
    query = select(Vote).where(Vote.user_id == user_id, Vote.comment_id == comment_id)
    return (await tx.execute(query)).scalar_one_or_none()


async def add_vote(tx: Tx, user_id: int, comment_id: int, vote_type: int) -> None:
    """Callers hold the comment's row lock, so a concurrent vote by the same user waits for this one;
    the unique constraint still decides if that discipline is ever broken, as a 409 rather than a 500."""
    tx.add(Vote(user_id=user_id, comment_id=comment_id, vote_type=vote_type))
    try:
        await tx.flush()
    except IntegrityError as exc:
        raise Conflict("Your vote was changed at the same time; try again.", code="vote_conflict") from exc


async def set_vote(tx: Tx, vote: Vote, vote_type: int) -> None:
    vote.vote_type = vote_type
    await tx.flush()


async def remove_vote(tx: Tx, vote: Vote) -> None:
    await tx.delete(vote)
    await tx.flush()


async def bump_counters(tx: Tx, comment_id: int, *, up: int, down: int) -> tuple[int, int]:
    """Adjust the counters in the database (not from a value read earlier); returns (upvotes, downvotes)."""
    query = (
        update(Comment)
        .where(Comment.id == comment_id)
        # A vote is not an edit: keep updated_at (its ON UPDATE default would otherwise move it).
        .values(
            upvotes=Comment.upvotes + up, downvotes=Comment.downvotes + down, updated_at=Comment.updated_at
        )
        .returning(Comment.upvotes, Comment.downvotes)
        .execution_options(synchronize_session=False)
    )
    upvotes, downvotes = (await tx.execute(query)).one()
    return int(upvotes), int(downvotes)
