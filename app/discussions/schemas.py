"""Discussion posts, replies, votes and private messages to a course's staff (docs/PRODUCT.md).

Content is plain text, never HTML: it is stored as written (line endings normalised to `\\n`, control
characters other than tab and newline removed, surrounding whitespace trimmed) and clients render it as
text, so markup in a post shows as the characters the author typed instead of being interpreted.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    StringConstraints,
    field_validator,
)

from app.http.schemas import PageQuery, RequestBody, UtcDatetime, blank_is_none

MAX_CONTENT = 5000

# C0 controls except tab and newline, DEL and the C1 controls: invisible, and some confuse terminals and
# log viewers. NUL never gets this far (the request parser refuses it with a 422 naming the field).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(value: str) -> str:
    """Plain-text normalisation; the length limits apply to the result."""
    text = _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not text:
        raise ValueError("content must not be empty")
    if len(text) > MAX_CONTENT:
        raise ValueError(f"content must be at most {MAX_CONTENT} characters")
    return text


Content = Annotated[
    str,
    AfterValidator(clean_text),
    Field(json_schema_extra={"minLength": 1, "maxLength": MAX_CONTENT}, description="Plain text"),
]
LessonId = Annotated[
    Annotated[str, StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9_:.-]+$")] | None,
    BeforeValidator(blank_is_none),
]
Sort = Literal["new", "top", "old"]


class DiscussionCreate(RequestBody):
    content: Content
    is_private: bool = Field(
        False, description="Visible only to its author, the thread's starter, the course owner and admins"
    )
    lesson_id: LessonId = None
    parent_id: int | None = Field(
        None, ge=1, le=2_147_483_647, description="Reply to this post (a reply to a reply joins its thread)"
    )


class DiscussionUpdate(RequestBody):
    content: Content


class ReplyCreate(RequestBody):
    content: Content


class VoteRequest(RequestBody):
    vote_type: Literal[1, -1] = Field(description="1 up, -1 down; the same vote again removes it")

    @field_validator("vote_type", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("vote_type must be 1 or -1, not a boolean")
        return value


class DiscussionListQuery(PageQuery):
    lesson_id: LessonId = None
    parent_id: int | None = Field(None, ge=1, le=2_147_483_647, description="List this thread's replies only")
    threads: bool = Field(False, description="List first posts only (each with its reply_count)")
    sort: Sort = Field("new", description="new: newest first; top: highest score first; old: oldest first")


class CourseFilterQuery(PageQuery):
    course_id: int | None = Field(None, ge=1, le=2_147_483_647)


class Author(BaseModel):
    id: int
    name: str
    avatar: str | None
    role: str


class DiscussionItem(BaseModel):
    """A post, flat as the original API sent it (`user_id`, `author_name`, `author_avatar`; a reply is a
    post with a `parent_id`), with the author as an object beside them."""

    id: int
    course_id: int
    user_id: int = Field(description="The author's id")
    author_name: str
    author_avatar: str | None
    content: str
    is_private: bool
    lesson_id: str | None
    parent_id: int | None
    created_at: UtcDatetime
    upvotes: int
    downvotes: int | None = Field(description="Only for the course owner and admins, otherwise null")
    user_vote: Literal[1, -1, 0] = Field(description="The caller's own vote on this post; 0 for none")
    course_title: str | None
    lesson_title: str | None
    author: Author
    reply_count: int = Field(description="Replies the caller can see")
    updated_at: UtcDatetime


class MessageItem(DiscussionItem):
    """A private post or reply as listed in /api/my-messages and /api/admin/messages."""

    course_title: str
    lesson_title: str = Field(description="The lesson's title, or a general label for course-wide posts")


class ReplySent(DiscussionItem):
    message: str


class VoteResult(BaseModel):
    message: str = Field(description="Vote registered, Vote updated or Vote removed")
    comment_id: int
    upvotes: int
    downvotes: int | None = Field(description="Only for the course owner and admins, otherwise null")
    user_vote: Literal[1, -1, 0] = Field(description="0 when the vote was removed")
