"""Browser-hardening headers on every HTTP response (pure ASGI, so mounted apps and errors get them too).

The Content-Security-Policy fits the built web app: its scripts and styles are files under /assets (no
inline script; the theme is set by /theme.js), it talks to this origin over HTTP and WebSocket, shows
images and videos from https sources (lesson media live on Cloudinary or /media/, avatars anywhere) and
embeds only the YouTube and Vimeo players. Nothing may frame any page of ours.
"""

from __future__ import annotations

import re
from functools import lru_cache

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

VIDEO_EMBEDS = ("https://www.youtube-nocookie.com", "https://player.vimeo.com")
# Host header values we are willing to echo into connect-src (anything else falls back to 'self').
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?$")

STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


@lru_cache(maxsize=64)
def content_security_policy(host: str | None) -> str:
    """'self' covers same-origin WebSockets only in newer browsers, so the ws:/wss: origin is named."""
    connect = ["'self'"]
    if host and _HOST.match(host):
        connect += [f"ws://{host}", f"wss://{host}"]
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", "https:"],
        "media-src": ["'self'", "blob:", "https:"],
        "font-src": ["'self'", "data:"],
        "connect-src": connect,
        "frame-src": list(VIDEO_EMBEDS),
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = next((value.decode("latin-1") for key, value in scope["headers"] if key == b"host"), None)
        policy = content_security_policy(host)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in STATIC_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", policy)
            await send(message)

        await self.app(scope, receive, send_with_headers)
