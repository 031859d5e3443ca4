"""Pure ASGI middleware (so it sees WebSockets too): client IP, request id, access log and metrics."""

from __future__ import annotations

import ipaddress
import logging
import re
import time
import uuid
from collections.abc import Sequence

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.errors import response_for_exception
from app.http.metrics import LATENCY, REQUESTS
from app.logs import request_id_var

log = logging.getLogger("learnflow.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_ip(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str | None:
    """The first address, from the right, of the X-Forwarded-For chain that is not a trusted proxy.

    X-Forwarded-For is honoured only when the direct peer is itself a trusted proxy, as uvicorn's
    forwarded-allow-ips does; otherwise anyone could choose the IP their rate limit is counted on.
    """

    def is_trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in trusted)

    if peer is None or not forwarded_for or not is_trusted(peer):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer
    return hops[0] if hops else peer


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, trusted_proxies: Sequence[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = self._annotate(scope)
        token = request_id_var.set(request_id)
        try:
            if scope["type"] == "http":
                await self._http(scope, receive, send, request_id)
            else:
                # A socket can stay open for hours, and this frame with it: keep nothing the socket
                # does not need (no header dict, no send wrapper), only what is already in the scope.
                await self.app(scope, receive, send)
        finally:
            request_id_var.reset(token)

    def _annotate(self, scope: Scope) -> str:
        """Put the client IP and the request id in the scope; the request id."""
        forwarded_for: str | None = None
        incoming = ""
        # The last occurrence wins, for both headers.
        for key, value in scope["headers"]:
            if key == b"x-forwarded-for":
                forwarded_for = value.decode("latin-1")
            elif key == b"x-request-id":
                incoming = value.decode("latin-1")
        peer = scope["client"][0] if scope.get("client") else None
        scope["client_ip"] = client_ip(peer, forwarded_for, self.trusted)
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope["request_id"] = request_id
        return request_id

    async def _http(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Starlette's ServerErrorMiddleware sits outside this one, so without this an error raised
            # outside the api routes (a mounted app, /metrics, another middleware) would be answered
            # without a request id. Answer here in the JSON error model; the handler logs it.
            if response_started:
                raise
            response = response_for_exception(Request(scope), exc)
            await response(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            elapsed = time.perf_counter() - started
            REQUESTS.labels(scope["method"], template, str(status)).inc()
            LATENCY.labels(scope["method"], template).observe(elapsed)
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": template,
                    "status": status,
                    "ms": round(elapsed * 1000, 1),
                    "client_ip": scope["client_ip"],
                },
            )
