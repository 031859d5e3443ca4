"""RequestContextMiddleware on a WebSocket: the scope is annotated, and the middleware's frame, which
lives as long as the socket, holds nothing from the upgrade beyond the scope itself."""

from __future__ import annotations

import inspect
import ipaddress
import sys
from types import FrameType
from typing import Any

from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from app.http.middleware import RequestContextMiddleware


def _middleware_locals(frame: FrameType | None) -> dict[str, Any]:
    while frame is not None:
        if isinstance(frame.f_locals.get("self"), RequestContextMiddleware):
            return dict(frame.f_locals)
        frame = frame.f_back
    raise AssertionError("the app was not called from RequestContextMiddleware")


def _app(seen: dict[str, Any]) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            return
        seen["held"] = _middleware_locals(sys._getframe(1))
        seen["scope"] = scope
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": f"{scope['request_id']} {scope['client_ip']}"})
        await receive()

    return app


def test_websocket_scope_is_annotated_and_the_upgrade_is_not_kept() -> None:
    seen: dict[str, Any] = {}
    app = RequestContextMiddleware(_app(seen), trusted_proxies=[ipaddress.ip_network("10.0.0.0/8")])
    client = TestClient(app, client=("10.1.2.3", 50000))
    with client.websocket_connect(
        "/ws", headers={"x-request-id": "req-42", "x-forwarded-for": "198.51.100.7, 10.0.0.9"}
    ) as socket:
        assert socket.receive_text() == "req-42 198.51.100.7"
        socket.close()
    scope = seen["scope"]
    held = seen["held"]
    # Nothing built from the upgrade request survives beside the scope: no header dict, and no send
    # wrapper closure (which would keep its own cells) between the server and the socket.
    assert [name for name, value in held.items() if isinstance(value, dict) and value is not scope] == []
    assert [name for name, value in held.items() if inspect.isfunction(value)] == []


def test_websocket_with_an_invalid_request_id_gets_a_fresh_one() -> None:
    seen: dict[str, Any] = {}
    app = RequestContextMiddleware(_app(seen), trusted_proxies=[])
    client = TestClient(app)
    with client.websocket_connect("/ws", headers={"x-request-id": "bad id with spaces"}) as socket:
        request_id, _ = socket.receive_text().split(" ")
        socket.close()
    assert request_id != "bad id with spaces" and len(request_id) == 32
