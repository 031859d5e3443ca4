"""Bad input on the courses side: every body and query answers 422 naming the fields, unknown ids answer
404 with a code, and hostile strings in filters are just strings (an empty list, never a 500)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.courses.helpers import add_lesson, enroll, error_code, fields_named, make_course, quick_account
from tests.helpers import Account, Api


@dataclass
class Scene:
    owner: Account
    learner: Account
    course_id: int
    text_lesson: str
    video_lesson: str

    def headers(self, who: str) -> dict[str, str]:
        return (self.owner if who == "owner" else self.learner).headers


@pytest.fixture
async def scene(client: httpx.AsyncClient, api: Api) -> Scene:
    owner = await quick_account(api.runtime, "instructor")
    learner = await quick_account(api.runtime, "learner")
    course = await make_course(client, owner)
    text = await add_lesson(client, owner, course["id"], "Text")
    video = await add_lesson(
        client, owner, course["id"], "Video", type="video", content="https://v.example/a.mp4"
    )
    await enroll(client, learner, course["id"])
    return Scene(owner, learner, course["id"], text["id"], video["id"])


GOOD_COURSE = {"title": "T", "category": "C", "level": "Beginner"}
GOOD_LESSON = {"title": "T", "type": "text"}

# (who, method, path, json body or None, query or None, the fields the 422 must name)
# {c} course, {t} text lesson, {v} video lesson. Paths with {t}/{v} in the body are filled in too.
# fmt: off
CASES: list[tuple[str, str, str, Any, dict[str, Any] | None, set[str]]] = [
    # POST /api/courses
    ("owner", "POST", "/api/courses", {**GOOD_COURSE, "level": "Expert"}, None, {"level"}),
    ("owner", "POST", "/api/courses", {**GOOD_COURSE, "level": "beginner"}, None, {"level"}),
    ("owner", "POST", "/api/courses", {**GOOD_COURSE, "title": ""}, None, {"title"}),
    ("owner", "POST", "/api/courses", {**GOOD_COURSE, "title": "   "}, None, {"title"}),
    ("owner", "POST", "/api/courses", {**GOOD_COURSE, "title": "x" * 256}, None, {"title"}),
    ("owner", "POST", "/api/courses", {**GOOD_COURSE, "category": ""}, None, {"category"}),
    ("owner", "POST", "/api/courses", {**GOOD_COURSE, "thumbnail_url": "javascript:alert(1)"}, None,
     {"thumbnail_url"}),
    ("owner", "POST", "/api/courses", {**GOOD_COURSE, "banner_url": "https://a b"}, None, {"banner_url"}),
    ("owner", "POST", "/api/courses", {}, None, {"title", "category", "level"}),
    ("owner", "POST", "/api/courses", [], None, {"body"}),
    ("owner", "POST", "/api/courses", {**GOOD_COURSE, "title": 5}, None, {"title"}),
    # PUT /api/courses/{c}
    ("owner", "PUT", "/api/courses/{c}", {"level": "Expert"}, None, {"level"}),
    ("owner", "PUT", "/api/courses/{c}", {"title": ""}, None, {"title"}),
    ("owner", "PUT", "/api/courses/{c}", {"is_published": "maybe"}, None, {"is_published"}),
    ("owner", "PUT", "/api/courses/{c}", {"is_leaderboard_public": [1]}, None, {"is_leaderboard_public"}),
    # GET /api/courses
    ("learner", "GET", "/api/courses", None, {"limit": 101}, {"limit"}),
    ("learner", "GET", "/api/courses", None, {"limit": 0}, {"limit"}),
    ("learner", "GET", "/api/courses", None, {"skip": -1}, {"skip"}),
    ("learner", "GET", "/api/courses", None, {"limit": "ten"}, {"limit"}),
    ("learner", "GET", "/api/courses", None, {"level": "Expert"}, {"level"}),
    ("learner", "GET", "/api/courses", None, {"search": "x" * 201}, {"search"}),
    ("learner", "GET", "/api/courses", None, {"category": ["a", "b"]}, {"category"}),
    ("learner", "GET", "/api/courses", None, {"search": "a\x00b"}, {"search"}),
    # ratings
    ("learner", "PUT", "/api/courses/{c}/rating", {"stars": 0}, None, {"stars"}),
    ("learner", "PUT", "/api/courses/{c}/rating", {"stars": 6}, None, {"stars"}),
    ("learner", "PUT", "/api/courses/{c}/rating", {"stars": 4.5}, None, {"stars"}),
    ("learner", "PUT", "/api/courses/{c}/rating", {"stars": "five"}, None, {"stars"}),
    ("learner", "PUT", "/api/courses/{c}/rating", {}, None, {"stars"}),
    ("learner", "PUT", "/api/courses/{c}/rating", {"stars": 5, "review": "x" * 5001}, None, {"review"}),
    ("learner", "GET", "/api/courses/{c}/ratings", None, {"limit": 101}, {"limit"}),
    # leaderboard
    ("learner", "GET", "/api/courses/{c}/leaderboard", None, {"limit": 101}, {"limit"}),
    ("learner", "GET", "/api/courses/{c}/leaderboard", None, {"limit": 0}, {"limit"}),
    # POST lessons
    ("owner", "POST", "/api/courses/{c}/lessons", {**GOOD_LESSON, "type": "audio"}, None, {"type"}),
    ("owner", "POST", "/api/courses/{c}/lessons", {**GOOD_LESSON, "title": ""}, None, {"title"}),
    ("owner", "POST", "/api/courses/{c}/lessons", {**GOOD_LESSON, "duration": -1}, None, {"duration"}),
    ("owner", "POST", "/api/courses/{c}/lessons", {**GOOD_LESSON, "duration": "x" * 101}, None, {"duration"}),
    ("owner", "POST", "/api/courses/{c}/lessons", {**GOOD_LESSON, "duration": [5]}, None, {"duration"}),
    ("owner", "POST", "/api/courses/{c}/lessons", {**GOOD_LESSON, "order": -1}, None, {"order"}),
    ("owner", "POST", "/api/courses/{c}/lessons", {"type": "text"}, None, {"title"}),
    ("owner", "POST", "/api/courses/{c}/lessons",
     {"title": "V", "type": "video", "content": "javascript:alert(1)"}, None, {"content"}),
    ("owner", "POST", "/api/courses/{c}/lessons",
     {"title": "V", "type": "video", "content": "https://x.example/<script>"}, None, {"content"}),
    ("owner", "POST", "/api/courses/{c}/lessons",
     {"title": "V", "type": "video", "content": "https://x.example/a b"}, None, {"content"}),
    ("owner", "POST", "/api/courses/{c}/lessons",
     {"title": "V", "type": "video", "content": "data:text/html,<b>x</b>"}, None, {"content"}),
    # PUT lessons/{id}
    ("owner", "PUT", "/api/courses/{c}/lessons/{t}", {"type": "audio"}, None, {"type"}),
    ("owner", "PUT", "/api/courses/{c}/lessons/{t}", {"duration": 100000}, None, {"duration"}),
    # A text lesson turned video keeps its HTML content unless a URL comes with it.
    ("owner", "PUT", "/api/courses/{c}/lessons/{t}", {"type": "video"}, None, {"content"}),
    ("owner", "PUT", "/api/courses/{c}/lessons/{v}", {"content": "javascript:alert(1)"}, None, {"content"}),
    # PUT lessons/order
    ("owner", "PUT", "/api/courses/{c}/lessons/order", {"lesson_ids": ["{t}"]}, None, {"lesson_ids"}),
    ("owner", "PUT", "/api/courses/{c}/lessons/order", {"lesson_ids": ["{t}", "{v}", "{t}"]}, None,
     {"lesson_ids"}),
    ("owner", "PUT", "/api/courses/{c}/lessons/order", {"lesson_ids": ["{t}", "nope"]}, None, {"lesson_ids"}),
    ("owner", "PUT", "/api/courses/{c}/lessons/order", {"lesson_ids": ["{t}", "{t}"]}, None, {"lesson_ids"}),
    ("owner", "PUT", "/api/courses/{c}/lessons/order", {"lesson_ids": "{t}"}, None, {"lesson_ids"}),
    ("owner", "PUT", "/api/courses/{c}/lessons/order", {}, None, {"lesson_ids"}),
    # POST progress
    ("learner", "POST", "/api/courses/{c}/progress", {}, None, {"lesson_id"}),
    ("learner", "POST", "/api/courses/{c}/progress", {"lesson_id": ""}, None, {"lesson_id"}),
    ("learner", "POST", "/api/courses/{c}/progress", {"lesson_id": "{t}", "completed": "yes please"}, None,
     {"completed"}),
]
# fmt: on


def _fill(value: Any, scene: Scene) -> Any:
    if isinstance(value, str):
        return (
            value.replace("{c}", str(scene.course_id))
            .replace("{t}", scene.text_lesson)
            .replace("{v}", scene.video_lesson)
        )
    if isinstance(value, list):
        return [_fill(item, scene) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, scene) for key, item in value.items()}
    return value


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "query", "fields"),
    [pytest.param(*case, id=f"{case[1]} {case[2]} {sorted(case[5])}") for case in CASES],
)
async def test_bad_input_is_a_422_naming_the_fields(
    client: httpx.AsyncClient,
    scene: Scene,
    who: str,
    method: str,
    path: str,
    body: Any,
    query: dict[str, Any] | None,
    fields: set[str],
) -> None:
    response = await client.request(
        method, _fill(path, scene), headers=scene.headers(who), json=_fill(body, scene), params=query
    )
    assert fields_named(response) == fields


# (who, method, path, body with keys the body does not declare, a field that must keep its value)
# fmt: off
IGNORED: list[tuple[str, str, str, dict[str, Any]]] = [
    ("owner", "POST", "/api/courses", {**GOOD_COURSE, "is_published": True, "instructor_id": 1}),
    ("owner", "PUT", "/api/courses/{c}", {"instructor_id": 7, "id": 5}),
    ("learner", "PUT", "/api/courses/{c}/rating", {"stars": 5, "user_id": 1}),
    ("owner", "POST", "/api/courses/{c}/lessons", {**GOOD_LESSON, "id": "mine", "course_id": 1}),
    ("owner", "PUT", "/api/courses/{c}/lessons/{t}", {"course_id": 1, "id": "x"}),
    ("owner", "PUT", "/api/courses/{c}/lessons/order", {"lesson_ids": ["{t}", "{v}"], "x": 1}),
    ("learner", "POST", "/api/courses/{c}/progress", {"lesson_id": "{t}", "seconds": 99}),
]
# fmt: on


@pytest.mark.parametrize(
    ("who", "method", "path", "body"), [pytest.param(*c, id=f"{c[1]} {c[2]}") for c in IGNORED]
)
async def test_keys_a_body_does_not_declare_are_ignored_never_applied(
    client: httpx.AsyncClient, scene: Scene, who: str, method: str, path: str, body: dict[str, Any]
) -> None:
    """As the original API did: the request succeeds, and nothing it named outside the body's fields
    changed (ownership, ids, publication, the rater)."""
    response = await client.request(
        method, _fill(path, scene), headers=scene.headers(who), json=_fill(body, scene)
    )
    assert response.status_code in (200, 201), response.text
    result = response.json()
    if path == "/api/courses":
        assert (result["instructor_id"], result["is_published"]) == (scene.owner.id, False)
    elif path == "/api/courses/{c}":
        assert (result["id"], result["instructor_id"]) == (scene.course_id, scene.owner.id)
    elif path.endswith("/rating"):
        assert result["user_id"] == scene.learner.id
    elif path.endswith("/lessons"):
        assert result["id"] != "mine" and result["course_id"] == scene.course_id
    course = (await client.get(f"/api/courses/{scene.course_id}", headers=scene.owner.headers)).json()
    assert course["instructor_id"] == scene.owner.id
    assert {lesson["course_id"] for lesson in course["lessons"]} == {scene.course_id}
    assert scene.text_lesson in {lesson["id"] for lesson in course["lessons"]}


async def test_invalid_json_and_wrong_content_type(client: httpx.AsyncClient, scene: Scene) -> None:
    headers = {**scene.owner.headers, "Content-Type": "application/json"}
    broken = await client.post("/api/courses", headers=headers, content=b'{"title": ')
    assert fields_named(broken) == {"body"}
    form = await client.post(
        "/api/courses", headers={**scene.owner.headers, "Content-Type": "text/plain"}, content=b"title=x"
    )
    assert error_code(form, 415) == "unsupported_media_type"


async def test_a_failed_validation_changes_nothing(client: httpx.AsyncClient, scene: Scene) -> None:
    before = (await client.get(f"/api/courses/{scene.course_id}/lessons", headers=scene.owner.headers)).json()
    bad = await client.put(
        f"/api/courses/{scene.course_id}/lessons/{scene.text_lesson}",
        headers=scene.owner.headers,
        json={"type": "video", "title": "Changed"},
    )
    assert fields_named(bad) == {"content"}
    after = (await client.get(f"/api/courses/{scene.course_id}/lessons", headers=scene.owner.headers)).json()
    assert after == before


# --- unknown ids ---------------------------------------------------------------------------------------

MISSING = 987654

# (who, method, path, body, status, code)
# fmt: off
UNKNOWN: list[tuple[str, str, str, Any, int, str]] = [
    ("learner", "GET", f"/api/courses/{MISSING}", None, 404, "course_not_found"),
    ("owner", "PUT", f"/api/courses/{MISSING}", {"title": "x"}, 404, "course_not_found"),
    ("owner", "DELETE", f"/api/courses/{MISSING}", None, 404, "course_not_found"),
    ("learner", "PUT", f"/api/courses/{MISSING}/rating", {"stars": 3}, 404, "course_not_found"),
    ("learner", "GET", f"/api/courses/{MISSING}/ratings", None, 404, "course_not_found"),
    ("learner", "GET", f"/api/courses/{MISSING}/leaderboard", None, 404, "course_not_found"),
    ("learner", "GET", f"/api/courses/{MISSING}/lessons", None, 404, "course_not_found"),
    ("owner", "POST", f"/api/courses/{MISSING}/lessons", GOOD_LESSON, 404, "course_not_found"),
    ("owner", "PUT", f"/api/courses/{MISSING}/lessons/order", {"lesson_ids": []}, 404, "course_not_found"),
    ("learner", "POST", f"/api/courses/{MISSING}/enroll", None, 404, "course_not_found"),
    ("learner", "DELETE", f"/api/courses/{MISSING}/unenroll", None, 404, "course_not_found"),
    ("learner", "GET", f"/api/courses/{MISSING}/progress", None, 404, "course_not_found"),
    ("learner", "POST", f"/api/courses/{MISSING}/progress", {"lesson_id": "x"}, 404, "course_not_found"),
    ("owner", "PUT", "/api/courses/{c}/lessons/nope", {"title": "x"}, 404, "lesson_not_found"),
    ("owner", "DELETE", "/api/courses/{c}/lessons/nope", None, 404, "lesson_not_found"),
    ("learner", "POST", "/api/courses/{c}/progress", {"lesson_id": "nope"}, 404, "lesson_not_found"),
    ("owner", "GET", f"/api/admin/students/{MISSING}/stats", None, 404, "student_not_found"),
    ("learner", "GET", "/api/courses/not-a-number", None, 404, "not_found"),
    ("learner", "GET", "/api/courses/-1", None, 404, "not_found"),
]
# fmt: on


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "status", "code"),
    [pytest.param(*case, id=f"{case[1]} {case[2]}") for case in UNKNOWN],
)
async def test_unknown_ids(
    client: httpx.AsyncClient,
    scene: Scene,
    who: str,
    method: str,
    path: str,
    body: Any,
    status: int,
    code: str,
) -> None:
    response = await client.request(method, _fill(path, scene), headers=scene.headers(who), json=body)
    assert error_code(response, status) == code


async def test_a_lesson_of_another_course_is_not_found_here(
    client: httpx.AsyncClient, api: Api, scene: Scene
) -> None:
    elsewhere = await make_course(client, scene.owner, title="Elsewhere")
    foreign = await add_lesson(client, scene.owner, elsewhere["id"], "Foreign")
    c, h = scene.course_id, scene.owner.headers
    put = await client.put(f"/api/courses/{c}/lessons/{foreign['id']}", headers=h, json={"title": "x"})
    assert error_code(put, 404) == "lesson_not_found"
    delete = await client.delete(f"/api/courses/{c}/lessons/{foreign['id']}", headers=h)
    assert error_code(delete, 404) == "lesson_not_found"
    progress = await client.post(
        f"/api/courses/{c}/progress", headers=scene.learner.headers, json={"lesson_id": foreign["id"]}
    )
    assert error_code(progress, 404) == "lesson_not_found"
    order = await client.put(
        f"/api/courses/{c}/lessons/order",
        headers=h,
        json={"lesson_ids": [scene.text_lesson, foreign["id"]]},
    )
    assert fields_named(order) == {"lesson_ids"}
    # The foreign lesson is untouched.
    lessons = (await client.get(f"/api/courses/{elsewhere['id']}/lessons", headers=h)).json()
    assert [(lesson["id"], lesson["title"]) for lesson in lessons] == [(foreign["id"], "Foreign")]


# --- hostile strings in filters ------------------------------------------------------------------------

HOSTILE = [
    "' OR '1'='1",
    "'; DROP TABLE courses; --",
    '" OR ""="',
    "%",
    "_",
    "%%",
    "\\",
    "\\%",
    '{"$ne": null}',
    "[$ne]",
    "$where",
    "<script>alert(1)</script>",
    "😀",
    "ＰＹＴＨＯＮ",
    "a" * 100,
]


@pytest.mark.parametrize("name", ["search", "category"])
async def test_hostile_filters_match_nothing(client: httpx.AsyncClient, scene: Scene, name: str) -> None:
    for value in HOSTILE:
        response = await client.get("/api/courses", params={name: value}, headers=scene.learner.headers)
        assert response.status_code == 200, (value, response.text)
        assert response.json() == [], value
        assert response.headers["x-total-count"] == "0"


HUGE = "9" * 30


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/api/courses/{HUGE}"),
        ("PUT", f"/api/courses/{HUGE}"),
        ("DELETE", f"/api/courses/{HUGE}"),
        ("GET", f"/api/courses/{HUGE}/lessons"),
        ("POST", f"/api/courses/{HUGE}/enroll"),
        ("GET", f"/api/courses/{HUGE}/progress"),
        ("GET", f"/api/courses/{HUGE}/leaderboard"),
        ("GET", f"/api/courses/{HUGE}/ratings"),
        ("GET", f"/api/admin/students/{HUGE}/stats"),
        ("GET", "/api/courses/2147483648"),
    ],
)
async def test_ids_beyond_the_integer_range_are_not_found(
    client: httpx.AsyncClient, scene: Scene, method: str, path: str
) -> None:
    body = {"title": "x"} if method == "PUT" else None
    response = await client.request(method, path, headers=scene.owner.headers, json=body)
    error_code(response, 404)


async def test_like_wildcards_match_literally(client: httpx.AsyncClient, scene: Scene) -> None:
    await make_course(client, scene.owner, title="100% practical")
    await make_course(client, scene.owner, title="snake_case names")

    async def titles(search: str) -> list[str]:
        response = await client.get("/api/courses", params={"search": search})
        assert response.status_code == 200, response.text
        return [course["title"] for course in response.json()]

    assert await titles("%") == ["100% practical"]
    assert await titles("_") == ["snake_case names"]
    assert await titles("0% p") == ["100% practical"]
    assert await titles("PRACTICAL") == ["100% practical"]


async def test_extra_query_parameters_are_ignored(client: httpx.AsyncClient, scene: Scene) -> None:
    response = await client.get("/api/courses", params={"category[$ne]": "x", "instructor_id": "1"})
    assert response.status_code == 200, response.text
    assert [course["id"] for course in response.json()] == [scene.course_id]
