from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.http.schemas import RequestBody


class HeartbeatIn(RequestBody):
    lesson_id: Annotated[str, Field(min_length=1, max_length=64)]
    seconds_spent: Annotated[int, Field(ge=1, le=60)]
    client_ts: Annotated[float, Field(ge=0)] | None = None
    seq: Annotated[int, Field(ge=0, le=2**53)] | None = None


class HeartbeatAccepted(BaseModel):
    status: Literal["success"] = "success"
    accepted: bool = True
    duplicate: bool
    credited_seconds: int = Field(
        description="Seconds credited after the wall-clock check (0..seconds_spent)"
    )
