"""The catalogue (README, "Learning domain"): who sees which courses, filters, paging, enrollment
flags, real ratings, categories, course detail, creation/publishing/updating and with-enrollments."""

from __future__ import annotations

from typing import Any

import httpx

from tests.courses.helpers import (
    add_lesson,
    audit_rows,
    enroll,
    error_code,
    links,
    make_course,
    mark,
    quick_account,
    set_course,
)
from tests.helpers import Account, Api


async def titles(client: httpx.AsyncClient, who: Account | None = None, **params: Any) -> list[str]:
    response = await client.get("/api/courses", params=params, headers=who.headers if who else {})
    assert response.status_code == 200, response.text
    return [course["title"] for course in response.json()]


async def test_visibility_by_role(client: httpx.AsyncClient, api: Api) -> None:
    mine = await quick_account(api.runtime, "instructor")
    theirs = await quick_account(api.runtime, "instructor")
    learner = await quick_account(api.runtime, "learner")
    admin = await quick_account(api.runtime, "admin")
    await make_course(client, mine, title="Mine published")
    my_draft = await make_course(client, mine, title="Mine draft", published=False)
    await make_course(client, theirs, title="Theirs published")
    their_draft = await make_course(client, theirs, title="Theirs draft", published=False)

    # Newest first.
    assert await titles(client) == ["Theirs published", "Mine published"]
    assert await titles(client, learner) == ["Theirs published", "Mine published"]
    assert await titles(client, mine) == ["Theirs published", "Mine draft", "Mine published"]
    assert await titles(client, theirs) == ["Theirs draft", "Theirs published", "Mine published"]
    assert await titles(client, admin) == ["Theirs draft", "Theirs published", "Mine draft", "Mine published"]

    for who, course, status in [
        (None, my_draft, 404),
        (learner, my_draft, 404),
        (theirs, my_draft, 404),
        (mine, my_draft, 200),
        (admin, my_draft, 200),
        (mine, their_draft, 404),
    ]:
        response = await client.get(f"/api/courses/{course['id']}", headers=who.headers if who else {})
        assert response.status_code == status, (who, course["title"], response.text)
        if status == 404:
            assert error_code(response, 404) == "course_not_found"

    # Unpublishing hides a course again; the search does not find drafts either.
    await set_course(client, theirs, their_draft["id"], is_published=True)
    assert "Theirs draft" in await titles(client, learner)
    await set_course(client, theirs, their_draft["id"], is_published=False)
    assert "Theirs draft" not in await titles(client, learner, search="draft")
    assert await titles(client, learner, search="draft") == []


async def test_filters(client: httpx.AsyncClient, api: Api) -> None:
    teacher = await quick_account(api.runtime, "instructor")
    await make_course(client, teacher, title="Python basics", category="Programming", level="Beginner")
    await make_course(
        client,
        teacher,
        title="Advanced Python",
        category="Programming",
        level="Advanced",
        description="Metaclasses and descriptors",
    )
    await make_course(
        client,
        teacher,
        title="Watercolour",
        category="Art",
        level="Beginner",
        description="Painting with PYTHON",
    )
    await make_course(client, teacher, title="Hidden Python", category="Art", published=False)
    learner = await quick_account(api.runtime, "learner")

    assert await titles(client, learner, category="Programming") == ["Advanced Python", "Python basics"]
    assert await titles(client, learner, category="programming") == []  # categories match exactly
    assert await titles(client, learner, level="Beginner") == ["Watercolour", "Python basics"]
    assert await titles(client, learner, category="Art", level="Beginner") == ["Watercolour"]
    # Search looks at titles and descriptions, ignoring case.
    assert await titles(client, learner, search="python") == [
        "Watercolour",
        "Advanced Python",
        "Python basics",
    ]
    assert await titles(client, learner, search="DESCRIPTORS") == ["Advanced Python"]
    assert await titles(client, learner, search="python", level="Advanced") == ["Advanced Python"]
    assert await titles(client, learner, search="nothing like this") == []
    # Empty filters are no filters.
    assert len(await titles(client, learner, search="", category="")) == 3


