from __future__ import annotations

from typing import Any

from app.audit.service import RequestMeta
from app.http.routing import Context


def request_meta(ctx: Context[Any, Any]) -> RequestMeta:
    return RequestMeta(ip=ctx.client_ip, user_agent=ctx.user_agent)
