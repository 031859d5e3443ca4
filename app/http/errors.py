"""The JSON error model: every failure is {"error": {code, message, details}}; never a traceback."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ExceptionHandler

from app.errors import DomainError, StoreUnavailable
from app.stores.availability import unavailable_store

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


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "details": details}}, status_code=status, headers=headers
    )


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
    if isinstance(exc, DomainError):
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)
    if isinstance(exc, HTTPException):
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(exc.status_code, code, message, None, dict(exc.headers or {}))
    store = unavailable_store(exc)
    if store is not None:
        log.warning("store unavailable", extra={"store": store, "path": request.url.path})
        return response_for_exception(request, StoreUnavailable(store))
    log.error("unhandled error", extra={"path": request.url.path}, exc_info=exc)
    return error_response(500, "internal_error", "An unexpected error occurred. It has been logged.")


async def _handle(request: Request, exc: Exception) -> Response:
    return response_for_exception(request, exc)


def exception_handlers() -> dict[Any, ExceptionHandler]:
    """For errors raised outside api routes (routing 404/405, middleware, mounted apps)."""
    return {HTTPException: _handle, Exception: _handle}
