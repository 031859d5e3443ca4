"""SQL and NoSQL injection (hostile input): every query parameter of every GET operation of the
OpenAPI document (so a new filter is covered as soon as it is declared), and every string field of every
JSON body, receive injection strings and operator objects.

The oracle per parameter is the honest query: the same request with a harmless value that matches nothing.
An injection string must give the same status class and never more rows; an operator object where a
string is expected must be a 4xx, never a success or a 5xx. Every response body is scanned for traces.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import Account, Api
from tests.hostile.scene import TraceScanner, build_scene, fill_path, resolve, string_properties

pytestmark = pytest.mark.timeout(300)

INJECTIONS = [
    "' OR 1=1 --",
    "' OR '1'='1",
    '" OR ""="',
    "1 OR 1=1",
    "0) OR (1=1",
    "1; DROP TABLE users; --",
    "' UNION SELECT email, password_hash FROM users --",
    "admin'--",
    '{"$gt": ""}',
    '{"$ne": null}',
    '{"$where": "1 == 1"}',
    "[$ne]=1",
    "'; return true; var x='",
    "$regex",
]
OPERATOR_OBJECTS: list[Any] = [{"$gt": ""}, {"$ne": None}, {"$regex": ".*"}, ["' OR 1=1 --"]]
HARMLESS = "qqzzxxnomatch"
# Endpoints whose rows belong to the caller: they are asked as the learner, who has some.
AS_LEARNER = ("/api/my-messages", "/api/chats", "/api/chat-partners", "/api/chats/{partner_id}")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limit_default": "1000000/minute", "rate_limit_login": "1000000/minute"}


@pytest.fixture
async def scanned(client: httpx.AsyncClient) -> TraceScanner:
    scanner = TraceScanner()
    scanner.attach(client)
    return scanner


def rows(response: httpx.Response) -> int:
    if "x-total-count" in response.headers:
        return int(response.headers["x-total-count"])
    if "csv" in response.headers.get("content-type", ""):
        return max(0, len(response.text.strip().splitlines()) - 1)
    body = response.json()
    if isinstance(body, list):
        return len(body)
    return sum(len(value) for value in body.values() if isinstance(value, list))


def list_operations(document: dict[str, Any]) -> list[tuple[str, list[str]]]:
    found = []
    for path, operations in document["paths"].items():
        get = operations.get("get")
        if get is None:
            continue
        names = [param["name"] for param in get.get("parameters", []) if param["in"] == "query"]
        if names:
            found.append((path, names))
    return found


async def test_injection_strings_in_every_filter_never_widen_the_result(
    client: httpx.AsyncClient, api: Api, scanned: TraceScanner
) -> None:
    scene = await build_scene(api, client)
    document = (await client.get("/api/openapi.json")).json()
    operations = list_operations(document)
    assert len(operations) >= 15, [path for path, _ in operations]  # the document lists the filters
    checked = 0
    for template, names in operations:
        actor: Account = scene.learner if template in AS_LEARNER else scene.admin
        url = fill_path(template, scene.path_values(actor))
        unfiltered = await client.get(url, headers=actor.headers)
        assert unfiltered.status_code == 200, (url, unfiltered.text)
        for name in names:
            honest = await client.get(url, params={name: HARMLESS}, headers=actor.headers)
            assert honest.status_code in (200, 422), (url, name, honest.text)
            for value in INJECTIONS:
                response = await client.get(url, params={name: value}, headers=actor.headers)
                checked += 1
                where = (url, name, value, response.status_code, response.text[:300])
                assert response.status_code < 500, where
                if response.status_code == 200:
                    assert honest.status_code == 200, where
                    assert rows(response) <= rows(honest), where
                else:
                    assert response.status_code == 422, where
            # Operator-shaped parameter names (qs-style `name[$ne]=`) are not filters: never a wider result.
            shaped = await client.get(url, params={f"{name}[$ne]": "x"}, headers=actor.headers)
            assert shaped.status_code < 500 and rows(shaped) <= rows(unfiltered), (url, name, shaped.text)
            repeated = await client.get(
                url, params=[(name, HARMLESS), (name, "' OR 1=1 --")], headers=actor.headers
            )
            assert repeated.status_code in (200, 422), (url, name, repeated.text)
            if repeated.status_code == 200:
                assert rows(repeated) <= rows(unfiltered)
    print(f"injection: {len(operations)} list operations, {checked} filtered requests")
    assert not scanned.leaks, scanned.leaks


async def test_operator_objects_where_strings_are_expected_are_refused(
    client: httpx.AsyncClient, api: Api, scanned: TraceScanner
) -> None:
    scene = await build_scene(api, client)
    document = (await client.get("/api/openapi.json")).json()
    checked = 0
    for template, operations in document["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            schema = content["application/json"]["schema"]
            actor = scene.owner if "/lessons" in template else scene.admin
            url = fill_path(template, scene.path_values(actor))
            headers = actor.headers if operation.get("security") else {}
            for name in string_properties(document, schema):
                for value in OPERATOR_OBJECTS:
                    body = {name: value}
                    response = await client.request(method.upper(), url, json=body, headers=headers)
                    checked += 1
                    where = (method, url, body, response.status_code, response.text[:300])
                    assert 400 <= response.status_code < 500, where
                    if response.status_code == 422:
                        fields = {detail["field"] for detail in response.json()["error"]["details"]}
                        named = any(field == name or field.startswith(f"{name}.") for field in fields)
                        # A partial update that names no valid field may be refused as a whole.
                        assert named or resolve(document, schema).get("required") is None, where
    print(f"operator objects: {checked} bodies")
    assert checked >= 100
    assert not scanned.leaks, scanned.leaks


@pytest.mark.parametrize(
    "body",
    [
        {"email": {"$gt": ""}, "password": {"$gt": ""}},
        {"email": {"$ne": None}, "password": {"$ne": None}},
        {"email": "' OR 1=1 --", "password": "' OR 1=1 --"},
        {"email": "admin@example.com' --", "password": "x"},
    ],
)
async def test_login_bypass_attempts_never_sign_in(
    client: httpx.AsyncClient, api: Api, scanned: TraceScanner, body: dict[str, Any]
) -> None:
    await api.account("admin")
    response = await client.post("/api/auth/login", json=body)
    assert response.status_code in (401, 422), response.text
    assert "access_token" not in response.text
    assert not scanned.leaks