async def test_paging_with_total_count_and_link(client: httpx.AsyncClient, api: Api) -> None:
    teacher = await quick_account(api.runtime, "instructor")
    for n in range(5):
        await make_course(client, teacher, title=f"Course {n}")
    await make_course(client, teacher, title="Draft", published=False)

    first = await client.get("/api/courses", params={"skip": 0, "limit": 2})
    assert [c["title"] for c in first.json()] == ["Course 4", "Course 3"]
    assert first.headers["x-total-count"] == "5"
    assert links(first) == {
        "first": {"skip": "0", "limit": "2"},
        "next": {"skip": "2", "limit": "2"},
        "last": {"skip": "4", "limit": "2"},
    }
    middle = await client.get("/api/courses", params={"skip": 2, "limit": 2, "category": "Programming"})
    assert [c["title"] for c in middle.json()] == ["Course 2", "Course 1"]
    assert links(middle)["prev"] == {"skip": "0", "limit": "2", "category": "Programming"}
    assert links(middle)["next"] == {"skip": "4", "limit": "2", "category": "Programming"}
    last = await client.get("/api/courses", params={"skip": 4, "limit": 2})
    assert [c["title"] for c in last.json()] == ["Course 0"]
    assert "next" not in links(last)
    beyond = await client.get("/api/courses", params={"skip": 50, "limit": 2})
    assert beyond.json() == [] and beyond.headers["x-total-count"] == "5"
    # The owner's total counts their draft too.
    mine = await client.get("/api/courses", params={"limit": 100}, headers=teacher.headers)
    assert mine.headers["x-total-count"] == "6" and len(mine.json()) == 6
    default = await client.get("/api/courses")
    assert len(default.json()) == 5


async def test_is_enrolled(client: httpx.AsyncClient, api: Api) -> None:
    teacher = await quick_account(api.runtime, "instructor")
    learner = await quick_account(api.runtime, "learner")
    other = await quick_account(api.runtime, "learner")
    taken = await make_course(client, teacher, title="Taken")
    await make_course(client, teacher, title="Not taken")
    await enroll(client, learner, taken["id"])

    def flags(response: httpx.Response) -> dict[str, bool]:
        return {course["title"]: course["is_enrolled"] for course in response.json()}

    assert flags(await client.get("/api/courses", headers=learner.headers)) == {
        "Taken": True,
        "Not taken": False,
    }
    assert flags(await client.get("/api/courses", headers=other.headers)) == {
        "Taken": False,
        "Not taken": False,
    }
    assert flags(await client.get("/api/courses")) == {"Taken": False, "Not taken": False}
    assert (await client.get(f"/api/courses/{taken['id']}", headers=learner.headers)).json()["is_enrolled"]
    assert not (await client.get(f"/api/courses/{taken['id']}")).json()["is_enrolled"]
    detail = (await client.get(f"/api/courses/{taken['id']}")).json()
    assert detail["enrollment_count"] == 1
    await client.delete(f"/api/courses/{taken['id']}/unenroll", headers=learner.headers)
    assert flags(await client.get("/api/courses", headers=learner.headers)) == {
        "Taken": False,
        "Not taken": False,
    }


async def test_rating_is_the_real_average(client: httpx.AsyncClient, api: Api) -> None:
    teacher = await quick_account(api.runtime, "instructor")
    first = await quick_account(api.runtime, "learner", first_name="Ada", last_name="One")
    second = await quick_account(api.runtime, "learner", first_name="Bob", last_name="Two")
    course = await make_course(client, teacher)
    unrated = await make_course(client, teacher, title="Unrated")
    c = course["id"]

    async def rating(course_id: int = c) -> tuple[float | None, int]:
        """The average (null without ratings); `rating` is the same number, 0 without ratings."""
        detail = (await client.get(f"/api/courses/{course_id}")).json()
        listed = {item["id"]: item for item in (await client.get("/api/courses")).json()}[course_id]
        for item in (detail, listed):
            assert item["rating"] == (item["average_rating"] or 0.0)
        assert (listed["average_rating"], listed["rating_count"]) == (
            detail["average_rating"],
            detail["rating_count"],
        )
        return detail["average_rating"], detail["rating_count"]

    assert await rating() == (None, 0)
    for who in (first, second):
        await enroll(client, who, c)
    rated = await client.put(
        f"/api/courses/{c}/rating", headers=first.headers, json={"stars": 4, "review": " ok "}
    )
    assert rated.status_code == 200, rated.text
    assert rated.json()["stars"] == 4 and rated.json()["review"] == "ok" and rated.json()["name"] == "Ada One"
    assert await rating() == (4.0, 1)
    await client.put(f"/api/courses/{c}/rating", headers=second.headers, json={"stars": 5})
    assert await rating() == (4.5, 2)
    # An update replaces the learner's rating; it is not a second one.
    again = await client.put(f"/api/courses/{c}/rating", headers=first.headers, json={"stars": 2})
    assert again.json()["id"] == rated.json()["id"] and again.json()["review"] is None
    assert await rating() == (3.5, 2)
    assert await rating(unrated["id"]) == (None, 0)
    # Averages that do not divide evenly are rounded, not truncated to an integer.
    third = await quick_account(api.runtime, "learner")
    await enroll(client, third, c)
    await client.put(f"/api/courses/{c}/rating", headers=third.headers, json={"stars": 5})
    assert await rating() == (4.0, 3)
    await client.put(f"/api/courses/{c}/rating", headers=third.headers, json={"stars": 4})
    assert await rating() == (3.67, 3)

    listing = await client.get(f"/api/courses/{c}/ratings", params={"limit": 2})
    assert listing.status_code == 200
    assert listing.headers["x-total-count"] == "3"
    assert [(item["user_id"], item["stars"]) for item in listing.json()] == [(third.id, 4), (first.id, 2)]
    assert listing.json()[0]["created_at"].endswith("Z")
    rest = await client.get(f"/api/courses/{c}/ratings", params={"skip": 2, "limit": 2})
    assert [(item["name"], item["stars"]) for item in rest.json()] == [("Bob Two", 5)]


