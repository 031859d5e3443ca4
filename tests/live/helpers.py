"""Set-up for the hub tests: courses through the public API, accounts in every role, odd tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from app.security.tokens import TokenCodec
from tests import builders
from tests.builders import enroll as enroll
from tests.conftest import make_settings
from tests.helpers import Account, Api


async def create_course(
    client: httpx.AsyncClient, owner: Account, *, published: bool = True, leaderboard_public: bool = True
) -> int:
    hidden = {} if leaderboard_public else {"is_leaderboard_public": False}
    course_id, _ = await builders.published_course(
        client, owner, lessons=1, title="Live course", published=published, **hidden
    )
    return course_id


@dataclass
class Cast:
    """One course and a principal in every relation to it."""

    course_id: int
    owner: Account
    enrolled: Account
    blocked_enrolled: Account
    other_learner: Account
    other_instructor: Account
    admin: Account

    def get(self, name: str) -> Account:
        account: Account = getattr(self, name)
        return account


async def cast_for_course(
    api: Api, client: httpx.AsyncClient, *, published: bool = True, leaderboard_public: bool = True
) -> Cast:
    owner = await api.account("instructor")
    course_id = await create_course(client, owner, published=True, leaderboard_public=leaderboard_public)
    enrolled = await api.account("learner")
    blocked = await api.account("learner")
    await enroll(client, enrolled, course_id)
    await enroll(client, blocked, course_id)
    await api.set_user(blocked.id, is_blocked=True)
    if not published:
        response = await client.put(
            f"/api/courses/{course_id}", headers=owner.headers, json={"is_published": False}
        )
        assert response.status_code == 200, response.text
    return Cast(
        course_id=course_id,
        owner=owner,
        enrolled=enrolled,
        blocked_enrolled=blocked,
        other_learner=await api.account("learner"),
        other_instructor=await api.account("instructor"),
        admin=await api.account("admin"),
    )


def token_for(
    account_id: int, role: str = "learner", *, ttl_seconds: int = 900, expired: bool = False
) -> str:
    """An access token signed with the test secret, e.g. one that expires in two seconds."""
    codec = TokenCodec(make_settings().jwt_secret, access_ttl_seconds=ttl_seconds)
    now = datetime.now(UTC) - timedelta(hours=1) if expired else None
    return codec.issue_access(user_id=account_id, role=role, session_id=uuid.uuid4().hex, now=now)
