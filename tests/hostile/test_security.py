"""Security cases against hostile input. Where a case was already proven elsewhere it is only
referenced; this module adds what was missing (marked "here").

attack                          | proven by (tests/…)
--------------------------------|----------------------------------------------------------------------
JWT alg none, REST              | http/test_errors_and_limits.py::test_a_jwt_with_alg_none_is_refused
JWT wrong key / other alg, REST | http/test_errors_and_limits.py
                                |   ::test_a_jwt_signed_with_another_key_or_algorithm_is_refused
JWT alg none / wrong key, WS    | here: test_forged_tokens_are_refused_over_ws; hostile/test_ws_fuzzer.py
expired token, REST             | http/test_errors_and_limits.py::test_an_expired_token_is_a_401_token_expired
revoked token, REST             | auth/test_auth_flow.py::test_register_login_me_refresh_logout;
                                |   auth/test_profile_password.py
                                |   ::test_password_change_signs_out_other_sessions_only
expired / revoked token, WS     | live/test_protocol.py
                                |   ::test_a_refused_token_gets_an_error_reply_then_close_4001
token in URL, REST              | http/test_errors_and_limits.py::test_a_token_in_the_url_is_refused (one
                                |   route); here: test_a_token_in_the_url_is_refused_on_every_operation
token in URL, WS                | live/test_protocol.py::test_a_token_in_the_url_is_refused_with_4001
SQL/NoSQL injection, filters    | hostile/test_injection.py (every query parameter of the OpenAPI document,
                                |   operator objects in every JSON string field, login bypass)
HTML/script in every text field | hostile/test_stored_text.py (every text field of the OpenAPI document)
path traversal, upload names    | media/test_upload_local.py::test_client_filenames_never_reach_the_disk
path traversal, GET /media/../… | media/test_upload_local.py::test_media_mount_serves_only_stored_files
                                |   (in-process; httpx normalises `..`); here, over a raw socket:
                                |   test_raw_traversal_paths_never_leave_the_served_directories
oversized bodies → 413          | http/test_errors_and_limits.py::test_body_over_one_mebibyte_is_a_413,
                                |   ::test_chunked_body_over_one_mebibyte_is_a_413; media/test_upload_local.py
                                |   ::test_over_the_limit_for_its_kind_is_413; here, on a real server:
                                |   test_oversized_bodies_are_413_on_a_real_server; WS 1009: test_ws_fuzzer.py
CORS from unlisted origins      | http/test_cors.py::test_preflight_from_an_unlisted_origin_is_not_allowed,
                                |   ::test_simple_requests_carry_the_header_only_for_listed_origins,
                                |   ::test_no_origin_is_allowed_when_none_is_configured
login brute force throttled     | auth/test_login_throttling.py (per account and client, growing waits,
                                |   never a lock; unknown and known emails alike);
                                |   http/test_rate_limit_keys.py
security headers, CSP, cookies  | http/test_security_headers.py, auth/test_refresh_cookie.py, e2e (CSP)
deeply nested JSON              | http/test_json_depth.py; live/test_abuse_limits.py (WS frames)
no stack traces in any response | http/test_errors_and_limits.py::test_an_unexpected_error_in_an_api_route_is_
                                |   a_json_500 and ::…outside_api_routes… (forced internal errors); every
                                |   response body of hostile/test_injection.py, test_stored_text.py and this
                                |   module is scanned (scene.TraceScanner); the schemathesis and fuzzer
                                |   servers log no traceback
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import make_settings
from tests.helpers import Api
from tests.hostile.conftest import LoggedInstance
from tests.hostile.scene import TRACE_MARKERS, TraceScanner, build_scene, fill_path
from tests.http.test_errors_and_limits import claims_for, forge
from tests.media import samples

pytestmark = pytest.mark.timeout(300)

CANARY = "canary-secret-7f3e"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limit_default": "1000000/minute"}


@pytest.fixture(scope="module")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A media directory with a secret file beside it that no URL may reach."""
    root = tmp_path_factory.mktemp("hostile-media")
    (root / "secret.txt").write_text(CANARY)
    (root / "media").mkdir()
    return root


@pytest.fixture(scope="module")
def server(serve: Callable[..., LoggedInstance], media_root: Path) -> Iterator[LoggedInstance]:
    yield serve(MEDIA_DIR=str(media_root / "media"), RATE_LIMIT_DEFAULT="1000000/minute")