async def test_categories_count_published_courses_only(client: httpx.AsyncClient, api: Api) -> None:
    teacher = await quick_account(api.runtime, "instructor")
    assert (await client.get("/api/categories")).json() == []
    assert (await client.get("/api/categories/counts")).json() == []
    await make_course(client, teacher, category="Programming")
    await make_course(client, teacher, category="Programming")
    await make_course(client, teacher, category="Art")
    await make_course(client, teacher, category="Art", published=False)
    await make_course(client, teacher, category="Music", published=False)
    response = await client.get("/api/categories", headers=teacher.headers)
    assert response.status_code == 200
    assert response.json() == ["Art", "Programming"]
    counts = await client.get("/api/categories/counts", headers=teacher.headers)
    assert counts.status_code == 200
    assert counts.json() == [
        {"name": "Art", "course_count": 1},
        {"name": "Programming", "course_count": 2},
    ]


async def test_an_edit_may_empty_the_category_and_the_list_leaves_it_out(
    client: httpx.AsyncClient, api: Api
) -> None:
    teacher = await quick_account(api.runtime, "instructor")
    course = await make_course(client, teacher, category="Art")
    await make_course(client, teacher, category="Programming")
    edited = await set_course(client, teacher, course["id"], category="  ")
    assert edited["category"] == ""
    assert (await client.get(f"/api/courses/{course['id']}")).json()["category"] == ""
    assert (await client.get("/api/categories")).json() == ["Programming"]
    assert (await client.get("/api/categories/counts")).json() == [{"name": "Programming", "course_count": 1}]
    too_long = await client.put(
        f"/api/courses/{course['id']}", headers=teacher.headers, json={"category": "x" * 101}
    )
    assert too_long.status_code == 422


async def test_course_detail(client: httpx.AsyncClient, api: Api) -> None:
    teacher = await quick_account(
        api.runtime,
        "instructor",
        first_name="Grace",
        last_name="Hopper",
        avatar_url="https://img.example/g.png",
    )
    course = await make_course(client, teacher, thumbnail_url="https://img.example/t.png", duration="6 weeks")
    second = await add_lesson(client, teacher, course["id"], "Second", order=5, duration=30)
    first = await add_lesson(
        client, teacher, course["id"], "First", order=1, type="video", content="/media/a.mp4"
    )
    detail = (await client.get(f"/api/courses/{course['id']}")).json()
    assert detail["instructor"] == "Grace Hopper"
    assert detail["instructorAvatar"] == "https://img.example/g.png"
    assert detail["instructor_id"] == teacher.id
    assert detail["lessonsCount"] == 2
    assert detail["thumbnail_url"] == "https://img.example/t.png" and detail["banner_url"] is None
    assert detail["duration"] == "6 weeks" and detail["level"] == "Beginner"
    assert detail["is_published"] is True and detail["is_leaderboard_public"] is True
    assert detail["average_rating"] is None and detail["rating"] == 0.0
    assert detail["enrollment_count"] == 0 and detail["enrolledStudents"] == 0
    assert detail["created_at"].endswith("Z") and detail["updated_at"].endswith("Z")
    # The lessons are ordered; a visitor gets no content or notes.
    fields = ("id", "title", "type", "duration", "duration_minutes", "order", "content", "notes")
    assert [{name: lesson[name] for name in fields} for lesson in detail["lessons"]] == [
        {
            "id": first["id"],
            "title": "First",
            "type": "video",
            "duration": "10 min",
            "duration_minutes": 10,
            "order": 1,
            "content": None,
            "notes": None,
        },
        {
            "id": second["id"],
            "title": "Second",
            "type": "text",
            "duration": "30 min",
            "duration_minutes": 30,
            "order": 5,
            "content": None,
            "notes": None,
        },
    ]
    listed = (await client.get("/api/courses")).json()[0]
    assert listed["lessonsCount"] == 2 and "lessons" not in listed


