from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)

from app.http.schemas import Message as Message
from app.http.schemas import RequestBody


def _strong_password(value: str) -> str:
    missing = [
        name
        for name, pattern in (
            ("an uppercase letter", r"[A-Z]"),
            ("a lowercase letter", r"[a-z]"),
            ("a digit", r"\d"),
        )
        if not re.search(pattern, value)
    ]
    if missing:
        raise ValueError("password must contain " + ", ".join(missing))
    return value


Password = Annotated[str, Field(min_length=8, max_length=128), AfterValidator(_strong_password)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000, pattern=r"^https?://\S+$")]


class RegisterRequest(BaseModel):
    """Registration always creates a learner; a `role` field is ignored."""

    model_config = ConfigDict(extra="ignore")

    email: EmailStr
    first_name: Name
    last_name: Name
    password: Password


class LoginRequest(BaseModel):
    email: EmailStr
    password: Annotated[str, Field(min_length=1, max_length=128)]


class RefreshRequest(BaseModel):
    """`refresh_token` may be left out when the `lf_refresh` cookie carries it (the web app's way)."""

    refresh_token: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")


class ProfileUpdate(RequestBody):
    """An omitted field is unchanged; so is a name sent as null and an avatar sent as "" (as the original
    API did); an avatar sent as null is cleared."""

    first_name: Name | None = None
    last_name: Name | None = None
    avatar_url: Url | None = None

    @model_validator(mode="before")
    @classmethod
    def _unchanged_values(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {
            key: value
            for key, value in data.items()
            if not (key in ("first_name", "last_name") and value is None)
            and not (key == "avatar_url" and value == "")
        }


class PasswordChange(BaseModel):
    current_password: Annotated[str, Field(min_length=1, max_length=128)]
    new_password: Password


class GoogleUrl(BaseModel):
    url: str
    state: str


class GoogleCallback(BaseModel):
    code: Annotated[str, Field(min_length=1, max_length=2000)]
    state: Annotated[str, Field(min_length=1, max_length=2000)]
