"""Declarative API routes: one decorator validates input, authenticates, rate-limits, serializes, and
records what the OpenAPI document needs, so the document is generated from the same pydantic models
that validate requests."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.errors import (
    BadRequest,
    DomainError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from app.http.errors import response_for_exception, validation_details
from app.http.jsonbody import check_json_depth
from app.http.pagination import page_headers
from app.http.principal import authenticate, rate_limit_key, reject_token_in_url
from app.http.ratelimit import LimitState
from app.runtime import Runtime
from app.security.principal import Principal

log = logging.getLogger(__name__)

BodyT = TypeVar("BodyT", bound=BaseModel | None)
ItemT = TypeVar("ItemT")
QueryT = TypeVar("QueryT", bound=BaseModel | None)

AuthMode = Literal["none", "optional", "required"]
MAX_JSON_BODY_BYTES = 1024 * 1024


@dataclass
class Context(Generic[BodyT, QueryT]):
    request: Request
    runtime: Runtime
    body: BodyT
    query: QueryT
    principal: Principal | None
    response_headers: dict[str, str] = field(default_factory=dict)

    @property
    def user(self) -> Principal:
        """The authenticated principal; only on routes declared with auth="required"."""
        assert self.principal is not None
        return self.principal

    def path_param(self, name: str) -> Any:
        return self.request.path_params[name]

    @property
    def client_ip(self) -> str:
        return str(self.request.scope.get("client_ip") or "unknown")

    @property
    def user_agent(self) -> str | None:
        agent = self.request.headers.get("user-agent")
        return agent[:500] if agent else None


@dataclass(frozen=True)
class Page(Generic[ItemT]):
    """What a `paged=True` handler returns: one page of items (sent as the JSON array) and the total
    they were taken from, from which `api_route` sets `X-Total-Count` and the `Link` header."""

    items: Sequence[ItemT]
    total: int


@dataclass(frozen=True)
class Operation:
    path: str
    method: str
    summary: str
    tags: tuple[str, ...]
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: Any
    status_code: int
    auth: AuthMode
    roles: tuple[str, ...] | None
    rate_limit: str | None
    errors: tuple[int, ...]
    description: str | None
    paged: bool
    upload_field: str | None = None
    # Other media types the success response may take (e.g. text/csv), documented as strings.
    other_media_types: tuple[str, ...] = ()


Handler = Callable[[Context[Any, Any]], Awaitable[Any]]


class ApiRoute(Route):
    """A Starlette Route that also carries its Operation for the OpenAPI generator."""

    operation: Operation


def api_route(
    method: str,
    path: str,
    *,
    summary: str,
    tags: Sequence[str],
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: Any = None,
    status_code: int = 200,
    auth: AuthMode = "required",
    roles: Sequence[str] | None = None,
    rate_limit: str | None = "default",
    errors: Sequence[int] = (),
    paged: bool = False,
    upload_field: str | None = None,
    other_media_types: Sequence[str] = (),
) -> Callable[[Handler], ApiRoute]:
    """Declare an endpoint. `rate_limit` names a setting (`default`, `login`, `register`) or None."""

    def decorate(handler: Handler) -> ApiRoute:
        operation = Operation(
            path=path,
            method=method.upper(),
            summary=summary,
            tags=tuple(tags),
            body=body,
            query=query,
            response=response,
            status_code=status_code,
            auth=auth,
            roles=tuple(roles) if roles else None,
            rate_limit=rate_limit,
            errors=tuple(errors),
            description=handler.__doc__,
            paged=paged,
            upload_field=upload_field,
            other_media_types=tuple(other_media_types),
        )
        adapter: TypeAdapter[Any] | None = TypeAdapter(response) if response is not None else None

        async def endpoint(request: Request) -> Response:
            runtime: Runtime = request.app.state.runtime
            limit_state: LimitState | None = None
            try:
                _check_id_range(request)
                principal: Principal | None = None
                refused: DomainError | None = None
                if auth == "none":
                    # A public endpoint ignores any Authorization header: a stale token sent along
                    # with /api/auth/refresh must not fail it, and /api/health must not need stores.
                    reject_token_in_url(request)
                else:
                    try:
                        principal = await authenticate(request, runtime, required=auth == "required")
                    except (Unauthorized, BadRequest) as exc:
                        refused = exc  # counted against the client's address before it is answered
                if rate_limit is not None:
                    setting = getattr(runtime.settings, f"rate_limit_{rate_limit}")
                    limit_state = await runtime.rate_limiter.hit(
                        setting, rate_limit, rate_limit_key(request, principal)
                    )
                if refused is not None:
                    raise refused
                if roles and principal is not None and principal.role not in roles:
                    raise Forbidden("Your role may not do this.", code="insufficient_role")
                ctx: Context[Any, Any] = Context(
                    request=request,
                    runtime=runtime,
                    body=await _parse_body(request, body),
                    query=_parse_query(request, query),
                    principal=principal,
                )
                result = await handler(ctx)
                if isinstance(result, Page):
                    assert paged, f"{handler.__name__} returns a Page: declare it paged=True"
                    ctx.response_headers.update(
                        page_headers(request, skip=ctx.query.skip, limit=ctx.query.limit, total=result.total)
                    )
                    result = list(result.items)
                response_obj = _to_response(result, adapter, status_code)
                response_obj.headers.update(ctx.response_headers)
            except Exception as exc:  # noqa: BLE001 - every failure becomes the JSON error model
                response_obj = response_for_exception(request, exc)
            if limit_state is not None:
                for name, value in limit_state.headers().items():
                    response_obj.headers.setdefault(name, value)
            return response_obj

        endpoint.__name__ = handler.__name__
        route = ApiRoute(path, endpoint, methods=[operation.method], name=handler.__name__)
        route.operation = operation
        return route

    return decorate


MAX_ID = 2**31 - 1


def _check_id_range(request: Request) -> None:
    """Integer ids beyond the database's integer range name nothing that can exist."""
    for value in request.path_params.values():
        if isinstance(value, int) and not 0 < value <= MAX_ID:
            raise NotFound("No such resource.", code="not_found")


