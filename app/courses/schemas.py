"""Course shapes. Responses are supersets of the original LearnFlow API's: its field names keep their
types (`rating` is always a number, `instructor` a name), and our richer fields sit beside them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints, model_validator

from app.http.schemas import PageQuery, RequestBody, UtcDatetime, blank_is_none, without_nulls
from app.syllabus.schemas import LessonPublic

Level = Literal["Beginner", "Intermediate", "Advanced"]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# An edit may empty the category, as the original API allowed: the course becomes uncategorised.
CategoryEdit = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Url = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=1000, pattern=r"^(https?://|/media/)\S+$")
]
# "" means no image, as null does (forms send "" when nothing was uploaded).
ImageUrl = Annotated[Url | None, BeforeValidator(blank_is_none)]
Duration = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]


class CourseCreate(RequestBody):
    title: Title
    description: Annotated[str, Field(max_length=20_000)] = ""
    category: Category
    level: Level
    duration: Duration = ""
    thumbnail_url: ImageUrl = None
    banner_url: ImageUrl = None


class CourseUpdate(RequestBody):
    """Only the keys sent change. A key sent as null is ignored (unchanged); an image sent as "" is
    removed."""

    title: Title | None = None
    description: Annotated[str, Field(max_length=20_000)] | None = None
    category: CategoryEdit | None = None
    level: Level | None = None
    duration: Duration | None = None
    thumbnail_url: ImageUrl = None
    banner_url: ImageUrl = None
    is_published: bool | None = None
    is_leaderboard_public: bool | None = None

    _nulls_unchanged = model_validator(mode="before")(without_nulls)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


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
    instructorAvatar: str | None  # noqa: N815 - the original API's field name
    is_published: bool
    is_leaderboard_public: bool
    is_enrolled: bool
    lessonsCount: int  # noqa: N815
    enrollment_count: int
    enrolledStudents: int = Field(description="The same as enrollment_count")  # noqa: N815
    rating: float = Field(description="Average of real ratings, 0 when there are none")
    average_rating: float | None = Field(description="Average of real ratings, or null when there are none")
    rating_count: int
    created_at: UtcDatetime
    updated_at: UtcDatetime


class CourseDetail(CoursePublic):
    lessons: list[LessonPublic] = Field(
        description="In order. content and notes are null unless the caller may open the lessons "
        "(enrolled, the course's instructor, an admin)"
    )


class CourseWithEnrollments(CoursePublic):
    enrollments: int = Field(description="The same as enrollment_count")
    completed_count: int
    average_progress: float


class CategoryPublic(BaseModel):
    name: str
    course_count: int
