"""The authenticated caller, as every service sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Principal:
    user_id: int
    role: str
    email: str
    is_blocked: bool
    jti: str
    session_id: str
    expires_at: datetime

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"
