"""SQL for direct messages and for the course relationships that decide who may message whom."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select, true, update

from app.stores.models import Course, DirectMessage, Enrollment, User
from app.stores.sql import Tx, like_escape


@dataclass(frozen=True)
class Summary:
    partner: User
    last_id: int
    last_sender_id: int
    last_content: str
    last_created_at: datetime
    unread: int


async def active_user(tx: Tx, user_id: int) -> User | None:
    user = await tx.get(User, user_id)
    return user if user is not None and user.is_active else None


def _teaches(teacher: Any, learner: Any) -> Any:
    """`learner` is enrolled in a course that `teacher` owns."""
    return exists(
        select(Enrollment.id)
        .join(Course, Course.id == Enrollment.course_id)
        .where(Enrollment.user_id == learner, Course.instructor_id == teacher)
    )


async def share_a_course(tx: Tx, first: int, second: int) -> bool:
    """Whether one of the two teaches a course the other is enrolled in."""
    query = select(or_(_teaches(first, second), _teaches(second, first)))
    return bool((await tx.execute(query)).scalar_one())


def _search_filter(search: str) -> Any:
    """By name only: matching addresses would let anyone find out who has an account with an email."""
    pattern = "%" + like_escape(search) + "%"
    return (User.first_name + " " + User.last_name).ilike(pattern, escape="\\")


async def partners(
    tx: Tx,
    user_id: int,
    *,
    everyone: bool,
    search: str | None,
    role: str | None,
    skip: int,
    limit: int,
) -> tuple[Sequence[User], int]:
    """Active users `user_id` may message: admins, their teachers and their learners (or everyone)."""
    related = (
        true()
        if everyone
        else or_(
            User.role == "admin",
            User.id.in_(
                select(Course.instructor_id)
                .join(Enrollment, Enrollment.course_id == Course.id)
                .where(Enrollment.user_id == user_id)
            ),
            User.id.in_(
                select(Enrollment.user_id)
                .join(Course, Course.id == Enrollment.course_id)
                .where(Course.instructor_id == user_id)
            ),
        )
    )
    conditions = [User.is_active.is_(True), User.id != user_id, related]
    if search:
        conditions.append(_search_filter(search))
    if role:
        conditions.append(User.role == role)
    total = (await tx.execute(select(func.count()).select_from(User).where(*conditions))).scalar_one()
    query = (
        select(User)
        .where(*conditions)
        .order_by(User.first_name, User.last_name, User.id)
        .offset(skip)
        .limit(limit)
    )
    return (await tx.execute(query)).scalars().all(), int(total)


async def add(tx: Tx, *, sender_id: int, recipient_id: int, content: str) -> DirectMessage:
    message = DirectMessage(sender_id=sender_id, recipient_id=recipient_id, content=content)
    tx.add(message)
    await tx.flush()
    await tx.refresh(message)
    return message


def _between(me: int, partner: int) -> Any:
    return or_(
        and_(DirectMessage.sender_id == me, DirectMessage.recipient_id == partner),
        and_(DirectMessage.sender_id == partner, DirectMessage.recipient_id == me),
    )


async def history(
    tx: Tx, me: int, partner: int, *, before: int | None, limit: int
) -> Sequence[DirectMessage]:
    """Newest first; `before` is an id cursor (ids only grow, so it is stable under new messages)."""
    conditions = [_between(me, partner)]
    if before is not None:
        conditions.append(DirectMessage.id < before)
    query = select(DirectMessage).where(*conditions).order_by(DirectMessage.id.desc()).limit(limit)
    return (await tx.execute(query)).scalars().all()


async def have_talked(tx: Tx, me: int, partner: int) -> bool:
    return bool((await tx.execute(select(exists().where(_between(me, partner))))).scalar_one())


async def conversation_size(tx: Tx, me: int, partner: int) -> int:
    query = select(func.count()).select_from(DirectMessage).where(_between(me, partner))
    return int((await tx.execute(query)).scalar_one())


def _last_per_partner(me: int) -> Any:
    """One row per conversation partner with the id of the newest message either way. Only ids are
    grouped; the page's few messages are fetched by primary key afterwards."""
    partner_id = case(
        (DirectMessage.sender_id == me, DirectMessage.recipient_id), else_=DirectMessage.sender_id
    ).label("partner_id")
    return (
        select(partner_id, func.max(DirectMessage.id).label("id"))
        .where(or_(DirectMessage.sender_id == me, DirectMessage.recipient_id == me))
        .group_by(partner_id)
        .cte("last_message")
    )


async def summaries(tx: Tx, me: int, *, skip: int, limit: int) -> tuple[list[Summary], int]:
    """The caller's conversations with active users, newest first, with unread counts: two grouped
    CTEs and one join, whatever the number of conversations (no query per conversation)."""
    last = _last_per_partner(me)
    unread = (
        select(DirectMessage.sender_id.label("partner_id"), func.count().label("unread"))
        .where(DirectMessage.recipient_id == me, DirectMessage.read_at.is_(None))
        .group_by(DirectMessage.sender_id)
        .cte("unread")
    )
    with_partner = and_(User.id == last.c.partner_id, User.is_active.is_(True))
    total = (await tx.execute(select(func.count()).select_from(last).join(User, with_partner))).scalar_one()
    query = (
        select(
            User,
            DirectMessage.id,
            DirectMessage.sender_id,
            DirectMessage.content,
            DirectMessage.created_at,
            func.coalesce(unread.c.unread, 0),
        )
        .select_from(last)
        .join(User, with_partner)
        .join(DirectMessage, DirectMessage.id == last.c.id)
        .outerjoin(unread, unread.c.partner_id == last.c.partner_id)
        .order_by(last.c.id.desc())
        .offset(skip)
        .limit(limit)
    )
    rows = (await tx.execute(query)).all()
    return [
        Summary(
            partner=user,
            last_id=last_id,
            last_sender_id=sender_id,
            last_content=content,
            last_created_at=created_at,
            unread=int(count),
        )
        for user, last_id, sender_id, content, created_at, count in rows
    ], int(total)


async def mark_read(
    tx: Tx, *, reader: int, sender: int, up_to: int | None
) -> tuple[list[int], datetime | None]:
    """Mark unread messages from `sender` to `reader` as read in one statement; returns their ids and
    the time written. Concurrent calls cannot both count the same message (the row lock decides)."""
    conditions = [
        DirectMessage.recipient_id == reader,
        DirectMessage.sender_id == sender,
        DirectMessage.read_at.is_(None),
    ]
    if up_to is not None:
        conditions.append(DirectMessage.id <= up_to)
    statement = (
        update(DirectMessage)
        .where(*conditions)
        .values(read_at=func.now())
        .returning(DirectMessage.id, DirectMessage.read_at)
        .execution_options(synchronize_session=False)
    )
    rows = (await tx.execute(statement)).all()
    if not rows:
        return [], None
    return [row[0] for row in rows], rows[0][1]
