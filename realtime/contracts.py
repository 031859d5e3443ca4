"""What an application hands the hub: a token verifier, an authorizer and handlers for its own ops."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from realtime.connection import HubPrincipal
from realtime.protocol import ClientFrame


class AuthFailed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> HubPrincipal:
        """The principal a token stands for; raises AuthFailed when it is invalid, expired or revoked."""

    async def revalidate(self, principal: HubPrincipal) -> HubPrincipal | None:
        """The principal as it is now (role, blocked), or None when it may no longer be connected."""


class Authorizer(Protocol):
    async def may_subscribe(self, principal: HubPrincipal, channel: str) -> bool: ...

    async def may_publish_typing(self, principal: HubPrincipal, channel: str) -> bool: ...


# An application op: returns the fields of its `ok` reply, or raises realtime.protocol.ProtocolError.
OpHandler = Callable[[HubPrincipal, ClientFrame], Awaitable[dict[str, Any]]]
