"""Google sign-in end to end: the app talks over real HTTP to a stand-in Google on loopback
(tests/standins/google_provider.py); nothing of ours is mocked."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from sqlalchemy import func, select

from app.auth.cookies import STATE_COOKIE
from app.runtime import Runtime
from app.stores.models import AuditLog, User
from tests.builders import error_code
from tests.helpers import PASSWORD, Api, bearer, set_cookie
from tests.standins.google_provider import (
    TOKEN_PATH,
    USERINFO_PATH,
    GoogleProfile,
    GoogleProvider,
    closed_port,
    running_google_provider,
)

CLIENT_ID = "learnflow-test.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-learnflow-test-secret"
REDIRECT_URI = "http://localhost:5173/auth/google/callback"


@pytest.fixture(scope="module")
def google_server() -> Iterator[GoogleProvider]:
    with running_google_provider(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=REDIRECT_URI
    ) as provider:
        yield provider


@pytest.fixture
def google(google_server: GoogleProvider) -> Iterator[GoogleProvider]:
    google_server.reset()
    yield google_server
    google_server.reset()


@pytest.fixture(scope="module")
def refused_url() -> Iterator[str]:
    with closed_port() as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def settings_overrides(
    request: pytest.FixtureRequest, google: GoogleProvider, refused_url: str
) -> dict[str, Any]:
    """Google settings pointing at the stand-in; a test picks a variant with indirect parametrization."""
    configured: dict[str, Any] = {
        "google_client_id": CLIENT_ID,
        "google_client_secret": CLIENT_SECRET,
        "google_redirect_uri": REDIRECT_URI,
        "google_auth_url": google.auth_url,
        "google_token_url": google.token_url,
        "google_userinfo_url": google.userinfo_url,
    }
    variant = getattr(request, "param", "configured")
    if variant == "configured":
        return configured
    if variant == "not_configured":
        return {}
    if variant == "no_client_secret":
        return {**configured, "google_client_secret": None}
    if variant == "no_redirect_uri":
        return {**configured, "google_redirect_uri": ""}
    if variant == "wrong_client_secret":
        return {**configured, "google_client_secret": "GOCSPX-someone-elses-secret"}
    if variant == "token_unreachable":
        return {**configured, "google_token_url": refused_url + "/token"}
    if variant == "userinfo_unreachable":
        return {**configured, "google_userinfo_url": refused_url + "/v1/userinfo"}
    raise AssertionError(f"unknown settings variant {variant!r}")


# -- helpers ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    """What `GET /api/auth/google/url` gave the browser: the URL, its state and the state cookie."""

    url: str
    state: str
    nonce: str


async def start_url(client: httpx.AsyncClient) -> Started:
    response = await client.get("/api/auth/google/url")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"url", "state"}
    assert response.headers["cache-control"] == "no-store"
    cookie = set_cookie(response, STATE_COOKIE)
    assert cookie is not None and cookie.value
    return Started(body["url"], body["state"], cookie.value)


async def callback(client: httpx.AsyncClient, code: str, state: str, nonce: str | None) -> httpx.Response:
    """Posts what Google returned, with the browser's state cookie when it has one."""
    headers = {"Cookie": f"{STATE_COOKIE}={nonce}"} if nonce is not None else {}
    return await client.post(
        "/api/auth/google/callback", json={"code": code, "state": state}, headers=headers
    )


