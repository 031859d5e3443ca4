"""What the original's clients rely on beyond the shapes: the values under the original names mean what
they meant there (ids a link is built from, counts, the labels an inbox filters on), a course page can
always load, an edit form filled from a view never wipes what it did not show, and free-text durations
come back as written."""

from __future__ import annotations

from typing import Any

import httpx

from tests.compat.scene import Scene, lesson_form, ok
from tests.helpers import Api


async def get(scene: Scene, who: str, path: str, **params: Any) -> Any:
    return ok(await scene.client.get(path, params=params or None, headers=scene.headers(who)))


# --- 1. categories ------------------------------------------------------------------------------------------


async def test_categories_are_names_and_the_counts_live_beside_them(scene: Scene) -> None:
    names = await get(scene, "anonymous", "/api/categories")
    counts = await get(scene, "anonymous", "/api/categories/counts")
    assert names == [item["name"] for item in counts] and "Programming" in names
    assert all(isinstance(item["course_count"], int) and item["course_count"] > 0 for item in counts)


# --- 2. progress for everyone signed in who sees the course -------------------------------------------------


async def test_progress_is_empty_not_an_error_for_those_not_enrolled(scene: Scene) -> None:
    for who in ("other", "admin"):
        progress = await get(scene, who, f"/api/courses/{scene.course_id}/progress")
        account = scene.who(who)
        assert account is not None
        assert {
            key: progress[key] for key in ("user_id", "course_id", "completed_lessons", "total_lessons")
        } == {
            "user_id": account.id,
            "course_id": scene.course_id,
            "completed_lessons": [],
            "total_lessons": len(scene.lesson_ids),
        }
        assert (
            progress["progress_percentage"],
            progress["last_accessed"],
            progress["total_seconds_spent"],
        ) == (
            0.0,
            None,
            0,
        )
    mine = await get(scene, "learner", f"/api/courses/{scene.course_id}/progress")
    assert (
        scene.lesson_ids[0] in mine["completed_lessons"]
        and mine["id"] == f"{scene.learner.id}:{scene.course_id}"
    )


# --- 3. discussions: flat items -----------------------------------------------------------------------------


async def test_discussion_items_are_flat_with_the_callers_vote(scene: Scene) -> None:
    as_learner = {
        item["id"]: item
        for item in await get(scene, "learner", f"/api/courses/{scene.course_id}/discussions")
    }
    as_admin = {
        item["id"]: item for item in await get(scene, "admin", f"/api/courses/{scene.course_id}/discussions")
    }
    post = as_learner[scene.public_post]
    assert (post["user_id"], post["author_name"], post["author_avatar"]) == (
        scene.learner.id,
        "Ada Lovelace",
        None,
    )
    # The admin voted it up; the learner has no vote: 0, not null.
    assert (as_admin[scene.public_post]["user_vote"], post["user_vote"]) == (1, 0)
    replies = [item for item in as_learner.values() if item["parent_id"] == scene.public_post]
    assert [reply["user_id"] for reply in replies] == [scene.admin.id]
    # The learner's private question is listed for them and the admin, not for other learners.
    assert scene.private_post in as_learner and scene.private_post in as_admin


# --- 4. lesson content on the course page -------------------------------------------------------------------


async def test_the_course_page_carries_lesson_content_for_those_who_may_open_it(scene: Scene) -> None:
    full = {
        lesson["id"]: lesson
        for lesson in await get(scene, "admin", f"/api/courses/{scene.course_id}/lessons")
    }
    for who in ("learner", "admin"):
        lessons = (await get(scene, who, f"/api/courses/{scene.course_id}"))["lessons"]
        assert [(lesson["content"], lesson["notes"]) for lesson in lessons] == [
            (full[lesson["id"]]["content"], full[lesson["id"]]["notes"]) for lesson in lessons
        ]
        assert all(isinstance(lesson["content"], str) and lesson["content"] for lesson in lessons)
    for who in ("anonymous", "other"):
        lessons = (await get(scene, who, f"/api/courses/{scene.course_id}"))["lessons"]
        assert lessons and all(lesson["content"] is None and lesson["notes"] is None for lesson in lessons)


# --- 5. learner enrollments: id is the course's -------------------------------------------------------------