# -- forged tokens over WS -------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:The HMAC key is .* below the minimum")
async def test_forged_tokens_are_refused_over_ws(server: LoggedInstance, api: Api) -> None:
    account = await api.account("learner")
    secret = make_settings().jwt_secret
    forged = {
        "alg none": forge(claims_for(account.id), alg="none"),
        "alg None": forge(claims_for(account.id), alg="None"),
        "wrong key": forge(
            claims_for(account.id), alg="HS256", key="another-secret-of-sufficient-length-000"
        ),
        "other algorithm": forge(claims_for(account.id), alg="HS512", key=secret),
        "not an access token": forge(claims_for(account.id, typ="state"), alg="HS256", key=secret),
    }
    for name, token in forged.items():
        async with connect(server.instance.ws) as ws:
            await ws.send(json.dumps({"op": "auth", "id": name, "token": token}))
            reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert reply["id"] == name and reply["ok"] is False, reply
            assert reply["error"]["code"] == "invalid_token", (name, reply)
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001
    # The genuine token still works, and a forged one in `refresh` is refused without closing.
    async with connect(server.instance.ws) as ws:
        await ws.send(json.dumps({"op": "auth", "id": 1, "token": account.access_token}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["ok"] is True
        await ws.send(json.dumps({"op": "refresh", "id": 2, "token": forged["wrong key"]}))
        reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert reply == {
            "id": 2,
            "ok": False,
            "error": {"code": "invalid_token", "message": reply["error"]["message"]},
        }
        await ws.send(json.dumps({"op": "ping", "id": 3}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"id": 3, "ok": True, "pong": True}


# -- token in the URL, on every operation -----------------------------------------------------------


async def test_a_token_in_the_url_is_refused_on_every_operation(client: httpx.AsyncClient, api: Api) -> None:
    scanner = TraceScanner()
    scanner.attach(client)
    scene = await build_scene(api, client)
    document = (await client.get("/api/openapi.json")).json()
    checked = 0
    for template, operations in document["paths"].items():
        url = fill_path(template, scene.path_values(scene.admin))
        for method in operations:
            for param in ("token", "access_token", "jwt"):
                response = await client.request(
                    method.upper(), url, params={param: scene.admin.access_token}, json={}
                )
                checked += 1
                assert response.status_code == 400, (method, url, param, response.text)
                assert response.json()["error"]["code"] == "token_in_url"
    print(f"token in URL: {checked} requests refused")
    assert checked >= 3 * 60
    assert not scanner.leaks, scanner.leaks


# -- path traversal over a raw socket ----------------------------------------------------------------

TRAVERSALS = [
    "/media/../secret.txt",
    "/media/../../etc/passwd",
    "/media/..%2fsecret.txt",
    "/media/%2e%2e/secret.txt",
    "/media/%2e%2e%2fsecret.txt",
    "/media/..\\secret.txt",
    "/media/....//secret.txt",
    "/media//../secret.txt",
    "/media/%252e%252e/secret.txt",
    "/media/.%2e/.%2e/etc/passwd",
    "/api/docs/assets/../../../../etc/passwd",
    "/api/docs/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/../../../../etc/passwd",
    "/assets/../../../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
]


async def raw_get(port: int, target: str) -> tuple[int, str]:
    """GET with the target exactly as given: no client-side normalisation of `..` or escapes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode(errors="replace")


async def test_raw_traversal_paths_never_leave_the_served_directories(
    server: LoggedInstance, media_root: Path
) -> None:
    # The mount does serve its directory: a stored file comes back.
    stored = "0123456789abcdef0123456789abcdef.png"
    (media_root / "media" / stored).write_bytes(samples.png())
    status, _ = await raw_get(server.instance.port, f"/media/{stored}")
    assert status == 200
    statuses = {}
    for target in TRAVERSALS:
        status, body = await raw_get(server.instance.port, target)
        statuses[target] = status
        assert CANARY not in body and "root:x:0:0" not in body, (target, status)
        assert not TRACE_MARKERS.search(body), (target, body[:300])
        if target.startswith(("/media/", "/api/")):
            assert status in (400, 404), (target, status, body[:200])
        else:
            # Outside /api and /media the web app's fallback may answer with its index page, never a file.
            assert status in (200, 400, 404), (target, status)
            assert status != 200 or "<!doctype html>" in body.lower(), (target, body[:200])
    print("traversal statuses:", statuses)


# -- oversized bodies on the real server ---------------------------------------------------------------


async def test_oversized_bodies_are_413_on_a_real_server(server: LoggedInstance, api: Api) -> None:
    account = await api.account("instructor")
    big = b'{"title": "' + b"x" * (1024 * 1024 + 10) + b'"}'

    async def chunks() -> Any:
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    async with httpx.AsyncClient(base_url=server.instance.http, timeout=30) as http:
        declared = await http.post(
            "/api/courses", content=big, headers={**account.headers, "Content-Type": "application/json"}
        )
        streamed = await http.post(
            "/api/courses", content=chunks(), headers={**account.headers, "Content-Type": "application/json"}
        )
        for response in (declared, streamed):
            assert response.status_code == 413, response.text[:200]
            assert response.json()["error"]["code"] == "payload_too_large"
        assert (await http.get("/api/health")).status_code == 200
