from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from app.http.schemas import UtcDatetime

LessonType = Literal["video", "text"]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Content = Annotated[str, Field(max_length=200_000)]
Notes = Annotated[str, Field(max_length=50_000)]
Duration = Annotated[int, Field(ge=0, le=24 * 60, description="Minutes")]


class LessonCreate(BaseModel):
    """`content` is a video URL (http/https) for video lessons, sanitized HTML for text lessons."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    type: LessonType
    duration: Duration = 0
    content: Content = ""
    notes: Notes | None = None
    order: Annotated[int, Field(ge=0, le=10_000)] | None = None

    @field_validator("content")
    @classmethod
    def _video_needs_url(cls, content: str, info: ValidationInfo) -> str:
        # A field validator (not a model one) so the 422 names `content`; `type` is validated first.
        check_video_url(info.data.get("type"), content)
        return content


class LessonUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    type: LessonType | None = None
    duration: Duration | None = None
    content: Content | None = None
    notes: Notes | None = None
    order: Annotated[int, Field(ge=0, le=10_000)] | None = None


class LessonOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lesson_ids: Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(max_length=1000)]


class LessonPublic(BaseModel):
    id: str
    course_id: int
    title: str
    type: LessonType
    duration: int
    content: str
    notes: str | None
    order: int
    created_at: UtcDatetime
    updated_at: UtcDatetime


# A whole URL without whitespace or markup characters: the player puts it in a src attribute, and a
# lesson switched to text later must not carry markup that was never sanitized.
_VIDEO_URL = re.compile(r"(https?://[^\s<>\"'`]+|/media/[^\s<>\"'`]+)")


def check_video_url(lesson_type: str | None, content: str | None) -> None:
    if lesson_type == "video" and content and not _VIDEO_URL.fullmatch(content):
        raise ValueError("a video lesson's content must be an http(s) URL or a /media/ path")
