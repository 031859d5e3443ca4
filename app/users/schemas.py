from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.auth.schemas import UserPublic
from app.http.schemas import PageQuery

Role = Literal["learner", "instructor", "admin"]


class UserListQuery(PageQuery):
    role: Role | None = None
    search: str | None = Field(None, max_length=200)


class RoleChange(BaseModel):
    role: Role


class BlockResult(BaseModel):
    message: str
    is_blocked: bool


class DeactivateResult(BaseModel):
    message: str
    is_active: bool


__all__ = ["UserPublic", "UserListQuery", "RoleChange", "BlockResult", "DeactivateResult", "Role"]
