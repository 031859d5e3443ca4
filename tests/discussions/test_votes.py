"""Votes: toggle and switch arithmetic, counters kept atomically under concurrency, who sees what."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import func, select

from app.stores.models import Vote
from tests.discussions.helpers import (
    comment_row,
    course_with_learner,
    enrolled_learner,
    error_code,
    fields_named,
    listing,
    post,
    vote,
)
from tests.helpers import Api


async def test_toggle_and_switch(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    voter = await enrolled_learner(api, course.id)
    target = await post(client, course.learner, course.id, "vote on me")
    tid = target["id"]

    steps: list[tuple[int, dict[str, Any], tuple[int, int]]] = [
        (1, {"upvotes": 1, "user_vote": 1}, (1, 0)),  # up
        (1, {"upvotes": 0, "user_vote": 0}, (0, 0)),  # up again removes it
        (-1, {"upvotes": 0, "user_vote": -1}, (0, 1)),  # down
        (1, {"upvotes": 1, "user_vote": 1}, (1, 0)),  # opposite switches it
        (-1, {"upvotes": 0, "user_vote": -1}, (0, 1)),  # and back
        (-1, {"upvotes": 0, "user_vote": 0}, (0, 0)),  # down again removes it
    ]
    messages = ["Vote registered", "Vote removed", "Vote registered", "Vote updated", "Vote updated"]
    for (vote_type, expected, (up, down)), message in zip(steps, [*messages, "Vote removed"], strict=True):
        response = await vote(client, voter, tid, vote_type)
        assert response.status_code == 200, response.text
        assert response.json() == {"message": message, "comment_id": tid, "downvotes": None, **expected}
        row = await comment_row(api.runtime, tid)
        assert row is not None and (row.upvotes, row.downvotes) == (up, down)


async def test_user_vote_and_downvotes_in_lists(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    up_voter = await enrolled_learner(api, course.id)
    down_voter = await enrolled_learner(api, course.id)
    target = await post(client, course.learner, course.id, "opinions")
    before = await listing(client, course.learner, course.id)
    assert (await vote(client, up_voter, target["id"], 1)).json()["upvotes"] == 1
    assert (await vote(client, down_voter, target["id"], -1)).json()["downvotes"] is None

    assert (await listing(client, up_voter, course.id))[0]["user_vote"] == 1
    down_view = (await listing(client, down_voter, course.id))[0]
    assert down_view["user_vote"] == -1 and down_view["upvotes"] == 1 and down_view["downvotes"] is None
    owner_view = (await listing(client, course.owner, course.id))[0]
    assert (owner_view["upvotes"], owner_view["downvotes"], owner_view["user_vote"]) == (1, 1, 0)
    owner_vote = await vote(client, course.owner, target["id"], -1)
    assert owner_vote.json() == {
        "message": "Vote registered",
        "comment_id": target["id"],
        "upvotes": 1,
        "downvotes": 2,
        "user_vote": -1,
    }
    # A vote is not an edit.
    assert (await listing(client, course.learner, course.id))[0]["updated_at"] == before[0]["updated_at"]


async def test_no_voting_on_your_own_post(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    target = await post(client, course.learner, course.id, "mine")
    response = await vote(client, course.learner, target["id"], 1)
    assert response.status_code == 403 and error_code(response) == "cannot_vote_own"


async def test_blocked_users_cannot_vote(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    blocked = await enrolled_learner(api, course.id, blocked=True)
    target = await post(client, course.learner, course.id, "x")
    response = await vote(client, blocked, target["id"], 1)
    assert response.status_code == 403 and error_code(response) == "user_blocked"
    row = await comment_row(api.runtime, target["id"])
    assert row is not None and row.upvotes == 0


async def test_invalid_votes(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    voter = await enrolled_learner(api, course.id)
    target = await post(client, course.learner, course.id, "x")
    url = f"/api/discussions/{target['id']}/vote"
    for body in (
        {},
        {"vote_type": 0},
        {"vote_type": 2},
        {"vote_type": "1"},
        {"vote_type": True},
        {"vote_type": None},
    ):
        assert fields_named(await client.post(url, json=body, headers=voter.headers)) == {"vote_type"}, body
    missing = await vote(client, voter, 999999, 1)
    assert missing.status_code == 404 and error_code(missing) == "comment_not_found"


async def test_concurrent_votes_keep_counters_exact(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    voters = [await enrolled_learner(api, course.id) for _ in range(8)]
    target = await post(client, course.learner, course.id, "popular")
    tid = target["id"]

    # Everyone votes at once, some of them twice at once (a double click): each vote row and the counters
    # must agree at the end, whatever the interleaving.
    clicks = [vote(client, v, tid, 1 if n % 2 == 0 else -1) for n, v in enumerate(voters)]
    clicks += [vote(client, voters[0], tid, 1), vote(client, voters[1], tid, -1)]
    responses = await asyncio.gather(*clicks)
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]

    async with api.runtime.db.read() as tx:
        ups = (
            await tx.execute(select(func.count()).where(Vote.comment_id == tid, Vote.vote_type == 1))
        ).scalar()
        downs = (
            await tx.execute(select(func.count()).where(Vote.comment_id == tid, Vote.vote_type == -1))
        ).scalar()
    row = await comment_row(api.runtime, tid)
    assert row is not None and (row.upvotes, row.downvotes) == (ups, downs)
    # voters 0 and 1 clicked twice: their votes cancelled out, the other six stand.
    assert (ups, downs) == (3, 3)


async def test_votes_are_removed_with_the_post(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    voter = await enrolled_learner(api, course.id)
    target = await post(client, course.learner, course.id, "x")
    await vote(client, voter, target["id"], 1)
    assert (
        await client.delete(f"/api/discussions/{target['id']}", headers=course.owner.headers)
    ).status_code == 200
    async with api.runtime.db.read() as tx:
        assert (await tx.execute(select(func.count()).select_from(Vote))).scalar() == 0
