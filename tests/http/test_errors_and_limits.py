"""The JSON error model, request ids, rate limits and bearer-token handling, through the whole app."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from tests.helpers import PASSWORD, Api, bearer

HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == ({"error", "detail", "retry_after"} if status == 429 else {"error", "detail"})
    error = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert re.fullmatch(r"[a-z][a-z0-9_]*", error["code"])
    assert isinstance(error["message"], str) and error["message"]
    assert_detail(body, status)
    if code is not None:
        assert error["code"] == code, error
    return error


def assert_detail(body: dict[str, Any], status: int) -> None:
    """`detail` in the original API's form: the message as a string, or for a 422 one
    {type, loc, msg, input} per field problem, loc starting with where the problem is."""
    error, detail = body["error"], body["detail"]
    if status != 422:
        assert detail == error["message"]
        return
    assert isinstance(detail, list) and len(detail) == len(error["details"]) > 0
    for item, ours in zip(detail, error["details"], strict=True):
        assert set(item) == {"type", "loc", "msg", "input"} and item["input"] is None
        assert item["loc"][0] == ours["location"] and item["msg"] == ours["message"]
        assert item["type"] == ours["type"]
        assert ".".join(str(part) for part in item["loc"][1:]) in (ours["field"], "")


@pytest.fixture(autouse=True)
def every_response_is_clean(client: httpx.AsyncClient) -> None:
    """Whatever a test sends: a request id on the response, and never a stack trace in it."""

    async def check(response: httpx.Response) -> None:
        await response.aread()
        assert response.headers.get("x-request-id"), (response.request.url, response.headers)
        assert "Traceback" not in response.text
        assert 'File "' not in response.text

    client.event_hooks["response"].append(check)


def b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def forge(payload: dict[str, Any], *, alg: str = "none", key: str = "") -> str:
    """An unsigned token (any spelling of alg "none") or one signed with the given key and algorithm."""
    if alg.lower() == "none":
        return f"{b64({'alg': alg, 'typ': 'JWT'})}.{b64(payload)}."
    return jwt.encode(payload, key, algorithm=alg)


def claims_for(user_id: int, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": str(user_id),
        "role": "admin",
        "jti": uuid.uuid4().hex,
        "sid": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 600,
        "typ": "access",
        **extra,
    }


# --- the error model ---------------------------------------------------------------------------


# Other paths outside the reserved prefixes belong to the web app (tests/ops/test_frontend_serving.py).
@pytest.mark.parametrize("path", ["/api/nope", "/api/users/abc", "/ws/nothing-here", "/api/auth/me/extra"])
async def test_unknown_route_is_a_json_404(client: httpx.AsyncClient, path: str) -> None:
    error = assert_error(await client.get(path), 404, "not_found")
    assert error["details"] is None


async def test_wrong_method_is_a_json_405_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/auth/me")
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["allow"]
    assert_error(await client.get("/api/auth/login"), 405, "method_not_allowed")
    assert_error(await client.put("/api/health"), 405, "method_not_allowed")


@pytest.mark.parametrize("raw", [b"{not json", b'{"email": "a@example.com",}', b"\xff\xfe", b"[1, 2"])
async def test_invalid_json_is_a_422_naming_the_body(client: httpx.AsyncClient, raw: bytes) -> None:
    response = await client.post("/api/auth/login", content=raw, headers={"Content-Type": "application/json"})
    error = assert_error(response, 422, "validation_error")
    assert [item["field"] for item in error["details"]] == ["body"]


async def test_json_that_is_not_an_object_is_a_422(client: httpx.AsyncClient) -> None:
    for body in ([], "text", 3, None):
        error = assert_error(await client.post("/api/auth/login", json=body), 422, "validation_error")
        assert error["details"]


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
)
async def test_non_json_content_type_is_a_415(client: httpx.AsyncClient, content_type: str) -> None:
    response = await client.post(
        "/api/auth/login",
        content=b'{"email": "a@example.com", "password": "x"}',
        headers={"Content-Type": content_type},
    )
    assert_error(response, 415, "unsupported_media_type")


async def test_json_content_type_with_charset_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/login",
        content=b'{"email": "nobody@example.com", "password": "Whatever1"}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert_error(response, 401, "invalid_credentials")


async def test_body_over_one_mebibyte_is_a_413(client: httpx.AsyncClient) -> None:
    big = {"email": "a@example.com", "password": "x" * (1024 * 1024 + 10)}
    assert_error(await client.post("/api/auth/login", json=big), 413, "payload_too_large")


async def test_chunked_body_over_one_mebibyte_is_a_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"email": "a@example.com", "password": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    response = await client.post(
        "/api/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "payload_too_large")


async def test_body_just_under_the_limit_is_validated_not_refused(client: httpx.AsyncClient) -> None:
    body = {"email": "a@example.com", "password": "x" * (1024 * 1024 - 100)}
    error = assert_error(await client.post("/api/auth/login", json=body), 422, "validation_error")
    assert [item["field"] for item in error["details"]] == ["password"]


async def test_validation_errors_name_every_offending_field(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/register",
        json={"email": "not-an-email", "first_name": "   ", "password": "weakpass"},
    )
    error = assert_error(response, 422, "validation_error")
    fields = {item["field"] for item in error["details"]}
    assert fields == {"email", "first_name", "last_name", "password"}
    for item in error["details"]:
        assert item["location"] == "body"
        assert item["message"] and item["type"]
    # The submitted values (a password, say) are never echoed back.
    assert "weakpass" not in response.text
    assert "not-an-email" not in response.text


async def test_query_validation_errors_name_the_parameter(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    response = await client.get("/api/users?limit=lots&skip=-1", headers=admin.headers)
    error = assert_error(response, 422, "validation_error")
    assert {(item["field"], item["location"]) for item in error["details"]} == {
        ("limit", "query"),
        ("skip", "query"),
    }


async def test_an_unexpected_error_in_an_api_route_is_a_json_500(
    client: httpx.AsyncClient, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = await api.register()

    async def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals: /srv/app/db.py line 42")

    monkeypatch.setattr("app.users.service.get_public", explode)
    response = await client.get("/api/auth/me", headers=account.headers)
    error = assert_error(response, 500, "internal_error")
    assert "secret internals" not in response.text
    assert error["details"] is None


async def test_an_unexpected_error_outside_api_routes_is_a_json_500_with_request_id(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError("secret internals of the metrics page")

    monkeypatch.setattr("app.ops.routes.generate_latest", explode)
    response = await client.get("/metrics", headers={"X-Request-ID": "metrics-boom-1"})
    assert_error(response, 500, "internal_error")
    assert response.headers["x-request-id"] == "metrics-boom-1"
    assert "secret internals" not in response.text


# --- request ids ---------------------------------------------------------------------------------


async def test_every_response_gets_a_fresh_request_id(client: httpx.AsyncClient) -> None:
    first = await client.get("/api/health")
    second = await client.get("/api/nope")
    assert HEX_ID.match(first.headers["x-request-id"])
    assert HEX_ID.match(second.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert len(first.headers.get_list("x-request-id")) == 1


@pytest.mark.parametrize("incoming", ["abc-123", "req.7:trace_9", "A" * 128, str(uuid.uuid4())])
async def test_a_valid_incoming_request_id_is_echoed(client: httpx.AsyncClient, incoming: str) -> None:
    for path in ("/api/health", "/api/nope", "/api/auth/me"):
        response = await client.get(path, headers={"X-Request-ID": incoming})
        assert response.headers.get_list("x-request-id") == [incoming]


@pytest.mark.parametrize("incoming", ["has space", "A" * 129, "semi;colon", "new\\nline", "<script>", ""])
async def test_an_invalid_incoming_request_id_is_replaced(client: httpx.AsyncClient, incoming: str) -> None:
    response = await client.get("/api/health", headers={"X-Request-ID": incoming})
    assert HEX_ID.match(response.headers["x-request-id"])
    assert response.headers.get_list("x-request-id") != [incoming]


# --- bearer tokens -------------------------------------------------------------------------------


@pytest.mark.parametrize("param", ["token", "access_token", "jwt"])
async def test_a_token_in_the_url_is_refused(client: httpx.AsyncClient, api: Api, param: str) -> None:
    account = await api.register()
    response = await client.get(f"/api/auth/me?{param}={account.access_token}")
    assert_error(response, 400, "token_in_url")
    # Even alongside a good header.
    response = await client.get(f"/api/auth/me?{param}=x", headers=account.headers)
    assert_error(response, 400, "token_in_url")


@pytest.mark.parametrize(
    "header", ["Basic dXNlcjpTZWNyZXQxMjM=", "Bearer", "Bearer    ", "Token abc", "Digest username=x", "abc"]
)
async def test_other_authorization_schemes_are_a_401(client: httpx.AsyncClient, header: str) -> None:
    response = await client.get("/api/auth/me", headers={"Authorization": header})
    assert_error(response, 401, "invalid_token")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_no_token_is_a_401_not_authenticated(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/auth/me")
    assert_error(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_jwt_with_alg_none_is_refused(client: httpx.AsyncClient, api: Api) -> None:
    account = await api.register()
    for alg in ("none", "None", "NONE"):
        token = forge(claims_for(account.id), alg=alg)
        assert_error(await client.get("/api/auth/me", headers=bearer(token)), 401, "invalid_token")


@pytest.mark.filterwarnings("ignore:The HMAC key is .* below the minimum")
async def test_a_jwt_signed_with_another_key_or_algorithm_is_refused(
    client: httpx.AsyncClient, api: Api
) -> None:
    account = await api.register()
    wrong_key = forge(claims_for(account.id), alg="HS256", key="another-secret-of-sufficient-length-000")
    assert_error(await client.get("/api/auth/me", headers=bearer(wrong_key)), 401, "invalid_token")
    # The right secret but an algorithm other than the pinned HS256.
    right_secret = api.runtime.settings.jwt_secret
    other_alg = forge(claims_for(account.id), alg="HS512", key=right_secret)
    assert_error(await client.get("/api/auth/me", headers=bearer(other_alg)), 401, "invalid_token")
    # A tampered payload under the original signature.
    header, _, signature = account.access_token.split(".")
    tampered_payload = b64(claims_for(account.id))
    tampered = f"{header}.{tampered_payload}.{signature}"
    assert_error(await client.get("/api/auth/me", headers=bearer(tampered)), 401, "invalid_token")
    # The genuine token still works.
    assert (await client.get("/api/auth/me", headers=account.headers)).status_code == 200


async def test_signed_tokens_that_are_not_access_tokens_are_refused(
    client: httpx.AsyncClient, api: Api
) -> None:
    account = await api.register()
    secret = api.runtime.settings.jwt_secret
    for claims in (
        claims_for(account.id, typ="state"),
        {k: v for k, v in claims_for(account.id).items() if k != "jti"},
        claims_for(account.id, sub="not-a-number"),
    ):
        token = forge(claims, alg="HS256", key=secret)
        assert_error(await client.get("/api/auth/me", headers=bearer(token)), 401, "invalid_token")
    state = api.runtime.tokens.sign_state({"sub": str(account.id)}, 60)
    assert_error(await client.get("/api/auth/me", headers=bearer(state)), 401, "invalid_token")
    assert_error(await client.get("/api/auth/me", headers=bearer("x.y.z")), 401, "invalid_token")


async def test_an_expired_token_is_a_401_token_expired(client: httpx.AsyncClient, api: Api) -> None:
    account = await api.register()
    expired = api.runtime.tokens.issue_access(
        user_id=account.id,
        role="learner",
        session_id=str(uuid.uuid4()),
        now=datetime.now(UTC) - timedelta(hours=1),
    )
    assert_error(await client.get("/api/auth/me", headers=bearer(expired)), 401, "token_expired")


async def test_a_stale_bearer_header_does_not_break_public_endpoints(
    client: httpx.AsyncClient, api: Api
) -> None:
    """Clients often attach the (expired) access token to every call, refresh included."""
    account = await api.register()
    expired = api.runtime.tokens.issue_access(
        user_id=account.id,
        role="learner",
        session_id=str(uuid.uuid4()),
        now=datetime.now(UTC) - timedelta(hours=1),
    )
    for headers in (bearer(expired), bearer("garbage"), {"Authorization": "Basic dXNlcjpwYXNz"}):
        refreshed = await client.post(
            "/api/auth/refresh", json={"refresh_token": account.refresh_token}, headers=headers
        )
        assert refreshed.status_code == 200, refreshed.text
        account.refresh_token = refreshed.json()["refresh_token"]
        assert (await client.get("/api/health", headers=headers)).status_code == 200
        login = await client.post(
            "/api/auth/login", json={"email": account.email, "password": PASSWORD}, headers=headers
        )
        assert login.status_code == 200, login.text


# --- rate limits ---------------------------------------------------------------------------------


def assert_limited(response: httpx.Response, limit: int) -> None:
    error = assert_error(response, 429, "rate_limited")
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert error["details"]["retry_after"] == retry_after
    assert response.json()["retry_after"] == response.headers["retry-after"]
    assert response.headers["x-ratelimit-limit"] == str(limit)
    assert response.headers["x-ratelimit-remaining"] == "0"
    reset = int(response.headers["x-ratelimit-reset"])
    assert time.time() - 1 <= reset <= time.time() + 61


class TestDefaultLimit:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"rate_limit_default": "3/minute"}

    async def test_authenticated_calls_are_limited_per_user(
        self, client: httpx.AsyncClient, api: Api
    ) -> None:
        alice = await api.register()  # its GET /api/auth/me is alice's first call
        bob = await api.register()
        ok = await client.get("/api/auth/me", headers=alice.headers)
        assert ok.status_code == 200
        assert ok.headers["x-ratelimit-limit"] == "3"
        assert ok.headers["x-ratelimit-remaining"] == "1"
        assert int(ok.headers["x-ratelimit-reset"]) >= int(time.time())
        assert (await client.get("/api/auth/me", headers=alice.headers)).status_code == 200
        assert_limited(await client.get("/api/auth/me", headers=alice.headers), 3)
        # From another address alice is still alice.
        moved = await client.get(
            "/api/auth/me", headers={**alice.headers, "X-Forwarded-For": "198.51.100.77"}
        )
        assert_limited(moved, 3)
        # Bob, from the same address, is not limited by alice's calls.
        bobs = await client.get("/api/auth/me", headers=bob.headers)
        assert bobs.status_code == 200
        assert bobs.headers["x-ratelimit-remaining"] == "1"
        # Nor is an anonymous caller from that address.
        assert_error(await client.get("/api/auth/me"), 401, "not_authenticated")

    async def test_anonymous_calls_are_limited_per_ip(self, client: httpx.AsyncClient) -> None:
        first_ip = {"X-Forwarded-For": "198.51.100.10"}
        for _ in range(3):
            assert_error(await client.get("/api/auth/me", headers=first_ip), 401, "not_authenticated")
        assert_limited(await client.get("/api/auth/me", headers=first_ip), 3)
        # A forged token does not buy a fresh bucket: an unverifiable token counts against the IP.
        forged = bearer(forge(claims_for(1), alg="HS256", key="not-the-secret-not-the-secret-123"))
        assert_limited(await client.get("/api/auth/me", headers={**first_ip, **forged}), 3)
        other_ip = {"X-Forwarded-For": "198.51.100.11"}
        assert_error(await client.get("/api/auth/me", headers=other_ip), 401, "not_authenticated")

    async def test_an_untrusted_peer_cannot_pick_its_ip(self, app_and_runtime: Any) -> None:
        app, _ = app_and_runtime
        transport = httpx.ASGITransport(app=app, client=("203.0.113.50", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as outsider:
            for n in range(3):
                headers = {"X-Forwarded-For": f"198.51.100.{100 + n}"}
                assert (await outsider.get("/api/auth/me", headers=headers)).status_code == 401
            limited = await outsider.get("/api/auth/me", headers={"X-Forwarded-For": "198.51.100.200"})
            assert_limited(limited, 3)

    async def test_health_is_never_limited_and_readiness_per_ip(self, client: httpx.AsyncClient) -> None:
        for _ in range(8):
            health = await client.get("/api/health")
            assert health.status_code == 200
            assert "x-ratelimit-limit" not in health.headers
        # Readiness costs a round trip to every store, so it is limited like any public route.
        here = {"X-Forwarded-For": "198.51.100.30"}
        for _ in range(3):
            assert (await client.get("/api/ready", headers=here)).status_code == 200
        limited = await client.get("/api/ready", headers=here)
        assert_error(limited, 429, "rate_limited")
        elsewhere = await client.get("/api/ready", headers={"X-Forwarded-For": "198.51.100.31"})
        assert elsewhere.status_code == 200


class TestLoginLimit:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"rate_limit_login": "3/minute", "rate_limit_login_account": "3/minute"}

    async def test_login_is_limited_per_account_across_ips(self, client: httpx.AsyncClient, api: Api) -> None:
        home = {"X-Forwarded-For": "198.51.100.200"}
        account = await api.register(headers=home)
        spellings = [account.email, account.email.upper(), account.email.title()]
        for n, email in enumerate(spellings):
            response = await client.post(
                "/api/auth/login",
                json={"email": email, "password": "Wrong-password1"},
                headers={"X-Forwarded-For": f"203.0.113.{n + 1}"},
            )
            assert_error(response, 401, "invalid_credentials")
        # A fourth address, even with the right password: the account's budget for clients it never
        # signed in from is spent.
        response = await client.post(
            "/api/auth/login",
            json={"email": account.email, "password": PASSWORD},
            headers={"X-Forwarded-For": "203.0.113.99"},
        )
        assert_limited(response, 3)
        # The address the account was created from is not counted against it: the owner gets in.
        owner = await client.post(
            "/api/auth/login", json={"email": account.email, "password": PASSWORD}, headers=home
        )
        assert owner.status_code == 200, owner.text
        # Other accounts are unaffected, from any of those addresses.
        other = await api.register()
        response = await client.post(
            "/api/auth/login",
            json={"email": other.email, "password": PASSWORD},
            headers={"X-Forwarded-For": "203.0.113.1"},
        )
        assert response.status_code == 200, response.text

    async def test_login_is_limited_per_ip_across_accounts(self, client: httpx.AsyncClient) -> None:
        ip = {"X-Forwarded-For": "192.0.2.44"}
        for n in range(3):
            response = await client.post(
                "/api/auth/login",
                json={"email": f"nobody{n}@example.com", "password": "Whatever1"},
                headers=ip,
            )
            assert_error(response, 401, "invalid_credentials")
        response = await client.post(
            "/api/auth/login", json={"email": "nobody9@example.com", "password": "Whatever1"}, headers=ip
        )
        assert_limited(response, 3)
        response = await client.post(
            "/api/auth/login",
            json={"email": "nobody9@example.com", "password": "Whatever1"},
            headers={"X-Forwarded-For": "192.0.2.45"},
        )
        assert_error(response, 401, "invalid_credentials")


async def test_ids_beyond_the_integer_range_are_404_not_500(client: httpx.AsyncClient, api: Api) -> None:
    admin = await api.account("admin")
    for path in ("/api/users/99999999999", "/api/courses/99999999999", "/api/courses/2147483648/progress"):
        response = await client.get(path, headers=admin.headers)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["code"] == "not_found"