async def _parse_body(request: Request, model: type[BaseModel] | None) -> BaseModel | None:
    if model is None:
        return None
    content_type = request.headers.get("content-type", "")
    if content_type and "json" not in content_type.split(";")[0]:
        raise UnsupportedMediaType("Send the request body as application/json.")
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_JSON_BODY_BYTES:
        raise PayloadTooLarge("The request body is too large.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_JSON_BODY_BYTES:
            raise PayloadTooLarge("The request body is too large.")
        chunks.append(chunk)
    raw = b"".join(chunks)
    check_json_depth(raw)
    try:
        data = json.loads(raw) if raw else {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            "The request body is not valid JSON.",
            details=[
                {"field": "body", "location": "body", "message": "invalid JSON", "type": "json_invalid"}
            ],
        ) from exc
    _reject_nul_characters(data, "body")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(
            "The request body is invalid.", details=validation_details(exc, "body")
        ) from exc


def _nul_paths(value: Any, path: tuple[str | int, ...]) -> list[tuple[str | int, ...]]:
    if isinstance(value, str):
        return [path] if "\x00" in value else []
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _nul_paths(item, (*path, key))]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in _nul_paths(item, (*path, index))]
    return []


def _reject_nul_characters(data: Any, location: str) -> None:
    """PostgreSQL text cannot hold U+0000; refuse it up front, naming the field, rather than fail later."""
    paths = _nul_paths(data, ())
    if paths:
        raise ValidationFailed(
            "Text may not contain NUL characters.",
            details=[
                {
                    "field": ".".join(str(part) for part in path) or location,
                    "location": location,
                    "message": "NUL characters are not allowed",
                    "type": "string_nul",
                }
                for path in paths
            ],
        )


def _parse_query(request: Request, model: type[BaseModel] | None) -> BaseModel | None:
    if model is None:
        return None
    params: dict[str, Any] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        params[key] = values if len(values) > 1 else values[0]
    _reject_nul_characters(params, "query")
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise ValidationFailed(
            "The query parameters are invalid.", details=validation_details(exc, "query")
        ) from exc


def _to_response(result: Any, adapter: TypeAdapter[Any] | None, status_code: int) -> Response:
    if isinstance(result, Response):
        return result
    if adapter is None:
        return Response(status_code=status_code)
    return Response(adapter.dump_json(result), status_code=status_code, media_type="application/json")
