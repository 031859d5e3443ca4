"""The OpenAPI 3.1 document is generated from the routes themselves, and the docs page is served."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from pydantic import BaseModel, TypeAdapter

from app.http.openapi import REF, openapi_document
from app.http.routing import ApiRoute, Context, api_route
from app.main import api_routes


def api_route_list() -> list[ApiRoute]:
    routes = [route for route in api_routes() if isinstance(route, ApiRoute)]
    assert routes
    return routes


def openapi_path(template: str) -> str:
    return re.sub(r"{(\w+):\w+}", r"{\1}", template)


@pytest.fixture
async def spec(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document: dict[str, Any] = response.json()
    return document


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    name = ref.removeprefix("#/components/schemas/")
    assert name in spec["components"]["schemas"], ref
    resolved: dict[str, Any] = spec["components"]["schemas"][name]
    return resolved


def all_refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= all_refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(all_refs(item) for item in node)) if node else set()
    return set()


async def test_the_document_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1")
    validate(spec)
    errors = list(OpenAPIV31SpecValidator(spec).iter_errors())
    assert errors == []


async def test_every_api_route_is_documented_with_its_method(spec: dict[str, Any]) -> None:
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    declared = {(openapi_path(route.operation.path), route.operation.method) for route in api_route_list()}
    assert declared == documented
    for route in api_route_list():
        operation = spec["paths"][openapi_path(route.path)][route.operation.method.lower()]
        assert operation["summary"] == route.operation.summary
        assert operation["tags"] == list(route.operation.tags)


async def test_operation_ids_are_unique(spec: dict[str, Any]) -> None:
    ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


async def test_every_body_and_every_json_success_response_has_a_schema(spec: dict[str, Any]) -> None:
    for route in api_route_list():
        op = route.operation
        operation = spec["paths"][openapi_path(op.path)][op.method.lower()]
        if op.body is not None:
            body = operation["requestBody"]
            assert body["required"] is True
            schema = resolve(spec, body["content"]["application/json"]["schema"])
            assert schema.get("type") == "object", (op.path, schema)
            assert "422" in operation["responses"], op.path
        elif op.upload_field is not None:
            schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
            assert schema["required"] == [op.upload_field], op.path
            assert schema["properties"][op.upload_field]["format"] == "binary", op.path
        else:
            assert "requestBody" not in operation, op.path
        successes = {code: value for code, value in operation["responses"].items() if code.startswith("2")}
        assert list(successes) == [str(op.status_code)], op.path
        for response in successes.values():
            assert response["description"]
            for media_type, content in response.get("content", {}).items():
                assert "json" in media_type or media_type in op.other_media_types, (op.path, media_type)
                assert content.get("schema"), (op.path, media_type)
        if op.response is not None:
            assert "application/json" in successes[str(op.status_code)]["content"], op.path


async def test_component_schemas_match_the_models_that_validate_and_serialize(spec: dict[str, Any]) -> None:
    """A model documented for a request is the validation schema; for a response, the serialization one."""
    components = spec["components"]["schemas"]
    for route in api_route_list():
        op = route.operation
        for model, mode in ((op.body, "validation"), (op.response, "serialization")):
            if isinstance(model, type) and issubclass(model, BaseModel):
                expected = TypeAdapter(model).json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
                expected.pop("$defs", None)
                assert components[model.__name__] == expected, (op.path, model.__name__, mode)


async def test_every_reference_resolves(spec: dict[str, Any]) -> None:
    refs = all_refs(spec["paths"]) | all_refs(spec["components"])
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in spec["components"]["schemas"], ref


async def test_errors_share_one_schema_and_auth_is_declared(spec: dict[str, Any]) -> None:
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for route in api_route_list():
        op = route.operation
        operation = spec["paths"][openapi_path(op.path)][op.method.lower()]
        for code, response in operation["responses"].items():
            if not code.startswith("2"):
                assert response["content"]["application/json"]["schema"] == error_ref
        if op.auth == "required":
            assert operation["security"] == [{"bearerAuth": []}]
            assert "401" in operation["responses"]
        if op.rate_limit is not None:
            assert "429" in operation["responses"], op.path
        if op.roles:
            assert "403" in operation["responses"], op.path


async def test_path_and_query_parameters(spec: dict[str, Any]) -> None:
    get_user = spec["paths"]["/api/users/{user_id}"]["get"]
    assert get_user["parameters"] == [
        {"name": "user_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    ]
    listing = spec["paths"]["/api/users"]["get"]
    query = {param["name"]: param for param in listing["parameters"] if param["in"] == "query"}
    assert {"skip", "limit", "role", "search"} <= set(query)
    assert query["limit"]["schema"]["maximum"] == 100
    assert "X-Total-Count" in listing["responses"]["200"]["headers"]


def test_each_path_parameter_is_typed_by_its_own_converter() -> None:
    class Out(BaseModel):
        ok: bool

    @api_route(
        "GET",
        "/api/things/{thing_id:int}/parts/{part_id}/{ratio:float}",
        summary="x",
        tags=["t"],
        response=Out,
    )
    async def handler(ctx: Context[None, None]) -> Out:
        return Out(ok=True)

    document = openapi_document([handler], title="t", version="0")
    validate(document)
    params = document["paths"]["/api/things/{thing_id}/parts/{part_id}/{ratio}"]["get"]["parameters"]
    assert {param["name"]: param["schema"]["type"] for param in params} == {
        "thing_id": "integer",
        "part_id": "string",
        "ratio": "number",
    }


async def test_docs_page_and_its_assets_are_served(client: httpx.AsyncClient) -> None:
    page = await client.get("/api/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "/api/docs/assets/swagger-ui-bundle.js" in html
    assert "/api/docs/assets/swagger-ui.css" in html
    # Everything comes from this server: no CDN.
    assert "https://" not in html and "http://" not in html

    bundle = await client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    assert "javascript" in bundle.headers["content-type"]
    assert len(bundle.content) > 100_000

    css = await client.get("/api/docs/assets/swagger-ui.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")

    init = await client.get("/api/docs/init.js")
    assert init.status_code == 200
    assert "javascript" in init.headers["content-type"]
    assert "/api/openapi.json" in init.text


async def test_a_missing_docs_asset_is_a_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/docs/assets/nope.js")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    traversal = await client.get("/api/docs/assets/..%2F..%2F..%2Fetc%2Fpasswd")
    assert traversal.status_code == 404
