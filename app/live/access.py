"""Who may use the hub: who a token is, and who may subscribe to which channel (docs/PRODUCT.md)."""

from __future__ import annotations

import time

from app import channels
from app.courses import access
from app.courses import store as courses
from app.errors import DomainError
from app.http.principal import principal_from_token
from app.runtime import Runtime
from app.security.principal import Principal
from app.stores.models import User
from app.telemetry import parts as telemetry_parts
from app.users import store as users
from realtime.connection import HubPrincipal
from realtime.contracts import AuthFailed
from realtime.protocol import ProtocolError


class AppTokenVerifier:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @staticmethod
    def _describe(principal: Principal, user: User) -> HubPrincipal:
        name = f"{user.first_name} {user.last_name}".strip()
        return HubPrincipal(
            user_id=str(principal.user_id),
            expires_at=principal.expires_at.timestamp(),
            info={
                "user_id": principal.user_id,
                "name": name,
                "role": principal.role,
                "avatar": user.avatar_url,
            },
            payload=principal,
        )

    async def verify(self, token: str) -> HubPrincipal:
        try:
            principal, user = await principal_from_token(token, self.runtime)
        except DomainError as exc:
            raise AuthFailed(exc.code, exc.message) from exc
        return self._describe(principal, user)

    async def revalidate(self, principal: HubPrincipal) -> HubPrincipal | None:
        current: Principal = principal.payload
        # What changed may be an enrollment: this process's heartbeat look-ups for the user are read
        # again, and the connection's own (in `principal.state`) go with the replaced principal.
        telemetry_parts.targets(self.runtime).forget_user(current.user_id)
        async with self.runtime.db.read() as tx:
            user = await users.get(tx, current.user_id)
        if user is None or not user.is_active:
            return None
        if await self.runtime.revocations.is_revoked(current.jti, current.session_id):
            return None
        updated = Principal(
            user_id=user.id,
            role=user.role,
            email=user.email,
            is_blocked=user.is_blocked,
            jti=current.jti,
            session_id=current.session_id,
            expires_at=current.expires_at,
        )
        described = self._describe(updated, user)
        described.expires_at = principal.expires_at
        return described


# A typing indicator shows for a few seconds, so one fan-out per user and channel every couple of
# seconds loses nothing (the web app sends one per 3 s); faster ones get a `rate_limited` reply.
TYPING_INTERVAL_SECONDS = 2.0
_TYPING_REMEMBERED = 50_000


class AppAuthorizer:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._last_typing: dict[tuple[int, str], float] = {}

    async def may_subscribe(self, principal: HubPrincipal, channel: str) -> bool:
        who: Principal = principal.payload
        target = channels.parse(channel)
        if isinstance(target, channels.AdminChannel):
            return who.role == "admin"
        if isinstance(target, channels.UserChannel):
            return target.user_id == who.user_id
        if target is None:
            return False
        course_id, kind = target.course_id, target.kind
        async with self.runtime.db.read() as tx:
            course = await courses.get(tx, course_id)
            if course is None or not access.can_see(who, course):
                return False
            manages = access.can_manage(who, course)
            if kind == "activity":
                return manages
            if manages:
                return True
            enrolled = await courses.enrollment(tx, who.user_id, course_id) is not None
        if kind == "leaderboard":
            return enrolled and course.is_leaderboard_public
        return enrolled

    async def may_publish_typing(self, principal: HubPrincipal, channel: str) -> bool:
        who: Principal = principal.payload
        if not channels.is_discussion(channel) or who.is_blocked:
            return False
        self._throttle_typing(who.user_id, channel)
        return True

    def _throttle_typing(self, user_id: int, channel: str) -> None:
        now = time.monotonic()
        key = (user_id, channel)
        last = self._last_typing.get(key)
        if last is not None and now - last < TYPING_INTERVAL_SECONDS:
            raise ProtocolError("rate_limited", "typing indicators are limited to one every 2 s")
        if len(self._last_typing) >= _TYPING_REMEMBERED:
            cutoff = now - TYPING_INTERVAL_SECONDS
            self._last_typing = {k: t for k, t in self._last_typing.items() if t > cutoff}
        self._last_typing[key] = now
