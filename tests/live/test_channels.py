"""Who may subscribe to which channel (docs/PRODUCT.md, "Channels"), for allowed and denied principals. A
refused subscribe is an error reply with code `forbidden`; the connection stays open."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.helpers import Api
from tests.live.conftest import Instance, WsClient
from tests.live.helpers import Cast, cast_for_course

Connect = Callable[..., Awaitable[WsClient]]
PRINCIPALS = ("enrolled", "blocked_enrolled", "other_learner", "owner", "other_instructor", "admin")


async def subscribe(ws: WsClient, channel: str) -> dict[str, Any]:
    answer = await ws.request(op="subscribe", channel=channel)
    if answer["ok"]:
        assert answer["channel"] == channel
        assert isinstance(answer["offset"], int) and isinstance(answer["epoch"], str)
    else:
        assert answer["error"]["code"] == "forbidden", answer
    # Allowed or not, the connection stays usable.
    assert (await ws.request(op="ping"))["pong"] is True
    return answer


def matrix(kind: str, allowed: set[str]) -> list[Any]:
    return [pytest.param(kind, who, who in allowed, id=f"{kind}-{who}") for who in PRINCIPALS]


@pytest.mark.parametrize(
    ("kind", "who", "allowed"),
    matrix("discussion", {"enrolled", "blocked_enrolled", "owner", "admin"})
    + matrix("leaderboard", {"enrolled", "blocked_enrolled", "owner", "admin"})
    + matrix("activity", {"owner", "admin"}),
)
async def test_course_channels(
    instances: tuple[Instance, Instance],
    api: Api,
    client: httpx.AsyncClient,
    ws_connect: Connect,
    kind: str,
    who: str,
    allowed: bool,
) -> None:
    cast = await cast_for_course(api, client)
    ws = await ws_connect(instances[0].ws, cast.get(who).access_token)
    answer = await subscribe(ws, f"course:{cast.course_id}:{kind}")
    assert answer["ok"] is allowed


@pytest.mark.parametrize("who", PRINCIPALS)
@pytest.mark.parametrize("public", [True, False])
async def test_the_leaderboard_channel_follows_the_leaderboard_endpoint(
    instances: tuple[Instance, Instance],
    api: Api,
    client: httpx.AsyncClient,
    ws_connect: Connect,
    who: str,
    public: bool,
) -> None:
    cast = await cast_for_course(api, client, leaderboard_public=public)
    account = cast.get(who)
    rest = await client.get(f"/api/courses/{cast.course_id}/leaderboard", headers=account.headers)
    assert rest.status_code in (200, 403)
    ws = await ws_connect(instances[0].ws, account.access_token)
    answer = await subscribe(ws, f"course:{cast.course_id}:leaderboard")
    assert answer["ok"] is (rest.status_code == 200)
    expected = who in {"owner", "admin"} or (public and who in {"enrolled", "blocked_enrolled"})
    assert answer["ok"] is expected


@pytest.mark.parametrize(
    ("kind", "who", "allowed"),
    matrix("discussion", {"owner", "admin"})
    + matrix("leaderboard", {"owner", "admin"})
    + matrix("activity", {"owner", "admin"}),
)
async def test_a_draft_courses_channels_are_for_its_managers_only(
    instances: tuple[Instance, Instance],
    api: Api,
    client: httpx.AsyncClient,
    ws_connect: Connect,
    kind: str,
    who: str,
    allowed: bool,
) -> None:
    cast = await cast_for_course(api, client, published=False)
    ws = await ws_connect(instances[0].ws, cast.get(who).access_token)
    assert (await subscribe(ws, f"course:{cast.course_id}:{kind}"))["ok"] is allowed


@pytest.mark.parametrize("who", PRINCIPALS)
async def test_user_channels_are_for_that_user_only(
    instances: tuple[Instance, Instance], api: Api, client: httpx.AsyncClient, ws_connect: Connect, who: str
) -> None:
    cast = await cast_for_course(api, client)
    account = cast.get(who)
    ws = await ws_connect(instances[0].ws, account.access_token)
    assert (await subscribe(ws, f"user:{account.id}"))["ok"] is True
    for other in PRINCIPALS:
        if other != who:
            assert (await subscribe(ws, f"user:{cast.get(other).id}"))["ok"] is False


@pytest.mark.parametrize("who", PRINCIPALS)
async def test_admin_analytics_is_for_admins_only(
    instances: tuple[Instance, Instance], api: Api, client: httpx.AsyncClient, ws_connect: Connect, who: str
) -> None:
    cast = await cast_for_course(api, client)
    ws = await ws_connect(instances[0].ws, cast.get(who).access_token)
    assert (await subscribe(ws, "admin:analytics"))["ok"] is (who == "admin")


UNKNOWN = [
    "foo",
    "user:",
    "user:abc",
    "user:{self}:extra",
    "user: {self}",
    "User:{self}",
    "course:{course}",
    "course:{course}:",
    "course:{course}:secret",
    "course:{course}:discussion:x",
    "course:abc:discussion",
    "course:-{course}:discussion",
    "course:99999999:discussion",
    "course:99999999:activity",
    "admin:",
    "admin:other",
    "admin:analytics:x",
    "lf:ctl",
    "*",
]


@pytest.mark.parametrize("template", UNKNOWN)
async def test_unknown_channels_are_refused_even_to_admins(
    instances: tuple[Instance, Instance],
    api: Api,
    client: httpx.AsyncClient,
    ws_connect: Connect,
    template: str,
) -> None:
    cast: Cast = await cast_for_course(api, client)
    channel = template.format(self=cast.admin.id, course=cast.course_id)
    ws = await ws_connect(instances[0].ws, cast.admin.access_token)
    assert (await subscribe(ws, channel))["ok"] is False


async def test_presence_and_typing_need_a_subscription(
    instances: tuple[Instance, Instance], api: Api, client: httpx.AsyncClient, ws_connect: Connect
) -> None:
    cast = await cast_for_course(api, client)
    channel = f"course:{cast.course_id}:discussion"
    outsider = await ws_connect(instances[0].ws, cast.other_learner.access_token)
    assert (await outsider.request(op="presence", channel=channel))["error"]["code"] == "not_subscribed"
    assert (await outsider.request(op="typing", channel=channel))["error"]["code"] == "forbidden"
    blocked = await ws_connect(instances[0].ws, cast.blocked_enrolled.access_token)
    assert (await blocked.request(op="subscribe", channel=channel))["ok"] is True
    assert (await blocked.request(op="typing", channel=channel))["error"]["code"] == "forbidden"
    member = await ws_connect(instances[1].ws, cast.enrolled.access_token)
    assert (await member.request(op="subscribe", channel=channel))["ok"] is True
    assert (await member.request(op="typing", channel=channel))["ok"] is True
    typing = await blocked.until(lambda m: m.get("event") == "typing")
    assert typing["channel"] == channel and typing["data"]["user"]["user_id"] == cast.enrolled.id
    leaderboard = f"course:{cast.course_id}:leaderboard"
    assert (await member.request(op="subscribe", channel=leaderboard))["ok"] is True
    assert (await member.request(op="typing", channel=leaderboard))["error"]["code"] == "forbidden"


async def test_private_posts_reach_their_audience_and_admins_on_user_channels_only(
    instances: tuple[Instance, Instance], api: Api, client: httpx.AsyncClient, ws_connect: Connect
) -> None:
    cast = await cast_for_course(api, client)
    discussion = f"course:{cast.course_id}:discussion"
    watchers = {}
    for who in ("admin", "owner", "other_learner"):
        ws = await ws_connect(instances[1].ws, cast.get(who).access_token)
        assert (await ws.request(op="subscribe", channel=f"user:{cast.get(who).id}"))["ok"] is True
        watchers[who] = ws
    course_watcher = await ws_connect(instances[1].ws, cast.enrolled.access_token)
    assert (await course_watcher.request(op="subscribe", channel=discussion))["ok"] is True

    async with httpx.AsyncClient(base_url=instances[0].http) as http:
        private = await http.post(
            f"/api/courses/{cast.course_id}/discussions",
            json={"content": "private question", "is_private": True},
            headers=cast.enrolled.headers,
        )
        assert private.status_code == 201, private.text
        public = await http.post(
            f"/api/courses/{cast.course_id}/discussions",
            json={"content": "public note"},
            headers=cast.enrolled.headers,
        )
        assert public.status_code == 201, public.text

    for who in ("admin", "owner"):
        frame = await watchers[who].until(lambda f: f.get("event") == "comment.created")
        assert frame["channel"] == f"user:{cast.get(who).id}"
        assert frame["data"]["id"] == private.json()["id"]
    # The course channel carries the public post only; an outsider's user channel carries nothing.
    first = await course_watcher.until(lambda f: f.get("event") == "comment.created")
    assert first["data"]["id"] == public.json()["id"]
    with pytest.raises(TimeoutError):
        await watchers["other_learner"].until(lambda f: f.get("event") == "comment.created", timeout=1.0)
