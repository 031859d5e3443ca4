"""Schema pieces shared by every domain: request bodies, UTC timestamps with `Z`, paging parameters."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from app.timestamps import iso_z


def _iso_utc(value: datetime) -> str:
    return iso_z(value)


def blank_is_none(value: Any) -> Any:
    """A string of only whitespace means "nothing", as an omitted value does (`?action=`, a form's
    empty field)."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


def without_nulls(data: Any) -> Any:
    """A body's keys sent as null dropped, so that null means "unchanged" like an omitted key."""
    if not isinstance(data, dict):
        return data
    return {key: value for key, value in data.items() if value is not None}


class RequestBody(BaseModel):
    """Base of every JSON request body. Keys a body does not declare are ignored, never applied and never
    an error: clients written for the original LearnFlow API send extra keys (a profile form sends
    `firstName`, a course form `folder`) and got 200 for them."""

    model_config = ConfigDict(extra="ignore")


UtcDatetime = Annotated[datetime, PlainSerializer(_iso_utc, return_type=str, when_used="json")]


class PageQuery(BaseModel):
    skip: int = Field(0, ge=0, le=1_000_000)
    limit: int = Field(50, ge=1, le=100, description="At most 100")


class Message(BaseModel):
    """What a write answers when it has nothing else to return, e.g. {"message": "Lesson deleted"}."""

    message: str
