"""Schema pieces shared by every domain: UTC timestamps with `Z`, paging parameters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, Field, PlainSerializer


def _iso_utc(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


UtcDatetime = Annotated[datetime, PlainSerializer(_iso_utc, return_type=str, when_used="json")]


class PageQuery(BaseModel):
    skip: int = Field(0, ge=0, le=1_000_000)
    limit: int = Field(50, ge=1, le=100, description="At most 100")
