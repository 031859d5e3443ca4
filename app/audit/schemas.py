"""Audit-log browsing: the query filters and the public shape of an entry.

`DateBound` is shared with the reports: `YYYY-MM-DD` means the whole UTC day (so `date_to=2024-05-06`
includes everything on the 6th); a date-time is an exact instant, naive ones read as UTC.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, Field, PlainValidator, ValidationInfo, WithJsonSchema, field_validator

from app.http.schemas import PageQuery, UtcDatetime, blank_is_none

# Ids are PostgreSQL `integer` columns: a larger number would fail in the driver, so it is a 422 here.
MAX_ID = 2_147_483_647
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]

_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_BOUND_ERROR = "must be an ISO 8601 date (YYYY-MM-DD) or date-time"


def _parse_bound(value: Any) -> date | datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return value
    elif isinstance(value, str):
        text = value.strip()
        try:
            if _DATE_ONLY.fullmatch(text):
                return date.fromisoformat(text)
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(_BOUND_ERROR) from None
    else:
        raise ValueError(_BOUND_ERROR)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("date-time is out of range") from None


DateBound = Annotated[
    date | datetime,
    PlainValidator(_parse_bound),
    WithJsonSchema(
        {
            "type": "string",
            "description": "ISO 8601 date (YYYY-MM-DD: the whole UTC day) or date-time (naive means UTC)",
        }
    ),
]


def start_of(bound: date | datetime | None) -> datetime | None:
    """The first instant a lower bound includes."""
    if bound is None or isinstance(bound, datetime):
        return bound
    return datetime.combine(bound, time(), UTC)


def end_of(bound: date | datetime | None) -> datetime | None:
    """The first instant an upper bound excludes (None when past the representable range)."""
    if bound is None:
        return None
    try:
        if isinstance(bound, datetime):
            # Timestamps have microsecond resolution, so "<= t" is exactly "< t + 1µs".
            return bound + timedelta(microseconds=1)
        return datetime.combine(bound + timedelta(days=1), time(), UTC)
    except OverflowError:
        return None


def check_range(upper: date | datetime | None, info: ValidationInfo, lower_field: str) -> None:
    lower = info.data.get(lower_field)
    if upper is None or lower is None:
        return
    start, end = start_of(lower), end_of(upper)
    if start is not None and end is not None and end <= start:
        raise ValueError(f"must not be before {lower_field}")


# The original API's names of actions that are recorded under another name here; a filter by them finds
# the same entries.
ACTION_ALIASES = {
    "user_registered": "register",
    "user_login": "login",
    "course_enrolled": "enrolled",
    "course_unenrolled": "unenrolled",
}


def original_action(value: Any) -> Any:
    """The name an action of the original API is recorded under here."""
    return ACTION_ALIASES.get(value, value) if isinstance(value, str) else value


class DateRange(BaseModel):
    """`date_from`/`date_to` filters; the upper bound may not come before the lower one."""

    date_from: DateBound | None = None
    date_to: DateBound | None = None

    @field_validator("date_to")
    @classmethod
    def _ordered(cls, value: date | datetime | None, info: ValidationInfo) -> date | datetime | None:
        check_range(value, info, "date_from")
        return value


class AuditLogQuery(PageQuery, DateRange):
    user_id: DbId | None = Field(None, description="Entries by this actor")
    action: str | None = Field(
        None,
        max_length=64,
        description="Exact action, e.g. course_created (the original API's names, e.g. course_enrolled, too)",
    )
    resource_type: str | None = Field(None, max_length=64, description="Exact resource type, e.g. course")
    search: str | None = Field(
        None, max_length=200, description="Literal text in the action, resource, details or actor's email"
    )

    _blank = field_validator("action", "resource_type", "search", mode="before")(blank_is_none)
    _alias = field_validator("action")(original_action)


class AuditEntry(BaseModel):
    """An entry as recorded, and the columns of the activity report's CSV."""

    id: int
    user_id: int | None
    user_email: str | None = Field(description="The actor's email (null for system actions)")
    user_name: str | None
    action: str
    resource_type: str | None
    resource_id: str | None
    details: dict[str, Any]
    ip_address: str | None = Field(description="Admins only; null for instructors")
    user_agent: str | None = Field(description="Admins only; null for instructors")
    created_at: UtcDatetime


class AuditLogPublic(BaseModel):
    """An entry as the API lists it. `resource_id` and `details` keep the original API's types (a number
    or null; text or null); the id as text and the details as an object are `resource_key` and
    `details_data`."""

    id: int
    user_id: int | None
    user_email: str | None = Field(description="The actor's email (null for system actions)")
    user_name: str | None
    action: str
    resource_type: str | None
    resource_id: int | None = Field(description="The resource's id when it is a number, else null")
    resource_key: str | None = Field(description="The resource's id as text (lessons and sessions too)")
    details: str | None = Field(description="details_data as JSON text, null when there is none")
    details_data: dict[str, Any]
    ip_address: str | None = Field(description="Admins only; null for instructors")
    user_agent: str | None = Field(description="Admins only; null for instructors")
    created_at: UtcDatetime

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditLogPublic:
        key = entry.resource_id
        return cls(
            **entry.model_dump(exclude={"resource_id", "details"}),
            resource_id=int(key)
            if key is not None and key.isascii() and key.isdigit() and int(key) <= MAX_ID
            else None,
            resource_key=key,
            details=json.dumps(entry.details, sort_keys=True) if entry.details else None,
            details_data=entry.details,
        )
