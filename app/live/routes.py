"""The WebSocket endpoint /ws (SPEC §4)."""

from __future__ import annotations

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from app.runtime import Runtime
from realtime.protocol import CLOSE_REASONS, CloseCode, error_reply


async def websocket_endpoint(websocket: WebSocket) -> None:
    runtime: Runtime = websocket.app.state.runtime
    if any(name in websocket.query_params for name in ("token", "access_token", "jwt")):
        await websocket.accept()
        await websocket.send_text(error_reply(None, "token_in_url", "send the token in the first frame"))
        await websocket.close(int(CloseCode.UNAUTHORIZED), CLOSE_REASONS[CloseCode.UNAUTHORIZED])
        return
    assert runtime.hub is not None
    await runtime.hub.serve(websocket)


routes = [WebSocketRoute("/ws", websocket_endpoint)]
