"""The WebSocket endpoint /ws: refusals that need no hub (token in the URL, too many attempts)."""

from __future__ import annotations

from collections.abc import Awaitable

from starlette.routing import WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from app.config import is_loopback_host
from app.errors import TooManyRequests
from app.http.principal import client_ip_key
from app.runtime import Runtime
from app.stores.availability import unavailable_store
from realtime.protocol import CLOSE_REASONS, CloseCode, error_reply


async def _refuse(websocket: WebSocket, code: str, message: str, close: CloseCode) -> None:
    await websocket.accept()
    await websocket.send_text(error_reply(None, code, message))
    await websocket.close(int(close), CLOSE_REASONS[close])


async def _over_connect_limit(websocket: WebSocket, runtime: Runtime) -> bool:
    """Connection attempts per client address (each one costs an accept and, until the `auth` frame
    arrives or the deadline passes, a held socket). Clients on this machine are not counted: behind a
    local proxy the address is the forwarded one, and local load tests open thousands of sockets."""
    client = str(websocket.scope.get("client_ip") or "")
    if is_loopback_host(client):
        return False
    try:
        await runtime.rate_limiter.hit(
            runtime.settings.rate_limit_ws_connect, "ws_connect", client_ip_key(websocket)
        )
    except TooManyRequests:
        return True
    except Exception as exc:  # noqa: BLE001 - with Redis away the hub refuses the socket itself
        if unavailable_store(exc) is None:
            raise
    return False


async def websocket_endpoint(websocket: WebSocket) -> None:
    runtime: Runtime = websocket.app.state.runtime
    if any(name in websocket.query_params for name in ("token", "access_token", "jwt")):
        await _refuse(websocket, "token_in_url", "send the token in the first frame", CloseCode.UNAUTHORIZED)
        return
    hub = runtime.hub
    assert hub is not None
    # A full hub turns the socket away in `serve` (503 before the upgrade) without this Redis call, and
    # an attempt it turned away does not count against the address.
    if not hub.full() and await _over_connect_limit(websocket, runtime):
        await _refuse(
            websocket, "rate_limited", "too many connection attempts; retry later", CloseCode.RATE_LIMITED
        )
        return
    await hub.serve(websocket)


def websocket_app(scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
    """The endpoint as an ASGI app (app.main dispatches /ws sockets to it ahead of the middleware). Not
    a coroutine function: it hands back the endpoint's coroutine, so its own frame is not kept for the
    socket's lifetime."""
    return websocket_endpoint(WebSocket(scope, receive=receive, send=send))


WS_PATH = "/ws"
routes = [WebSocketRoute(WS_PATH, websocket_endpoint)]