async def test_learner_enrollments_are_courses_whose_id_makes_the_link(scene: Scene) -> None:
    (item,) = [
        entry
        for entry in await get(scene, "learner", "/api/learner/enrollments")
        if entry["id"] == scene.course_id
    ]
    assert (item["title"], item["course_id"], item["total_lessons"]) == ("Python basics", scene.course_id, 2)
    assert (item["completed_lessons"], item["progress_percentage"], item["is_completed"]) == (1, 50, False)
    report = await get(scene, "admin", "/api/reports/students", course_id=scene.course_id)
    (row,) = [entry for entry in report["students"] if entry["student_id"] == scene.learner.id]
    assert item["enrollment_id"] == row["id"]
    linked = await get(scene, "learner", f"/api/courses/{item['id']}")
    assert linked["title"] == "Python basics" and linked["is_enrolled"] is True


# --- 6. chat summaries are flat -----------------------------------------------------------------------------


async def test_chat_summaries_carry_the_partner_and_the_last_text(scene: Scene) -> None:
    chats = await get(scene, "admin", "/api/chats")
    chat = next(item for item in chats if item["partner_id"] == scene.learner.id)
    history = await get(scene, "admin", f"/api/chats/{scene.learner.id}")
    assert (chat["partner_name"], chat["partner_role"], chat["last_message"]) == (
        "Ada Lovelace",
        "learner",
        history[-1]["content"],
    )
    assert chat["last_message_at"] == history[-1]["created_at"]
    # The history reads top-down, oldest first, as the original listed it.
    assert [message["id"] for message in history] == sorted(message["id"] for message in history)


# --- 7. inbox items name their author, course and lesson ----------------------------------------------------


async def test_inboxes_name_author_course_and_lesson(scene: Scene) -> None:
    staff = await get(scene, "admin", "/api/admin/messages")
    question = next(item for item in staff if item["id"] == scene.private_post)
    assert (question["author_name"], question["course_title"], question["lesson_title"]) == (
        "Ada Lovelace",
        "Python basics",
        "General Course Query",
    )
    mine = await get(scene, "learner", "/api/my-messages")
    answer = next(item for item in mine if item["parent_id"] == scene.private_post)
    assert (answer["user_id"], answer["course_title"], answer["lesson_title"]) == (
        scene.admin.id,
        "Python basics",
        "General",
    )
    with_lesson = await scene.post(
        scene.learner, "About this lesson", is_private=True, lesson_id=scene.lesson_ids[1]
    )
    item = next(
        entry for entry in await get(scene, "admin", "/api/admin/messages") if entry["id"] == with_lesson
    )
    assert item["lesson_title"] == "Variables"


# --- 9. student stats ---------------------------------------------------------------------------------------


async def test_student_stats_have_hours_titles_and_every_lesson(scene: Scene) -> None:
    stats = await get(scene, "admin", f"/api/admin/students/{scene.learner.id}/stats")
    assert stats["total_hours_spent"] == round(stats["total_seconds_spent"] / 3600, 2)
    assert isinstance(stats["total_hours_spent"], float)
    course = next(item for item in stats["courses"] if item["course_id"] == scene.course_id)
    assert course["course_title"] == "Python basics"
    assert [(module["lesson_id"], module["completed"]) for module in course["modules"]] == [
        (scene.lesson_ids[0], True),
        (scene.lesson_ids[1], False),
    ]


# --- 10. empty image URLs -----------------------------------------------------------------------------------


async def test_empty_image_urls_mean_none(scene: Scene) -> None:
    course_id = await scene.new_course()
    detail = await get(scene, "admin", f"/api/courses/{course_id}")
    assert (detail["banner_url"], detail["thumbnail_url"]) == (None, "https://img.example/thumb.png")
    cleared = ok(
        await scene.client.put(
            f"/api/courses/{course_id}", json={"thumbnail_url": ""}, headers=scene.admin.headers
        )
    )
    assert cleared["thumbnail_url"] is None


# --- 11. free-text durations --------------------------------------------------------------------------------


async def test_lesson_durations_come_back_as_written_with_minutes_beside(scene: Scene) -> None:
    path = f"/api/courses/{scene.course_id}/lessons"
    expected = {"15:30": 16, "10 min": 10, "1h 20m": 80, "about an hour": None, "": None}
    for text, minutes in expected.items():
        created = ok(
            await scene.client.post(path, json=lesson_form(f"D {text}", text), headers=scene.admin.headers)
        )
        assert (created["duration"], created["duration_minutes"]) == (text, minutes)
        lessons = {
            lesson["id"]: lesson
            for lesson in (await get(scene, "admin", f"/api/courses/{scene.course_id}"))["lessons"]
        }
        assert lessons[created["lesson_id"]]["duration"] == text
    as_minutes = ok(
        await scene.client.post(
            path, json={**lesson_form("Minutes", ""), "duration": 12}, headers=scene.admin.headers
        )
    )
    assert (as_minutes["duration"], as_minutes["duration_minutes"]) == ("12 min", 12)


