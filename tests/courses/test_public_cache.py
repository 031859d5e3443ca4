"""The public catalogue and course pages are cached per process and emptied by every change, on the
instance that made it and on the others (two real `learnflow serve` processes on the same stores)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.runtime import Runtime
from harness.cluster import Cluster
from tests.conftest import make_settings
from tests.courses.helpers import add_lesson, make_course, quick_account, set_course

MONGO_DATABASE = "learnflow_public_cache"


@pytest.fixture(scope="module")
def two_apis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    cluster = Cluster(
        Path(tmp_path_factory.mktemp("public-cache")),
        apis=2,
        workers=0,
        env={"RATE_LIMIT_ENABLED": "false"},
        mongo_database=MONGO_DATABASE,
    )
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
async def stores(two_apis: Cluster) -> AsyncIterator[Runtime]:
    runtime = Runtime.open(
        make_settings(jwt_secret=two_apis.jwt_secret, mongo_database=MONGO_DATABASE), two_apis.urls
    )
    try:
        yield runtime
    finally:
        await runtime.close()


@pytest.fixture
async def ab(two_apis: Cluster) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    a = httpx.AsyncClient(base_url=two_apis.apis[0].http, timeout=30)
    b = httpx.AsyncClient(base_url=two_apis.apis[1].http, timeout=30)
    try:
        yield a, b
    finally:
        await a.aclose()
        await b.aclose()


async def listed(client: httpx.AsyncClient, course_id: int, **headers: str) -> dict[str, Any]:
    response = await client.get("/api/courses?limit=100", headers=headers)
    assert response.status_code == 200, response.text
    return {item["id"]: item for item in response.json()}[course_id]


async def page(client: httpx.AsyncClient, course_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/courses/{course_id}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_a_change_on_one_instance_shows_in_the_next_response_of_both(
    stores: Runtime, ab: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    a, b = ab
    teacher = await quick_account(stores, "instructor")
    learner = await quick_account(stores)
    course_id = (await make_course(a, teacher))["id"]
    for client in (a, b):  # both instances cache the pages as they are now
        assert (await listed(client, course_id))["lessonsCount"] == 0
        assert (await page(client, course_id))["lessons"] == []

    await set_course(a, teacher, course_id, title="Renamed")
    for client in (a, b):
        assert (await listed(client, course_id))["title"] == "Renamed"
        assert (await page(client, course_id))["title"] == "Renamed"

    lesson = await add_lesson(a, teacher, course_id, "First")
    for client in (a, b):
        assert (await listed(client, course_id))["lessonsCount"] == 1
        assert [item["id"] for item in (await page(client, course_id))["lessons"]] == [lesson["id"]]

    renamed = await a.put(
        f"/api/courses/{course_id}/lessons/{lesson['id']}", headers=teacher.headers, json={"title": "Intro"}
    )
    assert renamed.status_code == 200, renamed.text
    for client in (a, b):
        assert [item["title"] for item in (await page(client, course_id))["lessons"]] == ["Intro"]

    enrolled = await a.post(f"/api/courses/{course_id}/enroll", headers=learner.headers)
    assert enrolled.status_code == 201, enrolled.text
    for client in (a, b):
        assert (await listed(client, course_id))["enrollment_count"] == 1
        assert (await page(client, course_id))["enrolledStudents"] == 1

    rated = await a.put(f"/api/courses/{course_id}/rating", headers=learner.headers, json={"stars": 4})
    assert rated.status_code == 200, rated.text
    for client in (a, b):
        shown = await listed(client, course_id)
        assert (shown["rating_count"], shown["average_rating"]) == (1, 4.0)
        assert (await page(client, course_id))["rating"] == 4.0

    deleted = await a.delete(f"/api/courses/{course_id}/lessons/{lesson['id']}", headers=teacher.headers)
    assert deleted.status_code == 200, deleted.text
    left = await a.delete(f"/api/courses/{course_id}/unenroll", headers=learner.headers)
    assert left.status_code == 200, left.text
    for client in (a, b):
        shown = await listed(client, course_id)
        assert (shown["lessonsCount"], shown["enrollment_count"]) == (0, 0)

    await set_course(a, teacher, course_id, is_published=False)
    for client in (a, b):
        assert (await client.get(f"/api/courses/{course_id}")).status_code == 404
        ids = [item["id"] for item in (await client.get("/api/courses?limit=100")).json()]
        assert course_id not in ids


async def test_etag_answers_304_while_current_and_200_once_stale(
    stores: Runtime, ab: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    a, b = ab
    teacher = await quick_account(stores, "instructor")
    course_id = (await make_course(a, teacher))["id"]
    for path in ("/api/courses", f"/api/courses/{course_id}"):
        first = await b.get(path)
        assert first.status_code == 200
        etag = first.headers["etag"]
        assert first.headers["cache-control"] == "public, max-age=5"
        again = await b.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag
        assert (await a.get(path, headers={"If-None-Match": etag})).status_code == 304  # same bytes on A

        await set_course(a, teacher, course_id, description=f"Changed for {path}")
        stale = await b.get(path, headers={"If-None-Match": etag})
        assert stale.status_code == 200
        assert stale.headers["etag"] != etag
        assert "Changed for" in stale.text


async def test_learners_get_their_own_is_enrolled_and_enrolled_learners_the_full_page(
    stores: Runtime, ab: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    a, b = ab
    teacher = await quick_account(stores, "instructor")
    learner = await quick_account(stores)
    other = await quick_account(stores)
    course_id = (await make_course(a, teacher))["id"]
    await add_lesson(a, teacher, course_id, "Secret", content="<p>only for the enrolled</p>")
    assert (await a.post(f"/api/courses/{course_id}/enroll", headers=learner.headers)).status_code == 201
    assert (await listed(b, course_id, **learner.headers))["is_enrolled"] is True
    assert (await listed(b, course_id, **other.headers))["is_enrolled"] is False
    assert (await listed(b, course_id))["is_enrolled"] is False
    mine = (await b.get(f"/api/courses/{course_id}", headers=learner.headers)).json()
    assert mine["is_enrolled"] is True and mine["lessons"][0]["content"] == "<p>only for the enrolled</p>"
    theirs = await b.get(f"/api/courses/{course_id}", headers=other.headers)
    anonymous = await b.get(f"/api/courses/{course_id}")
    assert theirs.content == anonymous.content
    assert theirs.json()["lessons"][0]["content"] is None
    assert "etag" not in theirs.headers  # per-user answers are not the public page


async def test_the_enrolled_learners_page_is_shared_by_them_only_and_follows_every_change(
    stores: Runtime, ab: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    a, b = ab
    teacher = await quick_account(stores, "instructor")
    first, second, outsider = [await quick_account(stores) for _ in range(3)]
    course_id = (await make_course(a, teacher))["id"]
    lesson = await add_lesson(a, teacher, course_id, "Secret", content="<p>v1</p>")
    for learner in (first, second):
        assert (await a.post(f"/api/courses/{course_id}/enroll", headers=learner.headers)).status_code == 201

    async def contents(client: httpx.AsyncClient, learner: Any) -> list[str | None]:
        response = await client.get(f"/api/courses/{course_id}", headers=learner.headers)
        assert response.status_code == 200, response.text
        assert "etag" not in response.headers and "cache-control" not in response.headers
        return [item["content"] for item in response.json()["lessons"]]

    for client in (a, b):  # cached on both instances by the first enrolled learner's request
        assert await contents(client, first) == ["<p>v1</p>"]
        assert await contents(client, second) == ["<p>v1</p>"]
        assert await contents(client, outsider) == [None]  # never the enrolled learners' page

    edited = await b.put(
        f"/api/courses/{course_id}/lessons/{lesson['id']}",
        headers=teacher.headers,
        json={"content": "<p>v2</p>"},
    )
    assert edited.status_code == 200, edited.text
    for client in (a, b):
        assert await contents(client, second) == ["<p>v2</p>"]

    left = await a.delete(f"/api/courses/{course_id}/unenroll", headers=second.headers)
    assert left.status_code == 200, left.text
    for client in (a, b):
        assert await contents(client, second) == [None]
        assert await contents(client, first) == ["<p>v2</p>"]

    await set_course(a, teacher, course_id, is_published=False)
    for client in (a, b):
        assert (await client.get(f"/api/courses/{course_id}", headers=first.headers)).status_code == 404


async def test_lesson_totals_of_a_learners_enrollments_and_progress_follow_every_lesson_change(
    stores: Runtime, ab: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    a, b = ab
    teacher = await quick_account(stores, "instructor")
    learner = await quick_account(stores)
    course_id = (await make_course(a, teacher))["id"]
    first = await add_lesson(a, teacher, course_id, "One")
    assert (await a.post(f"/api/courses/{course_id}/enroll", headers=learner.headers)).status_code == 201

    async def totals(client: httpx.AsyncClient) -> tuple[int, int]:
        enrollments = await client.get("/api/learner/enrollments", headers=learner.headers)
        progress = await client.get("/api/my-progress", headers=learner.headers)
        assert enrollments.status_code == 200 and progress.status_code == 200
        (enrolled,) = [item for item in enrollments.json() if item["course_id"] == course_id]
        (mine,) = [item for item in progress.json() if item["course_id"] == course_id]
        return enrolled["total_lessons"], mine["total_lessons"]

    for client in (a, b):  # each instance now keeps the course's lesson ids
        assert await totals(client) == (1, 1)
    await add_lesson(b, teacher, course_id, "Two")
    for client in (a, b):
        assert await totals(client) == (2, 2)
    deleted = await a.delete(f"/api/courses/{course_id}/lessons/{first['id']}", headers=teacher.headers)
    assert deleted.status_code == 200, deleted.text
    for client in (a, b):
        assert await totals(client) == (1, 1)


async def test_one_enrolled_page_per_course_is_cached_and_only_for_an_enrolled_learner(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    teacher = await quick_account(runtime, "instructor")
    admin = await quick_account(runtime, "admin")
    learner = await quick_account(runtime)
    course_id = (await make_course(client, teacher))["id"]
    await add_lesson(client, teacher, course_id, "Secret", content="<p>for the enrolled</p>")
    key = ("enrolled-course", course_id)
    for who in (learner, teacher, admin):  # not enrolled, or not a learner: never this page
        assert (await client.get(f"/api/courses/{course_id}", headers=who.headers)).status_code == 200
    assert key not in runtime.public_cache._pages
    assert (await client.post(f"/api/courses/{course_id}/enroll", headers=learner.headers)).status_code == 201
    mine = await client.get(f"/api/courses/{course_id}", headers=learner.headers)
    assert mine.status_code == 200
    cached = runtime.public_cache._pages[key]
    assert cached.body == mine.content
    assert b'"is_enrolled":true' in cached.body and b"<p>for the enrolled</p>" in cached.body


async def test_drafts_never_enter_the_public_cache(client: httpx.AsyncClient, runtime: Runtime) -> None:
    teacher = await quick_account(runtime, "instructor")
    admin = await quick_account(runtime, "admin")
    learner = await quick_account(runtime)
    draft = await make_course(client, teacher, published=False, title="Draft")
    await make_course(client, teacher, title="Published")
    for who in (teacher, admin):
        assert any(
            item["id"] == draft["id"]
            for item in (await client.get("/api/courses", headers=who.headers)).json()
        )
        assert (await client.get(f"/api/courses/{draft['id']}", headers=who.headers)).status_code == 200
    for headers in ({}, learner.headers):
        assert (await client.get(f"/api/courses/{draft['id']}", headers=headers)).status_code == 404
        assert [item["title"] for item in (await client.get("/api/courses", headers=headers)).json()] == [
            "Published"
        ]
    cached = list(runtime.public_cache._pages.values())
    assert cached, "the public pages were cached"
    assert all(b'"is_published":false' not in item.body and b"Draft" not in item.body for item in cached)


async def test_the_bench_floor_route_exists_only_when_enabled(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/bench/floor")).status_code == 404
