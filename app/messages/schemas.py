"""Direct messages: who one may write to, conversation summaries, history pages and read marks."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from app.http.schemas import PageQuery, RequestBody, UtcDatetime

Role = Literal["learner", "instructor", "admin"]
MAX_MESSAGE_ID = 2**63 - 1
MAX_CONTENT_CHARS = 2000
HISTORY_LIMIT_DEFAULT = 50
HISTORY_LIMIT_MAX = 100

# Messages are plain text: stored as sent (minus surrounding whitespace) and rendered as text by clients,
# so there is nothing to sanitize and nothing is lost.
Content = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_CONTENT_CHARS)]


class ChatUser(BaseModel):
    id: int
    name: str
    avatar: str | None
    role: Role


class PartnerQuery(PageQuery):
    search: str | None = Field(None, max_length=200, description="Part of a name")
    role: Role | None = None


class MessageCreate(RequestBody):
    content: Content = Field(description="Plain text, 1-2000 characters after trimming")


class MessagePublic(BaseModel):
    id: int
    sender_id: int
    receiver_id: int = Field(description="The same as recipient_id")
    sender_name: str
    sender_avatar: str | None
    content: str
    is_read: bool
    created_at: UtcDatetime
    recipient_id: int
    read_at: UtcDatetime | None


class LastMessage(BaseModel):
    id: int
    content: str
    sender_id: int
    created_at: UtcDatetime


class ChatSummary(BaseModel):
    """A conversation, flat as the original API listed it, with the partner and the newest message as
    objects beside the flat fields."""

    partner_id: int
    partner_name: str
    partner_avatar: str | None
    partner_role: Role
    last_message: str = Field(description="The newest message's text, either way")
    last_message_at: UtcDatetime
    unread_count: int = Field(description="Messages from the partner that the caller has not read")
    partner: ChatUser
    latest_message: LastMessage


class HistoryQuery(BaseModel):
    before: int | None = Field(
        None, ge=1, le=MAX_MESSAGE_ID, description="Only messages with an id below this one (a cursor)"
    )
    limit: int = Field(HISTORY_LIMIT_DEFAULT, ge=1, le=HISTORY_LIMIT_MAX, description="At most 100")


class ReadQuery(BaseModel):
    up_to: int | None = Field(
        None,
        ge=1,
        le=MAX_MESSAGE_ID,
        description="Mark only messages up to this id (the newest one shown); default: all of them",
    )


class ReadResult(BaseModel):
    message: str
    updated: int = Field(description="How many messages were newly marked as read")
    up_to_id: int | None = Field(description="The newest message marked, or null when none was")
