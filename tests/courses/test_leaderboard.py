"""Course leaderboards (docs/PRODUCT.md; the old API counted people who were not enrolled)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.leaderboards import service
from app.leaderboards.ranking import Standing, rank
from app.progress.store import empty_progress
from app.stores.mongo import PROGRESS
from tests.courses.helpers import (
    add_lesson,
    enroll,
    error_code,
    make_course,
    mark,
    quick_account,
    set_course,
    set_seconds,
)
from tests.helpers import Account, Api

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def standing(user_id: int, pct: float, seconds: int, done: int | None = None) -> Standing:
    return Standing(
        user_id=user_id,
        name=f"U{user_id}",
        avatar=None,
        completed_lessons=0,
        total_lessons=4,
        progress_percentage=pct,
        total_seconds_spent=seconds,
        completed_at=None if done is None else T0 + timedelta(minutes=done),  # minutes after T0
    )


# (standings, expected [(user_id, rank)] in order)
RANKINGS: list[tuple[list[Standing], list[tuple[int, int]]]] = [
    ([], []),
    ([standing(1, 0, 0)], [(1, 1)]),
    # progress first, whatever the time
    ([standing(1, 50, 10), standing(2, 75, 9999)], [(2, 1), (1, 2)]),
    # same progress: less time ranks higher
    ([standing(1, 50, 300), standing(2, 50, 100)], [(2, 1), (1, 2)]),
    # same progress and time: a shared rank, and the next rank skips ("1, 1, 3")
    ([standing(3, 50, 100), standing(1, 50, 100), standing(2, 25, 0)], [(1, 1), (3, 1), (2, 3)]),
    ([standing(1, 10, 5), standing(2, 50, 1), standing(3, 50, 1), standing(4, 50, 1)],
     [(2, 1), (3, 1), (4, 1), (1, 4)]),
    # both complete with the same time: the earlier completion ranks higher
    ([standing(1, 100, 60, done=5), standing(2, 100, 60, done=1)], [(2, 1), (1, 2)]),
    # less time still beats an earlier completion
    ([standing(1, 100, 60, done=1), standing(2, 100, 30, done=9)], [(2, 1), (1, 2)]),
    # fractional percentages compare exactly
    ([standing(1, 33.33, 0), standing(2, 33.34, 100)], [(2, 1), (1, 2)]),
]  # fmt: skip


@pytest.mark.parametrize(("standings", "expected"), RANKINGS)
def test_ranking(standings: list[Standing], expected: list[tuple[int, int]]) -> None:
    assert [(item.standing.user_id, item.rank) for item in rank(standings)] == expected


async def board(
    client: httpx.AsyncClient, who: Account, course_id: int, **params: int
) -> list[dict[str, object]]:
    response = await client.get(f"/api/courses/{course_id}/leaderboard", headers=who.headers, params=params)
    assert response.status_code == 200, response.text
    entries: list[dict[str, object]] = response.json()
    return entries


async def test_ranking_through_the_api(client: httpx.AsyncClient, api: Api) -> None:
    teacher = await quick_account(api.runtime, "instructor")
    course = await make_course(client, teacher)
    c = course["id"]
    lessons = [(await add_lesson(client, teacher, c, f"L{n}"))["id"] for n in range(4)]
    names = "ABCDEFG"
    people = {
        name: await quick_account(api.runtime, "learner", first_name=name, last_name="Learner")
        for name in names
    }
    for account in people.values():
        await enroll(client, account, c)
    # A, B, C finish (A before B); D, E, F do half; G nothing.
    for name in "ABC":
        for lesson_id in lessons:
            await mark(client, people[name], c, lesson_id)
    for name in "DEF":
        for lesson_id in lessons[:2]:
            await mark(client, people[name], c, lesson_id)
    seconds = {"A": 500, "B": 500, "C": 300, "D": 100, "E": 100, "F": 50, "G": 0}
    for name, value in seconds.items():
        await set_seconds(api.runtime, people[name].id, c, value)

    entries = await board(client, people["G"], c)
    by_id = {account.id: name for name, account in people.items()}
    ranked = [(by_id[int(str(entry["user_id"]))], entry["rank"]) for entry in entries]
    d_e = sorted(["D", "E"], key=lambda name: people[name].id)
    assert ranked == [("C", 1), ("A", 2), ("B", 3), ("F", 4), (d_e[0], 5), (d_e[1], 5), ("G", 7)]
    first = entries[0]
    assert first == {
        "rank": 1,
        "user_id": people["C"].id,
        "name": "C Learner",
        "avatar": None,
        "completed_lessons": 4,
        "total_lessons": 4,
        "progress_percentage": 100.0,
        "total_seconds_spent": 300,
    }
    assert entries[3]["completed_lessons"] == 2 and entries[3]["progress_percentage"] == 50.0

    # limit is honoured, ties included in the count.
    assert [entry["rank"] for entry in await board(client, teacher, c, limit=5)] == [1, 2, 3, 4, 5]
    assert len(await board(client, teacher, c, limit=1)) == 1
    assert len(await board(client, teacher, c, limit=100)) == 7


async def test_default_limit_is_ten(client: httpx.AsyncClient, api: Api) -> None:
    teacher = await quick_account(api.runtime, "instructor")
    course = await make_course(client, teacher)
    for _ in range(12):
        await enroll(client, await quick_account(api.runtime, "learner"), course["id"])
    assert len(await board(client, teacher, course["id"])) == 10
    assert len(await board(client, teacher, course["id"], limit=12)) == 12


async def test_only_enrolled_learners_appear(client: httpx.AsyncClient, api: Api) -> None:
    teacher = await quick_account(api.runtime, "instructor")
    course = await make_course(client, teacher)
    c = course["id"]
    lesson = await add_lesson(client, teacher, c, "Only")
    enrolled = await quick_account(api.runtime, "learner")
    outsider = await quick_account(api.runtime, "learner")
    leaver = await quick_account(api.runtime, "learner")
    await enroll(client, enrolled, c)
    # Someone with a perfect progress document but no enrollment (what the seed counted).
    await api.runtime.documents.replace(
        PROGRESS,
        {**empty_progress(outsider.id, c), "completed_lessons": [lesson["id"]], "total_seconds_spent": 1},
    )
    await enroll(client, leaver, c)
    await mark(client, leaver, c, lesson["id"])
    assert {entry["user_id"] for entry in await board(client, teacher, c)} == {enrolled.id, leaver.id}
    await client.delete(f"/api/courses/{c}/unenroll", headers=leaver.headers)
    entries = await board(client, teacher, c)
    assert [(entry["user_id"], entry["rank"]) for entry in entries] == [(enrolled.id, 1)]
    # Nor does the outsider appear in another course's board because of this course's document.
    other = await make_course(client, teacher, title="Other")
    assert await board(client, teacher, other["id"]) == []


async def test_private_leaderboard(client: httpx.AsyncClient, api: Api) -> None:
    teacher = await quick_account(api.runtime, "instructor")
    admin = await quick_account(api.runtime, "admin")
    learner = await quick_account(api.runtime, "learner")
    course = await make_course(client, teacher)
    c = course["id"]
    await enroll(client, learner, c)
    assert len(await board(client, learner, c)) == 1
    await set_course(client, teacher, c, is_leaderboard_public=False)
    private = await client.get(f"/api/courses/{c}/leaderboard", headers=learner.headers)
    assert error_code(private, 403) == "leaderboard_private"
    assert len(await board(client, teacher, c)) == 1
    assert len(await board(client, admin, c)) == 1
    await set_course(client, admin, c, is_leaderboard_public=True)
    assert len(await board(client, learner, c)) == 1


class TestRankingCache:
    """Ranking reads every enrollment and progress document of the course; within
    LEADERBOARD_CACHE_SECONDS the REST leaderboard reuses it, and concurrent requests share one."""

    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"leaderboard_cache_seconds": 1.0, "rate_limit_default": "10000/minute"}

    async def test_a_burst_of_requests_ranks_once_and_changes_show_after_the_cache_time(
        self, client: httpx.AsyncClient, api: Api, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        teacher = await quick_account(api.runtime, "instructor")
        c = (await make_course(client, teacher))["id"]
        learners = [await quick_account(api.runtime, "learner") for _ in range(3)]
        for learner in learners:
            await enroll(client, learner, c)
            await set_seconds(api.runtime, learner.id, c, 100)

        computed: list[int] = []
        real_standings = service.standings

        async def counting(runtime: Any, course_id: int) -> list[Standing]:
            computed.append(course_id)
            return await real_standings(runtime, course_id)

        monkeypatch.setattr(service, "standings", counting)
        boards = await asyncio.gather(*(board(client, who, c) for who in [teacher, *learners] * 10))
        assert computed == [c]
        assert all(entries == boards[0] for entries in boards)
        # Every caller is still checked on its own: someone not in the course gets no cached answer.
        outsider = await quick_account(api.runtime, "learner")
        denied = await client.get(f"/api/courses/{c}/leaderboard", headers=outsider.headers)
        assert denied.status_code == 403

        await set_seconds(api.runtime, learners[0].id, c, 10)  # now the fastest: rank 1 once seen
        assert await board(client, teacher, c) == boards[0]  # within the cache time: as it was
        assert computed == [c]
        await asyncio.sleep(1.1)
        assert (await board(client, teacher, c))[0]["user_id"] == learners[0].id
        assert computed == [c, c]