async def test_create_publish_update_and_audit(client: httpx.AsyncClient, api: Api) -> None:
    teacher = await quick_account(api.runtime, "instructor")
    admin = await quick_account(api.runtime, "admin")
    created = await client.post(
        "/api/courses",
        headers=teacher.headers,
        json={
            "title": "  Spaced  ",
            "category": " Art ",
            "level": "Advanced",
            "thumbnail_url": "/media/x.png",
        },
    )
    assert created.status_code == 201, created.text
    course = created.json()
    assert course["title"] == "Spaced" and course["category"] == "Art"
    assert course["is_published"] is False and course["instructor_id"] == teacher.id
    assert course["description"] == "" and course["duration"] == ""
    c = course["id"]

    # null leaves a field alone; an image sent as "" is removed.
    kept = await set_course(client, teacher, c, thumbnail_url=None, title=None)
    assert (kept["title"], kept["thumbnail_url"]) == ("Spaced", "/media/x.png")
    updated = await set_course(client, teacher, c, description="New", thumbnail_url="", level="Intermediate")
    assert updated["description"] == "New" and updated["thumbnail_url"] is None
    assert updated["level"] == "Intermediate" and updated["title"] == "Spaced"
    published = await set_course(client, admin, c, is_published=True, is_leaderboard_public=False)
    assert published["is_published"] is True and published["is_leaderboard_public"] is False
    # Publishing again is not a second publication.
    await set_course(client, teacher, c, is_published=True)

    created_rows = await audit_rows(api.runtime, "course_created")
    assert [(r.user_id, r.resource_type, r.resource_id) for r in created_rows] == [
        (teacher.id, "course", str(c))
    ]
    published_rows = await audit_rows(api.runtime, "course_published")
    assert [(r.user_id, r.resource_id) for r in published_rows] == [(admin.id, str(c))]
    updated_rows = await audit_rows(api.runtime, "course_updated")
    assert len(updated_rows) == 4
    assert updated_rows[0].details == {"fields": []}
    assert updated_rows[1].details == {"fields": ["description", "level", "thumbnail_url"]}
    assert all(row.ip_address == "127.0.0.1" for row in updated_rows)


async def test_with_enrollments(client: httpx.AsyncClient, api: Api) -> None:
    mine = await quick_account(api.runtime, "instructor")
    theirs = await quick_account(api.runtime, "instructor")
    admin = await quick_account(api.runtime, "admin")
    a = await make_course(client, mine, title="A")
    await make_course(client, mine, title="A draft", published=False)
    b = await make_course(client, theirs, title="B")
    lesson = await add_lesson(client, mine, a["id"])
    await add_lesson(client, mine, a["id"])
    done = await quick_account(api.runtime, "learner")
    half = await quick_account(api.runtime, "learner")
    for who in (done, half):
        await enroll(client, who, a["id"])
    await enroll(client, done, b["id"])
    for lesson_id in [
        lesson["id"],
        *[
            x["id"]
            for x in (await client.get(f"/api/courses/{a['id']}/lessons", headers=mine.headers)).json()
            if x["id"] != lesson["id"]
        ],
    ]:
        await mark(client, done, a["id"], lesson_id)
    await mark(client, half, a["id"], lesson["id"])

    response = await client.get("/api/courses/with-enrollments", headers=mine.headers)
    assert response.status_code == 200, response.text
    by_title = {item["title"]: item for item in response.json()}
    assert set(by_title) == {"A", "A draft"}
    assert by_title["A"]["enrollment_count"] == 2 and by_title["A"]["enrollments"] == 2
    assert by_title["A"]["completed_count"] == 1
    assert by_title["A"]["average_progress"] == 75.0
    assert by_title["A draft"]["enrollment_count"] == 0 and by_title["A draft"]["average_progress"] == 0
    everything = await client.get("/api/courses/with-enrollments", headers=admin.headers)
    assert {item["title"] for item in everything.json()} == {"A", "A draft", "B"}
