"""A stand-in for Google's OAuth 2.0 / OpenID Connect endpoints, served by uvicorn on 127.0.0.1.

It speaks the parts of the protocol the app uses:

* ``GET  /o/oauth2/v2/auth``  the consent screen: with a signed-in "browser" profile (``sign_in_as``) it
  redirects to ``redirect_uri?code=...&state=...`` like Google does after the user picks an account;
* ``POST /token``             the authorization-code exchange (form encoded), single-use codes;
* ``GET  /v1/userinfo``       the OpenID userinfo endpoint (Bearer access token).

Tests register which code maps to which profile (``add_code`` / ``sign_in_as``) and can read back the
requests the provider received (``requests``).
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.standins.server import serving

AUTH_PATH = "/o/oauth2/v2/auth"
TOKEN_PATH = "/token"
USERINFO_PATH = "/v1/userinfo"
ISSUER = "https://accounts.google.com"


@dataclass
class GoogleProfile:
    sub: str
    email: str
    email_verified: bool = True
    given_name: str | None = "Test"
    family_name: str | None = "User"
    picture: str | None = "https://lh3.googleusercontent.com/a/test-avatar"

    def userinfo(self) -> dict[str, Any]:
        info: dict[str, Any] = {"sub": self.sub, "email": self.email, "email_verified": self.email_verified}
        for name in ("given_name", "family_name", "picture"):
            value = getattr(self, name)
            if value is not None:
                info[name] = value
        if self.given_name or self.family_name:
            info["name"] = " ".join(part for part in (self.given_name, self.family_name) if part)
        return info


@dataclass
class _Grant:
    profile: GoogleProfile
    redirect_uri: str


@dataclass
class ReceivedRequest:
    method: str
    path: str
    form: dict[str, str]
    headers: dict[str, str]


@dataclass
class GoogleProvider:
    """The provider's state. Everything is guarded by a lock: the server runs in its own thread."""

    client_id: str
    client_secret: str
    redirect_uri: str
    base_url: str = ""
    requests: list[ReceivedRequest] = field(default_factory=list)
    fail_status: int | None = None
    _codes: dict[str, _Grant] = field(default_factory=dict)
    _tokens: dict[str, GoogleProfile] = field(default_factory=dict)
    _browser_profile: GoogleProfile | None = None
    _id_token_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- what tests use ---------------------------------------------------------------------------------

    @property
    def auth_url(self) -> str:
        return self.base_url + AUTH_PATH

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    @property
    def userinfo_url(self) -> str:
        return self.base_url + USERINFO_PATH

    def add_code(
        self, profile: GoogleProfile, code: str | None = None, redirect_uri: str | None = None
    ) -> str:
        """Register a single-use authorization code that signs in as `profile`; returns the code."""
        code = code or "4/" + secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Grant(profile, redirect_uri or self.redirect_uri)
        return code

    def sign_in_as(self, profile: GoogleProfile | None) -> None:
        """The Google account the "browser" has chosen on the consent screen."""
        with self._lock:
            self._browser_profile = profile

    def reset(self) -> None:
        with self._lock:
            self._codes.clear()
            self._tokens.clear()
            self._browser_profile = None
            self.requests.clear()
            self.fail_status = None

    def received(self, path: str) -> list[ReceivedRequest]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    # -- the HTTP side ----------------------------------------------------------------------------------

    async def _record(self, request: Request) -> dict[str, str]:
        form: dict[str, str] = {}
        if request.method == "POST":
            form = {key: str(value) for key, value in (await request.form()).items()}
        with self._lock:
            self.requests.append(
                ReceivedRequest(
                    request.method, request.url.path, form, {k.lower(): v for k, v in request.headers.items()}
                )
            )
        return form

    def _failure(self) -> Response | None:
        if self.fail_status is not None:
            return JSONResponse({"error": "backend_error"}, status_code=self.fail_status)
        return None

    async def authorize(self, request: Request) -> Response:
        await self._record(request)
        params = request.query_params
        if params.get("client_id") != self.client_id:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if params.get("redirect_uri") != self.redirect_uri:
            return JSONResponse({"error": "redirect_uri_mismatch"}, status_code=400)
        if params.get("response_type") != "code" or "openid" not in params.get("scope", "").split():
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        with self._lock:
            profile = self._browser_profile
        if profile is None:
            return JSONResponse({"error": "no_signed_in_account"}, status_code=400)
        code = self.add_code(profile)
        query = {"code": code, "scope": params.get("scope", "")}
        if "state" in params:
            query["state"] = params["state"]
        return RedirectResponse(f"{self.redirect_uri}?{urlencode(query)}", status_code=302)

    async def token(self, request: Request) -> Response:
        form = await self._record(request)
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        failure = self._failure()
        if failure is not None:
            return failure
        if form.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        with self._lock:
            grant = self._codes.get(form.get("code", ""))
            valid = (
                grant is not None
                and form.get("client_id") == self.client_id
                and form.get("client_secret") == self.client_secret
                and form.get("redirect_uri") == grant.redirect_uri
            )
            if grant is None or not valid:
                return JSONResponse(
                    {"error": "invalid_grant", "error_description": "Bad Request"}, status_code=400
                )
            del self._codes[form["code"]]  # codes are single use
            access_token = "ya29." + secrets.token_urlsafe(32)
            self._tokens[access_token] = grant.profile
        now = int(time.time())
        id_token = jwt.encode(
            {
                "iss": ISSUER,
                "aud": self.client_id,
                "sub": grant.profile.sub,
                "email": grant.profile.email,
                "email_verified": grant.profile.email_verified,
                "iat": now,
                "exp": now + 3600,
            },
            self._id_token_key,  # the app does not verify id_token; Google would sign it with RS256
            algorithm="HS256",
        )
        return JSONResponse(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 3599,
                "id_token": id_token,
                "scope": "openid https://www.googleapis.com/auth/userinfo.email "
                "https://www.googleapis.com/auth/userinfo.profile",
            },
            headers={"Cache-Control": "no-store"},
        )

    async def userinfo(self, request: Request) -> Response:
        await self._record(request)
        failure = self._failure()
        if failure is not None:
            return failure
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        with self._lock:
            profile = self._tokens.get(token) if scheme.lower() == "bearer" else None
        if profile is None:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "Invalid Credentials"},
                status_code=401,
                headers={
                    "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
                },
            )
        return JSONResponse(profile.userinfo())

    def asgi_app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(AUTH_PATH, self.authorize, methods=["GET"]),
                Route(TOKEN_PATH, self.token, methods=["POST"]),
                Route(USERINFO_PATH, self.userinfo, methods=["GET"]),
            ]
        )


@contextmanager
def running_google_provider(
    *, client_id: str, client_secret: str, redirect_uri: str, startup_timeout: float = 10.0
) -> Iterator[GoogleProvider]:
    """Serve a `GoogleProvider` with uvicorn on a free loopback port in a background thread."""
    provider = GoogleProvider(client_id=client_id, client_secret=client_secret, redirect_uri=redirect_uri)

    def app_for(base_url: str) -> Any:
        provider.base_url = base_url
        return provider.asgi_app()

    with serving(app_for, name="Google stand-in provider", startup_timeout=startup_timeout):
        yield provider


@contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound (so nothing else takes it) but never listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()