# --- 12. an update never erases what it was not shown -------------------------------------------------------


async def test_an_edit_form_filled_without_content_keeps_it(scene: Scene) -> None:
    path = f"/api/courses/{scene.course_id}/lessons"
    body = {**lesson_form("Kept", "5 min", "<p>Precious</p>"), "notes": "<p>Also kept</p>"}
    lesson_id = ok(await scene.client.post(path, json=body, headers=scene.admin.headers))["lesson_id"]
    url = f"{path}/{lesson_id}"
    # What a client pre-filling its edit form from a view without content sends.
    blank = {"title": "Kept, renamed", "type": "text", "duration": "", "content": "", "notes": ""}
    ok(await scene.client.put(url, json=blank, headers=scene.admin.headers))
    nulls = {"title": None, "type": None, "duration": None, "content": None, "notes": None}
    ok(await scene.client.put(url, json=nulls, headers=scene.admin.headers))
    lesson = next(item for item in await get(scene, "admin", path) if item["id"] == lesson_id)
    assert (lesson["title"], lesson["duration"], lesson["content"], lesson["notes"]) == (
        "Kept, renamed",
        "5 min",
        "<p>Precious</p>",
        "<p>Also kept</p>",
    )
    # A form filled from the course page (which now carries the content) round-trips unchanged.
    shown = next(
        item
        for item in (await get(scene, "admin", f"/api/courses/{scene.course_id}"))["lessons"]
        if item["id"] == lesson_id
    )
    again = {key: shown[key] for key in ("title", "type", "duration", "content", "notes")}
    ok(await scene.client.put(url, json=again, headers=scene.admin.headers))
    assert (
        next(item for item in await get(scene, "admin", path) if item["id"] == lesson_id)["content"]
        == "<p>Precious</p>"
    )
    # Erasing is explicit.
    cleared = ok(
        await scene.client.put(url, json={"clear": ["content", "notes"]}, headers=scene.admin.headers)
    )
    assert (cleared["content"], cleared["notes"]) == ("", None)


# --- 13. analytics categories and enrollments ---------------------------------------------------------------


async def test_analytics_categories_and_enrollments_under_the_original_names(scene: Scene) -> None:
    categories = await get(scene, "admin", "/api/analytics/categories")
    assert sum(item["percentage"] for item in categories) in range(99, 102)
    assert all(
        item["name"] == (item["category"] or "Uncategorized") and item["count"] == item["courses"]
        for item in categories
    )
    courses = await get(scene, "admin", "/api/courses/with-enrollments")
    assert all(item["enrollments"] == item["enrollment_count"] for item in courses)
    assert next(item for item in courses if item["id"] == scene.course_id)["enrollments"] >= 1


# --- 14. errors carry `detail` in the original's form -------------------------------------------------------


async def test_a_rate_limited_answer_says_so_in_detail(client: httpx.AsyncClient, api: Api) -> None:
    """429 as the original's clients read it: `detail` text and `retry_after` (here the seconds to wait)."""
    account = await api.register()
    answers = [
        await client.post("/api/auth/login", json={"email": account.email, "password": "Wrong1234"})
        for _ in range(12)
    ]
    limited = next(answer for answer in answers if answer.status_code == 429)
    body = limited.json()
    assert isinstance(body["detail"], str) and body["detail"] == body["error"]["message"]
    assert body["retry_after"] == limited.headers["retry-after"]


async def test_validation_errors_list_each_problem_in_detail(scene: Scene) -> None:
    response = await scene.client.post(
        "/api/auth/register",
        json={"email": "not-an-email", "password": "short", "first_name": "A", "last_name": "B"},
    )
    assert response.status_code == 422
    problems = {tuple(item["loc"]): item for item in response.json()["detail"]}
    assert set(problems) == {("body", "email"), ("body", "password")}
    assert all(item["input"] is None and item["msg"] and item["type"] for item in problems.values())
