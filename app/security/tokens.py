"""Access tokens (HS256 JWT, algorithm pinned on decode) and opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

ALGORITHM = "HS256"
_REQUIRED_CLAIMS = ["sub", "role", "jti", "iat", "exp", "sid"]
# Verifying a signature is the largest cost of an authenticated request that is otherwise served from
# memory; a client sends the same token on every request until it expires, so verified ones are kept.
VERIFIED_TOKENS_KEPT = 20_000


class InvalidToken(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _expired() -> InvalidToken:
    return InvalidToken("token_expired", "The access token has expired.")


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    role: str
    jti: str
    session_id: str
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class RefreshToken:
    token_id: str
    secret: str

    @property
    def value(self) -> str:
        return f"{self.token_id}.{self.secret}"

    @property
    def secret_hash(self) -> str:
        return hash_secret(self.secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenCodec:
    def __init__(self, secret: str, access_ttl_seconds: int) -> None:
        if not secret:
            raise ValueError("a JWT secret is required")
        self._secret = secret
        self.access_ttl = timedelta(seconds=access_ttl_seconds)
        self._verified: dict[str, tuple[float, AccessClaims]] = {}

    def issue_access(self, *, user_id: int, role: str, session_id: str, now: datetime | None = None) -> str:
        issued = now or datetime.now(UTC)
        payload: dict[str, Any] = {
            "sub": str(user_id),
            "role": role,
            "jti": uuid.uuid4().hex,
            "sid": session_id,
            "iat": int(issued.timestamp()),
            "exp": int((issued + self.access_ttl).timestamp()),
            "typ": "access",
        }
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM)

    def decode_access(self, token: str) -> AccessClaims:
        """The claims of a token whose signature and claims check out, and that has not expired."""
        verified = self._verified.get(token)
        if verified is not None:
            expires_at, claims = verified
            if time.time() < expires_at:
                return claims
            del self._verified[token]
            raise _expired()
        claims = self._verify(token)
        if len(self._verified) >= VERIFIED_TOKENS_KEPT:
            del self._verified[next(iter(self._verified))]  # the oldest goes first
        self._verified[token] = (claims.expires_at.timestamp(), claims)
        return claims

    def _verify(self, token: str) -> AccessClaims:
        try:
            payload = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM], options={"require": _REQUIRED_CLAIMS}
            )
        except jwt.ExpiredSignatureError as exc:
            raise _expired() from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("invalid_token", "The access token is invalid.") from exc
        if payload.get("typ") != "access" or not str(payload["sub"]).isdigit():
            raise InvalidToken("invalid_token", "The access token is invalid.")
        return AccessClaims(
            user_id=int(payload["sub"]),
            role=str(payload["role"]),
            jti=str(payload["jti"]),
            session_id=str(payload["sid"]),
            issued_at=datetime.fromtimestamp(int(payload["iat"]), UTC),
            expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
        )

    def sign_state(self, payload: dict[str, Any], ttl_seconds: int) -> str:
        """A short-lived signed value, used as the OAuth `state` parameter."""
        now = datetime.now(UTC)
        body = {**payload, "typ": "state", "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp())}
        return jwt.encode(body, self._secret, algorithm=ALGORITHM)

    def verify_state(self, state: str) -> dict[str, Any]:
        try:
            payload: dict[str, Any] = jwt.decode(state, self._secret, algorithms=[ALGORITHM])
        except jwt.PyJWTError as exc:
            raise InvalidToken("invalid_state", "The sign-in state is invalid or has expired.") from exc
        if payload.get("typ") != "state":
            raise InvalidToken("invalid_state", "The sign-in state is invalid or has expired.")
        return payload


def new_refresh_token() -> RefreshToken:
    return RefreshToken(token_id=str(uuid.uuid4()), secret=secrets.token_urlsafe(32))


def parse_refresh_token(value: str) -> RefreshToken:
    token_id, _, secret = value.partition(".")
    try:
        uuid.UUID(token_id)
    except ValueError as exc:
        raise InvalidToken("invalid_refresh_token", "The refresh token is invalid.") from exc
    if not secret:
        raise InvalidToken("invalid_refresh_token", "The refresh token is invalid.")
    return RefreshToken(token_id=token_id, secret=secret)
