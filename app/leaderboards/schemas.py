from __future__ import annotations

from pydantic import BaseModel, Field


class LeaderboardQuery(BaseModel):
    limit: int = Field(10, ge=1, le=100)


class LeaderboardEntry(BaseModel):
    rank: int
    user_id: int
    name: str
    avatar: str | None
    completed_lessons: int
    total_lessons: int
    progress_percentage: float
    total_seconds_spent: int