async def browser_sign_in(
    client: httpx.AsyncClient, google: GoogleProvider, profile: GoogleProfile
) -> httpx.Response:
    """What the frontend does: fetch the URL, send the browser to Google, post back what Google returned."""
    google.sign_in_as(profile)
    started = await start_url(client)
    async with httpx.AsyncClient(follow_redirects=False, timeout=10) as browser:
        consent = await browser.get(started.url)
    assert consent.status_code == 302, consent.text
    location = urlsplit(consent.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    returned = {key: values[0] for key, values in parse_qs(location.query).items()}
    assert returned["state"] == started.state
    return await callback(client, returned["code"], returned["state"], started.nonce)


async def sign_in_with_code(
    client: httpx.AsyncClient, google: GoogleProvider, profile: GoogleProfile
) -> httpx.Response:
    code = google.add_code(profile)
    started = await start_url(client)
    return await callback(client, code, started.state, started.nonce)


async def sign_in_with(client: httpx.AsyncClient, code: str) -> httpx.Response:
    started = await start_url(client)
    return await callback(client, code, started.state, started.nonce)


async def me(client: httpx.AsyncClient, tokens: dict[str, Any]) -> dict[str, Any]:
    response = await client.get("/api/auth/me", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def audit_rows(runtime: Runtime, action: str) -> list[AuditLog]:
    async with runtime.db.read() as tx:
        query = select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
        return list((await tx.execute(query)).scalars())


async def user_count(runtime: Runtime) -> int:
    async with runtime.db.read() as tx:
        return int((await tx.execute(select(func.count()).select_from(User))).scalar_one())


async def user_by_id(runtime: Runtime, user_id: int) -> User:
    async with runtime.db.read() as tx:
        user = await tx.get(User, user_id)
    assert user is not None
    return user


def ada(**changes: Any) -> GoogleProfile:
    values: dict[str, Any] = {
        "sub": "110169484474386276334",
        "email": "Ada.Lovelace@Example.com",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "picture": "https://lh3.googleusercontent.com/a/ada",
    }
    values.update(changes)
    return GoogleProfile(**values)


# -- the authorization URL ----------------------------------------------------------------------------


async def test_authorization_url_carries_the_oauth_parameters(
    client: httpx.AsyncClient, runtime: Runtime, google: GoogleProvider
) -> None:
    body = await start_url(client)
    url = urlsplit(body.url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == google.auth_url
    query = parse_qs(url.query)
    assert all(len(values) == 1 for values in query.values())
    params = {key: values[0] for key, values in query.items()}
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == REDIRECT_URI
    assert params["response_type"] == "code"
    assert set(params["scope"].split()) >= {"openid", "email", "profile"}
    assert params["state"] == body.state
    assert runtime.tokens.verify_state(params["state"])["typ"] == "state"
    # Every request gets its own state and its own browser nonce.
    again = await start_url(client)
    assert again.state != body.state and again.nonce != body.nonce


# -- signing in ---------------------------------------------------------------------------------------


async def test_first_sign_in_creates_a_learner(
    client: httpx.AsyncClient, runtime: Runtime, google: GoogleProvider
) -> None:
    response = await browser_sign_in(client, google, ada())
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert tokens["token_type"] == "bearer"

    user = await me(client, tokens)
    assert user["email"] == "ada.lovelace@example.com"
    assert user["role"] == "learner"
    assert (user["first_name"], user["last_name"]) == ("Ada", "Lovelace")
    assert user["avatar_url"] == "https://lh3.googleusercontent.com/a/ada"
    assert user["is_active"] is True and user["is_blocked"] is False
    assert user["last_login_at"] is not None

    stored = await user_by_id(runtime, user["id"])
    assert stored.google_sub == "110169484474386276334"
    assert stored.password_hash is None

    # The app exchanged the code the way Google requires, then fetched the profile with the access token.
    [exchange] = google.received(TOKEN_PATH)
    assert exchange.form["client_id"] == CLIENT_ID
    assert exchange.form["client_secret"] == CLIENT_SECRET
    assert exchange.form["redirect_uri"] == REDIRECT_URI
    assert exchange.form["grant_type"] == "authorization_code"
    [info] = google.received(USERINFO_PATH)
    assert info.headers["authorization"].startswith("Bearer ya29.")

    [register] = await audit_rows(runtime, "register")
    assert register.user_id == user["id"] and register.details == {"method": "google"}
    [login] = await audit_rows(runtime, "login")
    assert login.user_id == user["id"]
    assert login.details == {"method": "google"}
    assert login.resource_type == "user" and login.resource_id == str(user["id"])

    # The pair is a normal one: the refresh token rotates.
    refreshed = await client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text


async def test_missing_names_fall_back_to_the_email(
    client: httpx.AsyncClient, google: GoogleProvider
) -> None:
    profile = ada(sub="2001", email="grace@example.com", given_name=None, family_name=None, picture=None)
    response = await sign_in_with_code(client, google, profile)
    assert response.status_code == 200, response.text
    user = await me(client, response.json())
    assert (user["first_name"], user["last_name"], user["avatar_url"]) == ("grace", "-", None)


async def test_second_sign_in_with_the_same_sub_reuses_the_account(
    client: httpx.AsyncClient, runtime: Runtime, google: GoogleProvider
) -> None:
    first = await browser_sign_in(client, google, ada())
    assert first.status_code == 200, first.text
    first_user = await me(client, first.json())

    second = await browser_sign_in(client, google, ada())
    assert second.status_code == 200, second.text
    assert (await me(client, second.json()))["id"] == first_user["id"]

    # The Google account is the identity, not the address: a changed email still finds the same user.
    third = await sign_in_with_code(client, google, ada(email="ada@newmail.example"))
    assert third.status_code == 200, third.text
    assert (await me(client, third.json()))["id"] == first_user["id"]

    assert await user_count(runtime) == 1
    assert len(await audit_rows(runtime, "register")) == 1
    logins = await audit_rows(runtime, "login")
    assert [(row.user_id, row.details) for row in logins] == [(first_user["id"], {"method": "google"})] * 3


async def test_existing_password_account_is_linked_and_its_password_cleared(
    client: httpx.AsyncClient, api: Api, runtime: Runtime, google: GoogleProvider
) -> None:
    """Sign-up never proves who owns an address: whoever registered `ada.lovelace@example.com` with a
    password may not be Ada. Her first Google sign-in links the account to her Google identity, clears
    that password and ends every session opened with it."""
    squatter = await api.register(email="ada.lovelace@example.com")

    response = await browser_sign_in(client, google, ada())
    assert response.status_code == 200, response.text
    user = await me(client, response.json())
    assert user["id"] == squatter.id
    # Linking does not rewrite the profile the account already has.
    assert (user["first_name"], user["last_name"]) == ("Test", "User")

    stored = await user_by_id(runtime, squatter.id)
    assert stored.google_sub == "110169484474386276334"
    assert stored.password_hash is None
    assert await user_count(runtime) == 1
    assert [row.details for row in await audit_rows(runtime, "register")] == [{"method": "password"}]
    [linked] = await audit_rows(runtime, "google_linked")
    assert linked.user_id == squatter.id
    assert linked.details == {"password_cleared": True, "sessions_revoked": 1}
    [login] = await audit_rows(runtime, "login")
    assert login.user_id == squatter.id and login.details == {"method": "google"}

    # The password, the access token and the refresh token from before all stop working.
    wrong_way = await api.login(squatter.email, PASSWORD)
    assert wrong_way.status_code == 401 and error_code(wrong_way) == "invalid_credentials"
    old_me = await client.get("/api/auth/me", headers=squatter.headers)
    assert old_me.status_code == 401 and error_code(old_me) == "token_revoked"
    old_refresh = await client.post("/api/auth/refresh", json={"refresh_token": squatter.refresh_token})
    assert old_refresh.status_code == 401
    # Google keeps leading to the same account, and the new session is unaffected.
    again = await sign_in_with_code(client, google, ada())
    assert again.status_code == 200, again.text
    assert (await me(client, again.json()))["id"] == squatter.id
    assert (await me(client, response.json()))["id"] == squatter.id
    assert len(await audit_rows(runtime, "google_linked")) == 1


# -- binding the state to the browser -----------------------------------------------------------------


async def test_a_callback_without_the_browsers_state_cookie_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, google: GoogleProvider
) -> None:
    """Login CSRF: an attacker starts a sign-in with their own Google account and has the victim's
    browser post the resulting code and state. The victim's browser does not hold the nonce the state
    was issued with, so the callback is refused before Google is asked anything."""
    attacker = await start_url(client)
    code = google.add_code(ada(sub="attacker-sub", email="attacker@example.com"))
    victim = await start_url(client)  # the victim's browser may hold a cookie of its own, or none
    for nonce in (None, victim.nonce, "made-up-nonce"):
        response = await callback(client, code, attacker.state, nonce)
        assert response.status_code == 401, response.text
        assert error_code(response) == "state_mismatch"
    assert google.received(TOKEN_PATH) == []
    assert await user_count(runtime) == 0


async def test_a_state_is_used_once(
    client: httpx.AsyncClient, runtime: Runtime, google: GoogleProvider
) -> None:
    started = await start_url(client)
    first = await callback(client, google.add_code(ada()), started.state, started.nonce)
    assert first.status_code == 200, first.text
    # The state cookie is cleared by the callback that used it.
    cleared = set_cookie(first, STATE_COOKIE)
    assert cleared is not None and cleared.value == "" and cleared.max_age == 0
    # Replaying the same state and cookie with a fresh code is refused.
    replay = await callback(client, google.add_code(ada()), started.state, started.nonce)
    assert replay.status_code == 401
    assert error_code(replay) == "state_used"
    assert len(await audit_rows(runtime, "login")) == 1


async def test_the_state_cookie_is_httponly_strict_and_scoped(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/auth/google/url")
    cookie = set_cookie(response, STATE_COOKIE)
    assert cookie is not None
    assert cookie.http_only and cookie.secure and cookie.same_site == "strict"
    assert cookie.path == "/api/auth/google"
    assert 0 < cookie.max_age <= 600


# -- refusals -----------------------------------------------------------------------------------------


async def test_unverified_email_is_refused(
    client: httpx.AsyncClient, api: Api, google: GoogleProvider
) -> None:
    # An unverified address must never create an account, nor take over one that has it.
    account = await api.register(email="ada.lovelace@example.com")
    response = await browser_sign_in(client, google, ada(email_verified=False))
    assert response.status_code == 401
    assert error_code(response) == "google_email_unverified"
    assert (await user_by_id(api.runtime, account.id)).google_sub is None
    assert await user_count(api.runtime) == 1
    assert await audit_rows(api.runtime, "login") == []


async def test_unknown_or_reused_code_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, google: GoogleProvider
) -> None:
    started = await start_url(client)
    unknown = await callback(client, "4/never-issued", started.state, started.nonce)
    assert unknown.status_code == 401
    assert error_code(unknown) == "google_auth_failed"

    code = google.add_code(ada())
    assert (await sign_in_with(client, code)).status_code == 200
    reused = await sign_in_with(client, code)
    assert reused.status_code == 401
    assert error_code(reused) == "google_auth_failed"
    assert len(await audit_rows(runtime, "login")) == 1


@pytest.mark.parametrize("settings_overrides", ["wrong_client_secret"], indirect=True)
async def test_wrong_client_secret_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, google: GoogleProvider
) -> None:
    response = await sign_in_with_code(client, google, ada())
    assert response.status_code == 401
    assert error_code(response) == "google_auth_failed"
    assert await user_count(runtime) == 0


def _tampered(state: str) -> str:
    header, payload, signature = state.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["exp"] += 3600
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize("kind", ["tampered", "foreign_key", "expired", "access_token", "garbage"])
async def test_bad_state_is_refused_before_asking_google(
    kind: str, client: httpx.AsyncClient, api: Api, google: GoogleProvider
) -> None:
    runtime = api.runtime
    started = await start_url(client)
    if kind == "tampered":
        state = _tampered(started.state)
    elif kind == "foreign_key":
        state = jwt.encode({"nonce": "x", "typ": "state", "exp": 4102444800}, "another-secret-" * 3, "HS256")
    elif kind == "expired":
        state = runtime.tokens.sign_state({"nonce": "x"}, -60)
    elif kind == "access_token":
        state = (await api.register()).access_token  # signed with our key, but not a state
    else:
        state = "not-a-state"
    code = google.add_code(ada())

    response = await callback(client, code, state, started.nonce)
    assert response.status_code == 401
    assert error_code(response) == "invalid_state"
    assert google.received(TOKEN_PATH) == []
    assert await audit_rows(runtime, "login") == []


async def test_deactivated_google_user_cannot_sign_in(
    client: httpx.AsyncClient, api: Api, google: GoogleProvider
) -> None:
    first = await browser_sign_in(client, google, ada())
    assert first.status_code == 200, first.text
    user_id = (await me(client, first.json()))["id"]
    await api.set_user(user_id, is_active=False)

    response = await browser_sign_in(client, google, ada())
    assert response.status_code == 401
    assert error_code(response) == "account_deactivated"
    # Nor do the tokens from before.
    assert (await client.get("/api/auth/me", headers=bearer(first.json()["access_token"]))).status_code == 401
    assert len(await audit_rows(api.runtime, "login")) == 1


async def test_deactivated_password_account_is_neither_signed_in_nor_linked(
    client: httpx.AsyncClient, api: Api, google: GoogleProvider
) -> None:
    account = await api.account(active=False)
    response = await sign_in_with_code(client, google, ada(email=account.email))
    assert response.status_code == 401
    assert error_code(response) == "account_deactivated"
    assert (await user_by_id(api.runtime, account.id)).google_sub is None
    assert await user_count(api.runtime) == 1
    assert await audit_rows(api.runtime, "login") == []


# -- configuration and availability -------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings_overrides", ["not_configured", "no_client_secret", "no_redirect_uri"], indirect=True
)
async def test_not_configured_is_a_clear_503(client: httpx.AsyncClient, google: GoogleProvider) -> None:
    url = await client.get("/api/auth/google/url")
    assert url.status_code == 503
    assert error_code(url) == "google_not_configured"
    assert url.json()["error"]["message"]

    response = await callback(client, google.add_code(ada()), "whatever", "nonce")
    assert response.status_code == 503
    assert error_code(response) == "google_not_configured"
    assert google.requests == []


