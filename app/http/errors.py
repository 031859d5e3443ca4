"""The JSON error model: every failure is {"error": {code, message, details}, "detail": ...}; never a
traceback.

`detail` is the form clients of the original LearnFlow API read: the message as a string, or for a 422
a list of {type, loc, msg, input} items (`input` is always null: a request's values are never echoed
back). A 429 also carries `retry_after`, the Retry-After header's value as a string.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ExceptionHandler

from app.errors import StoreUnavailable
from app.stores.availability import client_error

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "service_unavailable",
}


def _loc(entry: dict[str, Any]) -> list[str | int]:
    """["body", "lessons", 0, "title"] from an entry's location and dotted field name."""
    location = str(entry.get("location", "body"))
    field = str(entry.get("field", ""))
    if not field or field == location:
        return [location]
    return [location, *(int(part) if part.isdigit() else part for part in field.split("."))]


def _validation_detail(message: str, details: Any) -> list[dict[str, Any]]:
    entries = [entry for entry in details if isinstance(entry, dict)] if isinstance(details, list) else []
    if not entries:
        return [{"type": "value_error", "loc": ["body"], "msg": message, "input": None}]
    return [
        {
            "type": str(entry.get("type", "value_error")),
            "loc": _loc(entry),
            "msg": str(entry.get("message", "")),
            "input": None,
        }
        for entry in entries
    ]


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {
        "error": {"code": code, "message": message, "details": details},
        "detail": _validation_detail(message, details) if status == 422 else message,
    }
    retry_after = (headers or {}).get("Retry-After")
    if status == 429 and retry_after is not None:
        body["retry_after"] = retry_after
    return JSONResponse(body, status_code=status, headers=headers)


def validation_details(error: ValidationError, location: str) -> list[dict[str, Any]]:
    """One entry per offending field, named by its dotted path, without echoing the input back."""
    return [
        {
            "field": ".".join(str(part) for part in item["loc"]) or location,
            "location": location,
            "message": item["msg"],
            "type": item["type"],
        }
        for item in error.errors(include_url=False, include_input=False)
    ]


def response_for_exception(request: Request, exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(exc.status_code, code, message, None, dict(exc.headers or {}))
    error = client_error(exc)
    if error is not None:
        if isinstance(error, StoreUnavailable) and error is not exc:
            log.warning(
                "store unavailable", extra={"store": error.details["store"], "path": request.url.path}
            )
        return error_response(error.status, error.code, error.message, error.details, error.headers)
    log.error("unhandled error", extra={"path": request.url.path}, exc_info=exc)
    return error_response(500, "internal_error", "An unexpected error occurred. It has been logged.")


async def _handle(request: Request, exc: Exception) -> Response:
    return response_for_exception(request, exc)


def exception_handlers() -> dict[Any, ExceptionHandler]:
    """For errors raised outside api routes (routing 404/405, middleware, mounted apps)."""
    return {HTTPException: _handle, Exception: _handle}
