"""Who made a request and from where, as the audit trail records it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only for the annotation: routing imports the stores, this module must not
    from app.http.routing import Context


@dataclass(frozen=True)
class RequestMeta:
    """The real client IP (see app/http/middleware.py) and user agent."""

    ip: str | None
    user_agent: str | None


SYSTEM = RequestMeta(ip=None, user_agent="learnflow-cli")


def request_meta(ctx: Context[Any, Any]) -> RequestMeta:
    return RequestMeta(ip=ctx.client_ip, user_agent=ctx.user_agent)
