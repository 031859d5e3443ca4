"""Lesson shapes. `duration` is the text the author gave (as the original LearnFlow API kept it: "15:30",
"10 min"); `duration_minutes` is what it stands for when it can be read. Whole minutes are accepted too.

Updating a lesson never erases what it holds by accident: a field sent blank ("" or null) keeps its value,
so a form filled from a view without the content cannot wipe it. Content and notes are erased only when
named in `clear`."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    PlainValidator,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from app.http.schemas import RequestBody, blank_is_none
from app.syllabus.schemas import LessonPublic, LessonType

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Content = Annotated[str, Field(max_length=200_000)]
Notes = Annotated[str, Field(max_length=50_000)]
MAX_MINUTES = 24 * 60
MAX_DURATION_TEXT = 100


def _duration(value: Any) -> str | int:
    """Whole minutes (0–1440) or text (at most 100 characters, trimmed); one check, so a 422 names
    `duration` itself rather than each alternative."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= MAX_MINUTES:
            raise ValueError(f"whole minutes must be between 0 and {MAX_MINUTES}")
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_DURATION_TEXT:
            raise ValueError(f"text must be at most {MAX_DURATION_TEXT} characters")
        return text
    raise ValueError('must be text such as "15:30" or "10 min", or whole minutes')


Duration = Annotated[
    str | int,
    PlainValidator(_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "maxLength": MAX_DURATION_TEXT},
                {"type": "integer", "minimum": 0, "maximum": MAX_MINUTES},
            ],
            "description": 'Free text such as "15:30" or "10 min", kept as given; or whole minutes',
        }
    ),
]
Clearable = Literal["content", "notes"]


class LessonCreate(RequestBody):
    """`content` is a video URL (http/https or /media/) for video lessons, sanitized HTML for text ones."""

    title: Title
    type: LessonType = "video"
    duration: Duration = ""
    content: Annotated[Content | None, Field(description="null means none")] = None
    notes: Notes | None = None
    order: Annotated[int, Field(ge=0, le=10_000)] | None = None

    @field_validator("content")
    @classmethod
    def _video_needs_url(cls, content: str | None, info: ValidationInfo) -> str | None:
        # A field validator (not a model one) so the 422 names `content`; `type` is validated first.
        check_video_url(info.data.get("type"), content)
        return content


class LessonUpdate(RequestBody):
    """Only non-blank values change the lesson; `clear` erases content and notes explicitly."""

    title: Annotated[Title | None, BeforeValidator(blank_is_none)] = None
    type: LessonType | None = None
    duration: Annotated[Duration | None, BeforeValidator(blank_is_none)] = None
    content: Annotated[Content | None, BeforeValidator(blank_is_none)] = None
    notes: Annotated[Notes | None, BeforeValidator(blank_is_none)] = None
    order: Annotated[int, Field(ge=0, le=10_000)] | None = None
    clear: list[Clearable] = Field(
        default_factory=list, description="Erase these fields (a blank value never erases anything)"
    )


class LessonOrder(RequestBody):
    lesson_ids: Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(max_length=1000)]


class LessonCreated(LessonPublic):
    message: str
    lesson_id: str = Field(description="The same as id")


class LessonUpdated(LessonPublic):
    message: str


# A whole URL without whitespace or markup characters: the player puts it in a src attribute, and a
# lesson switched to text later must not carry markup that was never sanitized.
_VIDEO_URL = re.compile(r"(https?://[^\s<>\"'`]+|/media/[^\s<>\"'`]+)")


def check_video_url(lesson_type: str | None, content: str | None) -> None:
    if lesson_type == "video" and content and not _VIDEO_URL.fullmatch(content):
        raise ValueError("a video lesson's content must be an http(s) URL or a /media/ path")
