"""OpenAPI 3.1 generated from the routes' pydantic models, and the interactive docs page."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, Field, TypeAdapter
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute

from app.http.routing import ApiRoute, Operation

REF = "#/components/schemas/{model}"
_CONVERTER = re.compile(r"{(\w+):\w+}")
_CONVERTER_TYPES = {"int": "integer", "float": "number"}
_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation error (details name the fields)",
    429: "Rate limited (see Retry-After)",
    503: "A store or provider is unavailable",
}


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ValidationIssue(BaseModel):
    """One entry of a 422's `detail`, in the form clients of the original API read."""

    type: str
    loc: list[str | int]
    msg: str
    input: None = Field(description="Always null: request values are never echoed back")


class ErrorResponse(BaseModel):
    error: ErrorBody
    detail: str | list[ValidationIssue] = Field(
        description="The message (a list of field problems for a 422), as the original API sent it"
    )
    retry_after: str | None = Field(None, description="429 only: the Retry-After header's value")


class _Schemas:
    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def ref(self, annotation: Any, mode: Literal["validation", "serialization"]) -> dict[str, Any]:
        schema = TypeAdapter(annotation).json_schema(ref_template=REF, mode=mode)
        self.components.update(schema.pop("$defs", {}))
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            self.components[annotation.__name__] = schema
            return {"$ref": REF.format(model=annotation.__name__)}
        return schema


def _path(template: str) -> str:
    return _CONVERTER.sub(r"{\1}", template)


def _operation(op: Operation, schemas: _Schemas) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": op.method.lower() + "_" + re.sub(r"[^A-Za-z0-9]+", "_", _path(op.path)).strip("_"),
        "summary": op.summary,
        "tags": list(op.tags),
    }
    if op.description:
        spec["description"] = op.description.strip()
    # Each path parameter is typed by its own converter ({id:int} but {lesson_id} in one path).
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": _CONVERTER_TYPES.get(converter, "string")},
        }
        for name, converter in re.findall(r"{(\w+)(?::(\w+))?}", op.path)
    ]
    if op.query is not None:
        query_schema = op.query.model_json_schema(ref_template=REF)
        schemas.components.update(query_schema.pop("$defs", {}))
        required = set(query_schema.get("required", []))
        for name, field_schema in query_schema.get("properties", {}).items():
            parameters.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in required,
                    "schema": field_schema,
                    **({"description": field_schema["description"]} if "description" in field_schema else {}),
                }
            )
    if parameters:
        spec["parameters"] = parameters
    if op.upload_field is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": [op.upload_field],
                        "properties": {op.upload_field: {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    if op.body is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schemas.ref(op.body, "validation")}},
        }
    success: dict[str, Any] = {"description": _STATUS_TEXT.get(op.status_code, "Success")}
    if op.response is not None:
        success["content"] = {"application/json": {"schema": schemas.ref(op.response, "serialization")}}
    for media_type in op.other_media_types:
        success.setdefault("content", {})[media_type] = {"schema": {"type": "string"}}
    if op.paged:
        success["headers"] = {
            "X-Total-Count": {"schema": {"type": "integer"}, "description": "Items matching the filters"},
            "Link": {"schema": {"type": "string"}, "description": "RFC 8288 first/prev/next/last links"},
        }
    responses: dict[str, Any] = {str(op.status_code): success}
    error_codes = set(op.errors) | {422} if (op.body or op.query) else set(op.errors)
    if op.rate_limit is not None:
        error_codes.add(429)
    if op.auth == "required":
        error_codes.add(401)
    if op.roles:
        error_codes.add(403)
    for code in sorted(error_codes):
        responses[str(code)] = {
            "description": _STATUS_TEXT.get(code, "Error"),
            "content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorResponse")}}},
        }
    spec["responses"] = responses
    if op.auth == "required":
        spec["security"] = [{"bearerAuth": []}]
    elif op.auth == "optional":
        spec["security"] = [{}, {"bearerAuth": []}]
    return spec


def openapi_document(routes: Iterable[BaseRoute], *, title: str, version: str) -> dict[str, Any]:
    schemas = _Schemas()
    schemas.ref(ErrorResponse, "serialization")
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if isinstance(route, ApiRoute):
            op = route.operation
            paths.setdefault(_path(op.path), {})[op.method.lower()] = _operation(op, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": 'LearnFlow REST API. Errors: {"error": {code, message, details}, "detail": …}.',
        },
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.components.items())),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def openapi_endpoint(document: dict[str, Any]) -> Any:
    async def openapi_json(request: Request) -> Response:
        return JSONResponse(document)

    return openapi_json


DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>LearnFlow API</title>
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script>
</body></html>"""

DOCS_INIT_JS = """window.ui = SwaggerUIBundle({url: '/api/openapi.json', dom_id: '#swagger-ui',
  deepLinking: true, persistAuthorization: true});"""


async def docs_page(request: Request) -> Response:
    return HTMLResponse(DOCS_HTML)


async def docs_init(request: Request) -> Response:
    return Response(DOCS_INIT_JS, media_type="application/javascript")
