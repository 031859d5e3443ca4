"""Direct messages between users who share a course as teacher and learner, and with admins.

Who may message whom (docs/PRODUCT.md): a learner and the instructor of a course the learner is enrolled in,
both ways; anyone and an admin, both ways. The rule is about the enrollment relationship, not the role
labels, so an instructor enrolled in a colleague's course may write to that colleague like any learner.
It is checked when a message is sent; reading a conversation that already exists stays possible after
the relationship ends (an unenrolled learner can still read what their instructor wrote). Anyone else
is a 404 exactly like an id that does not exist, so the chat routes never confirm that an account does.

Deactivated users are treated as absent: they cannot be written to, their conversations are not listed
and asking for them is a 404. Blocked users can read and mark as read, but not send.
"""

from __future__ import annotations

from pydantic import TypeAdapter

from app import channels
from app.courses.access import require_not_blocked
from app.errors import BadRequest, Forbidden, NotFound
from app.events import DomainEvent
from app.http.schemas import UtcDatetime
from app.messages import store
from app.messages.schemas import ChatSummary, ChatUser, LastMessage, MessagePublic, ReadResult
from app.runtime import Runtime
from app.security.principal import Principal
from app.stores.models import DirectMessage, User
from app.stores.sql import Tx

MAX_USER_ID = 2_147_483_647
_TIMESTAMP: TypeAdapter[object] = TypeAdapter(UtcDatetime | None)


def chat_user(user: User) -> ChatUser:
    return ChatUser(
        id=user.id,
        name=f"{user.first_name} {user.last_name}".strip(),
        avatar=user.avatar_url,
        role=user.role,  # the column's CHECK constraint keeps it within Role
    )


def message_public(row: DirectMessage, sender: User | None) -> MessagePublic:
    """`sender` is the sender's account (None if it no longer exists)."""
    return MessagePublic(
        id=row.id,
        sender_id=row.sender_id,
        receiver_id=row.recipient_id,
        sender_name=chat_user(sender).name if sender else "",
        sender_avatar=sender.avatar_url if sender else None,
        content=row.content,
        is_read=row.read_at is not None,
        created_at=row.created_at,
        recipient_id=row.recipient_id,
        read_at=row.read_at,
    )


async def _partner(tx: Tx, principal: Principal, partner_id: int) -> User:
    if partner_id == principal.user_id:
        raise BadRequest("A conversation needs someone else.", code="cannot_message_self")
    user = await store.active_user(tx, partner_id) if 0 < partner_id <= MAX_USER_ID else None
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    return user


async def _may_message(tx: Tx, principal: Principal, partner: User) -> bool:
    if principal.role == "admin" or partner.role == "admin":
        return True
    return await store.share_a_course(tx, principal.user_id, partner.id)


async def _visible_partner(tx: Tx, principal: Principal, partner_id: int) -> tuple[User, bool]:
    """The partner, and whether the caller may message them now. Someone the caller may not message and
    has never talked with is the same 404 as an id nobody has, so these routes do not tell whether an
    account exists."""
    partner = await _partner(tx, principal, partner_id)
    allowed = await _may_message(tx, principal, partner)
    if not allowed and not await store.have_talked(tx, principal.user_id, partner.id):
        raise NotFound("No such user.", code="user_not_found")
    return partner, allowed


async def chat_partners(
    runtime: Runtime,
    principal: Principal,
    *,
    search: str | None,
    role: str | None,
    skip: int,
    limit: int,
) -> tuple[list[ChatUser], int]:
    async with runtime.db.read() as tx:
        rows, total = await store.partners(
            tx,
            principal.user_id,
            everyone=principal.role == "admin",
            search=search,
            role=role,
            skip=skip,
            limit=limit,
        )
    return [chat_user(user) for user in rows], total


async def chats(
    runtime: Runtime, principal: Principal, *, skip: int, limit: int
) -> tuple[list[ChatSummary], int]:
    async with runtime.db.read() as tx:
        rows, total = await store.summaries(tx, principal.user_id, skip=skip, limit=limit)
    summaries = []
    for row in rows:
        partner = chat_user(row.partner)
        summaries.append(
            ChatSummary(
                partner_id=partner.id,
                partner_name=partner.name,
                partner_avatar=partner.avatar,
                partner_role=partner.role,
                last_message=row.last_content,
                last_message_at=row.last_created_at,
                unread_count=row.unread,
                partner=partner,
                latest_message=LastMessage(
                    id=row.last_id,
                    content=row.last_content,
                    sender_id=row.last_sender_id,
                    created_at=row.last_created_at,
                ),
            )
        )
    return summaries, total


async def history(
    runtime: Runtime, principal: Principal, partner_id: int, *, before: int | None, limit: int
) -> tuple[list[MessagePublic], int, bool]:
    """A page of the conversation (the newest messages before `before`), newest first; the conversation's
    size; and whether older ones exist."""
    async with runtime.db.read() as tx:
        partner, _ = await _visible_partner(tx, principal, partner_id)
        rows = await store.history(tx, principal.user_id, partner.id, before=before, limit=limit + 1)
        total = await store.conversation_size(tx, principal.user_id, partner.id)
        me = await store.active_user(tx, principal.user_id)
    people = {principal.user_id: me, partner.id: partner}
    page = [message_public(row, people.get(row.sender_id)) for row in rows[:limit]]
    return page, total, len(rows) > limit


async def send(runtime: Runtime, principal: Principal, partner_id: int, content: str) -> MessagePublic:
    require_not_blocked(principal)
    async with runtime.db.transaction() as tx:
        partner, allowed = await _visible_partner(tx, principal, partner_id)
        if not allowed:
            raise Forbidden(
                "You can message the instructors of your courses, the learners in your courses and admins.",
                code="cannot_message",
            )
        sender = await store.active_user(tx, principal.user_id)
        message = message_public(
            await store.add(tx, sender_id=principal.user_id, recipient_id=partner.id, content=content), sender
        )
    participants = (principal.user_id, partner.id)
    await runtime.events.publish(
        DomainEvent(
            name="message.sent",
            data={
                **message.model_dump(mode="json"),
                "sender": chat_user(sender).model_dump(mode="json") if sender else None,
            },
            user_ids=participants,
            private=True,
            audience=channels.conversation_audience(principal.user_id, partner.id),
        )
    )
    return message


async def mark_read(
    runtime: Runtime, principal: Principal, partner_id: int, *, up_to: int | None
) -> ReadResult:
    async with runtime.db.transaction() as tx:
        partner, _ = await _visible_partner(tx, principal, partner_id)
        ids, read_at = await store.mark_read(tx, reader=principal.user_id, sender=partner.id, up_to=up_to)
    if not ids:
        return ReadResult(message="Messages marked as read", updated=0, up_to_id=None)
    result = ReadResult(message="Messages marked as read", updated=len(ids), up_to_id=max(ids))
    await runtime.events.publish(
        DomainEvent(
            name="message.read",
            data={
                "reader_id": principal.user_id,
                "partner_id": partner.id,
                "up_to_id": result.up_to_id,
                "count": result.updated,
                "read_at": _TIMESTAMP.dump_python(read_at, mode="json"),
            },
            user_ids=(partner.id, principal.user_id),
            private=True,
            audience=channels.conversation_audience(partner.id, principal.user_id),
        )
    )
    return result
