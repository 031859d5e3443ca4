from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.http.schemas import PageQuery, UtcDatetime

Level = Literal["Beginner", "Intermediate", "Advanced"]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Url = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=1000, pattern=r"^(https?://|/media/)\S+$")
]


class CourseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Annotated[str, Field(max_length=20_000)] = ""
    category: Category
    level: Level
    duration: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    thumbnail_url: Url | None = None
    banner_url: Url | None = None


class CourseUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    description: Annotated[str, Field(max_length=20_000)] | None = None
    category: Category | None = None
    level: Level | None = None
    duration: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    thumbnail_url: Url | None = None
    banner_url: Url | None = None
    is_published: bool | None = None
    is_leaderboard_public: bool | None = None


class CourseListQuery(PageQuery):
    category: str | None = Field(None, max_length=100)
    level: Level | None = None
    search: str | None = Field(None, max_length=200)


class CoursePublic(BaseModel):
    id: int
    title: str
    description: str
    category: str
    level: str
    duration: str
    thumbnail_url: str | None
    banner_url: str | None
    instructor_id: int
    instructor: str = Field(description="The instructor's name")
    instructorAvatar: str | None  # noqa: N815 - the seed's field name, kept for existing clients
    is_published: bool
    is_leaderboard_public: bool
    is_enrolled: bool
    lessonsCount: int  # noqa: N815
    enrollment_count: int
    rating: float | None = Field(description="Average of real ratings, or null when there are none")
    rating_count: int
    created_at: UtcDatetime
    updated_at: UtcDatetime


class LessonSummary(BaseModel):
    id: str
    title: str
    type: Literal["video", "text"]
    duration: int
    order: int


class CourseDetail(CoursePublic):
    lessons: list[LessonSummary] = Field(
        description="Ordered; titles only for visitors, full lessons via /lessons for participants"
    )


class CourseWithEnrollments(CoursePublic):
    completed_count: int
    average_progress: float


class CategoryPublic(BaseModel):
    name: str
    course_count: int
