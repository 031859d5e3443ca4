from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.http.schemas import PageQuery, UtcDatetime

Role = Literal["learner", "instructor", "admin"]


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    first_name: str
    last_name: str
    role: Role
    avatar_url: str | None
    is_active: bool
    is_blocked: bool
    created_at: UtcDatetime
    last_login_at: UtcDatetime | None = None


class UserListQuery(PageQuery):
    role: Role | None = None
    search: str | None = Field(None, max_length=200)

    @field_validator("search")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        # PostgreSQL text cannot hold NUL; without this the query fails with a 500.
        if value is not None and "\x00" in value:
            raise ValueError("search must not contain NUL characters")
        return value


class RoleChange(BaseModel):
    role: Role


class UserRef(BaseModel):
    id: int
    email: str
    role: Role


class RoleChanged(UserPublic):
    """The user after the change, with the original API's {message, user} beside the fields."""

    message: str
    user: UserRef


class BlockResult(BaseModel):
    message: str
    is_blocked: bool


class DeactivateResult(BaseModel):
    message: str
    is_active: bool


__all__ = [
    "UserPublic",
    "UserListQuery",
    "RoleChange",
    "RoleChanged",
    "UserRef",
    "BlockResult",
    "DeactivateResult",
    "Role",
]
