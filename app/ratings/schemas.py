from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.http.schemas import UtcDatetime


class RatingInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

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
