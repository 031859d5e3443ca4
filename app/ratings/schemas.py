from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from app.http.schemas import RequestBody, UtcDatetime


class RatingInput(RequestBody):
    stars: Annotated[int, Field(ge=1, le=5)]
    review: Annotated[str, Field(max_length=5000)] | None = None


class RatingPublic(BaseModel):
    id: int
    course_id: int
    user_id: int
    name: str
    avatar: str | None
    stars: int
    review: str | None
    created_at: UtcDatetime
    updated_at: UtcDatetime
