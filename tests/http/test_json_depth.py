"""Deeply nested JSON bodies are refused with a 422 before the parser sees them.

Python's JSON parser recurses once per level: `[[[[…` a couple of hundred thousand deep raised
RecursionError, answered 500 with a traceback in the log. No body of this API nests more than a few
levels, so anything deeper than MAX_JSON_DEPTH is refused outright, quickly and without a log entry.
"""

from __future__ import annotations

import json
import logging
import time

import httpx
import pytest

from app.http.jsonbody import MAX_JSON_DEPTH, exceeds_depth
from tests.helpers import Api


def nested(depth: int, inner: str = "1") -> bytes:
    return ("[" * depth + inner + "]" * depth).encode()


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 5_000, 200_000])
async def test_a_body_nested_too_deep_is_a_422(
    client: httpx.AsyncClient, api: Api, caplog: pytest.LogCaptureFixture, depth: int
) -> None:
    account = await api.register()
    caplog.set_level(logging.INFO)
    started = time.perf_counter()
    response = await client.put(
        "/api/auth/profile",
        content=nested(depth),
        headers={**account.headers, "Content-Type": "application/json"},
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"][0]["type"] == "json_too_deep"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [
        r.getMessage() for r in caplog.records
    ]
    assert elapsed < 2.0


async def test_the_same_on_a_public_route(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/login", content=nested(100_000), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422 and response.json()["error"]["details"][0]["type"] == "json_too_deep"


async def test_nesting_up_to_the_limit_reaches_validation(client: httpx.AsyncClient) -> None:
    """At the limit the body is parsed and validated as usual (here: not an object, so a field error)."""
    body = (
        '{"email": "a@b.example", "password": '
        + "[" * (MAX_JSON_DEPTH - 1)
        + "]" * (MAX_JSON_DEPTH - 1)
        + "}"
    )
    response = await client.post(
        "/api/auth/login", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["password"]


@pytest.mark.parametrize(
    ("raw", "deep"),
    [
        (b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', False),  # brackets inside a string
        (b'{"a": "\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', False),  # after an escaped quote
        (b'[{"a": [{"b": [1, 2]}]}, [], {}]', False),
        (json.dumps({"k": [[1]] * 5000}).encode(), False),  # wide, not deep
        (nested(MAX_JSON_DEPTH), False),
        (nested(MAX_JSON_DEPTH + 1), True),
        (b"[]" * 10 + nested(MAX_JSON_DEPTH + 1), True),
        (b'{"a":' * (MAX_JSON_DEPTH + 1) + b"1" + b"}" * (MAX_JSON_DEPTH + 1), True),
    ],
)
def test_depth_counts_brackets_outside_strings(raw: bytes, deep: bool) -> None:
    assert exceeds_depth(raw, MAX_JSON_DEPTH) is deep
