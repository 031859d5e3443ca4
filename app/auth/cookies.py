"""The two auth cookies the web app relies on, and the responses that set or clear them.

- `lf_refresh`: the refresh token, HttpOnly (page scripts never see it), SameSite=Strict and scoped to
  the refresh path, so the browser sends it only to `POST /api/auth/refresh` from our own pages. Token
  responses still carry `refresh_token` in the body for API clients; the web app ignores it there and
  keeps only the access token, in memory.
- `lf_oauth_state`: the nonce that binds a Google sign-in to the browser that started it, scoped to the
  Google endpoints and cleared by the callback.
"""

from __future__ import annotations

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from app.auth.schemas import TokenPair
from app.config import Settings

REFRESH_COOKIE = "lf_refresh"
REFRESH_COOKIE_PATH = "/api/auth/refresh"
STATE_COOKIE = "lf_oauth_state"
STATE_COOKIE_PATH = "/api/auth/google"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def json_response(body: BaseModel, status_code: int = 200, *, no_store: bool = False) -> Response:
    return Response(
        body.model_dump_json(),
        status_code=status_code,
        media_type="application/json",
        headers=NO_STORE if no_store else None,
    )


def _set(response: Response, settings: Settings, name: str, value: str, path: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        secure=settings.auth_cookie_secure,
        httponly=True,
        samesite="strict",
    )


def _clear(response: Response, settings: Settings, name: str, path: str) -> None:
    response.delete_cookie(
        name, path=path, secure=settings.auth_cookie_secure, httponly=True, samesite="strict"
    )


def token_response(settings: Settings, tokens: TokenPair, status_code: int = 200) -> Response:
    """A token pair in the body (never cached anywhere) with the refresh token also in its cookie."""
    response = json_response(tokens, status_code, no_store=True)
    _set(
        response,
        settings,
        REFRESH_COOKIE,
        tokens.refresh_token,
        REFRESH_COOKIE_PATH,
        settings.refresh_token_ttl_seconds,
    )
    return response


def clear_refresh_cookie(response: Response, settings: Settings) -> Response:
    _clear(response, settings, REFRESH_COOKIE, REFRESH_COOKIE_PATH)
    return response


def set_state_cookie(response: Response, settings: Settings, nonce: str, max_age: int) -> Response:
    _set(response, settings, STATE_COOKIE, nonce, STATE_COOKIE_PATH, max_age)
    return response


def clear_state_cookie(response: Response, settings: Settings) -> Response:
    _clear(response, settings, STATE_COOKIE, STATE_COOKIE_PATH)
    return response


def refresh_cookie(request: Request) -> str | None:
    return request.cookies.get(REFRESH_COOKIE) or None


def state_cookie(request: Request) -> str | None:
    return request.cookies.get(STATE_COOKIE) or None