@pytest.mark.parametrize("settings_overrides", ["token_unreachable", "userinfo_unreachable"], indirect=True)
async def test_unreachable_provider_is_a_503(
    client: httpx.AsyncClient, runtime: Runtime, google: GoogleProvider
) -> None:
    response = await sign_in_with_code(client, google, ada())
    assert response.status_code == 503
    assert error_code(response) == "google_unavailable"
    assert await user_count(runtime) == 0


@pytest.mark.parametrize("status", [500, 503])
async def test_provider_server_error_is_a_503(
    status: int, client: httpx.AsyncClient, runtime: Runtime, google: GoogleProvider
) -> None:
    google.fail_status = status
    response = await sign_in_with_code(client, google, ada())
    assert response.status_code == 503
    assert error_code(response) == "google_unavailable"
    assert await user_count(runtime) == 0


# -- validation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [({"state": "s"}, "code"), ({"code": "c"}, "state"), ({"code": "", "state": "s"}, "code")],
)
async def test_callback_validation_names_the_field(
    body: dict[str, Any], field: str, client: httpx.AsyncClient, google: GoogleProvider
) -> None:
    response = await client.post("/api/auth/google/callback", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [detail["field"] for detail in error["details"]] == [field]
    assert google.requests == []


async def test_an_email_linked_to_another_google_account_is_not_taken_over(
    client: httpx.AsyncClient, runtime: Runtime, google: GoogleProvider
) -> None:
    first = await browser_sign_in(client, google, ada())
    assert first.status_code == 200, first.text
    owner = await me(client, first.json())
    # Another Google account now presents the same (verified) address.
    intruder = await sign_in_with_code(client, google, ada(sub="999999999999999999999"))
    assert intruder.status_code == 409, intruder.text
    assert intruder.json()["error"]["code"] == "google_account_mismatch"
    assert (await user_by_id(runtime, owner["id"])).google_sub == "110169484474386276334"
    assert await user_count(runtime) == 1
