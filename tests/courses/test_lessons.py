"""Lessons (README): ordering, HTML sanitizing with a real sanitizer, update and delete, and audit rows
that carry the lesson's string id (the seed wrote text ids into an integer column)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.lessons.sanitize import image_sources, sanitize_html
from tests.conftest import make_settings
from tests.courses.helpers import (
    add_lesson,
    audit_rows,
    enroll,
    error_code,
    lesson_docs,
    make_course,
    quick_account,
)
from tests.helpers import Account, Api


async def syllabus(client: httpx.AsyncClient, who: Account, course_id: int) -> list[tuple[str, int]]:
    """(title, order) from /lessons, checked against the course detail's syllabus."""
    lessons = (await client.get(f"/api/courses/{course_id}/lessons", headers=who.headers)).json()
    detail = (await client.get(f"/api/courses/{course_id}", headers=who.headers)).json()
    assert [(x["id"], x["order"]) for x in lessons] == [(x["id"], x["order"]) for x in detail["lessons"]]
    return [(lesson["title"], lesson["order"]) for lesson in lessons]


@pytest.fixture
async def teacher(api: Api) -> Account:
    return await quick_account(api.runtime, "instructor")


@pytest.fixture
async def course_id(client: httpx.AsyncClient, teacher: Account) -> int:
    return int((await make_course(client, teacher))["id"])


async def test_lessons_append_by_default(client: httpx.AsyncClient, teacher: Account, course_id: int) -> None:
    for title in ("A", "B", "C"):
        await add_lesson(client, teacher, course_id, title)
    assert await syllabus(client, teacher, course_id) == [("A", 0), ("B", 1), ("C", 2)]


async def test_a_given_order_puts_the_lesson_there(
    client: httpx.AsyncClient, teacher: Account, course_id: int
) -> None:
    await add_lesson(client, teacher, course_id, "A")
    await add_lesson(client, teacher, course_id, "B")
    # Order 0 is taken by A: the new lesson goes first and the others move down.
    await add_lesson(client, teacher, course_id, "Intro", order=0)
    assert await syllabus(client, teacher, course_id) == [("Intro", 0), ("A", 1), ("B", 2)]
    await add_lesson(client, teacher, course_id, "Between", order=2)
    assert await syllabus(client, teacher, course_id) == [("Intro", 0), ("A", 1), ("Between", 2), ("B", 3)]
    # A free order is kept as given; the next default one comes after it.
    await add_lesson(client, teacher, course_id, "Far", order=10)
    await add_lesson(client, teacher, course_id, "Last")
    assert (await syllabus(client, teacher, course_id))[-2:] == [("Far", 10), ("Last", 11)]


async def test_moving_a_lesson_by_updating_its_order(
    client: httpx.AsyncClient, teacher: Account, course_id: int
) -> None:
    lessons = [await add_lesson(client, teacher, course_id, title) for title in ("A", "B", "C")]
    moved = await client.put(
        f"/api/courses/{course_id}/lessons/{lessons[2]['id']}", headers=teacher.headers, json={"order": 0}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["order"] == 0
    assert [title for title, _ in await syllabus(client, teacher, course_id)] == ["C", "A", "B"]


async def test_reorder_endpoint(
    client: httpx.AsyncClient, api: Api, teacher: Account, course_id: int
) -> None:
    a, b, c = [(await add_lesson(client, teacher, course_id, title))["id"] for title in ("A", "B", "C")]
    learner = await quick_account(api.runtime, "learner")
    await enroll(client, learner, course_id)
    response = await client.put(
        f"/api/courses/{course_id}/lessons/order", headers=teacher.headers, json={"lesson_ids": [c, a, b]}
    )
    assert response.status_code == 200, response.text
    assert [(x["id"], x["order"]) for x in response.json()] == [(c, 0), (a, 1), (b, 2)]
    assert await syllabus(client, learner, course_id) == [("C", 0), ("A", 1), ("B", 2)]
    # Each lesson that moved has its own audit row, named by its string id.
    rows = [row for row in await audit_rows(api.runtime, "lesson_updated")]
    assert {(row.resource_type, row.resource_id) for row in rows} == {
        ("lesson", c),
        ("lesson", a),
        ("lesson", b),
    }
    assert {row.resource_id: row.details["order"] for row in rows} == {c: 0, a: 1, b: 2}
    # The same order again moves nothing and records nothing.
    again = await client.put(
        f"/api/courses/{course_id}/lessons/order", headers=teacher.headers, json={"lesson_ids": [c, a, b]}
    )
    assert again.status_code == 200
    assert len(await audit_rows(api.runtime, "lesson_updated")) == 3
    empty = await make_course(client, teacher, title="Empty")
    nothing = await client.put(
        f"/api/courses/{empty['id']}/lessons/order", headers=teacher.headers, json={"lesson_ids": []}
    )
    assert nothing.status_code == 200 and nothing.json() == []


SANITIZED: list[tuple[str, str]] = [
    ('<p onclick="steal()">Hi<script>alert(1)</script></p>', "<p>Hi</p>"),
    # Images from anywhere but our own media (or a configured source) lose their src: no tracking pixels.
    ('<img src="https://i.example/a.png" onerror="alert(1)" alt="A">', '<img alt="A">'),
    ('<img src="/media/ab12.png" onerror="alert(1)" alt="A">', '<img src="/media/ab12.png" alt="A">'),
    ('<img src="//tracker.example/p.gif">', "<img>"),
    ('<img src="/api/auth/logout">', "<img>"),
    # Classes: only code-language markers; layout classes from the page's own styles are dropped.
    ('<span class="fixed inset-0 z-50 bg-white">over the page</span>', "<span>over the page</span>"),
    ('<code class="language-python absolute top-0">x</code>', '<code class="language-python">x</code>'),
    ('<p class="hidden">p</p>', "<p>p</p>"),
    ('<a href="javascript:alert(1)">x</a>', '<a rel="noopener noreferrer nofollow">x</a>'),
    ('<a href="JaVaScRiPt:alert(1)">x</a>', '<a rel="noopener noreferrer nofollow">x</a>'),
    ('<a href="java&#x09;script:alert(1)">x</a>', '<a rel="noopener noreferrer nofollow">x</a>'),
    ('<a href="https://docs.example/x" target="_blank">docs</a>',
     '<a href="https://docs.example/x" rel="noopener noreferrer nofollow">docs</a>'),
    ('<img src="data:text/html;base64,PHNjcmlwdD4=">', "<img>"),
    ('<iframe src="https://evil.example"></iframe><p>after</p>', "<p>after</p>"),
    ("<svg onload=alert(1)><script>alert(1)</script></svg>", ""),
    ("<style>body{display:none}</style><p>styled</p>", "<p>styled</p>"),
    ('<p style="background:url(javascript:alert(1))">s</p>', "<p>s</p>"),
    ('<form action="https://evil.example"><input name="password"></form>', ""),
    ("<object data=x></object><embed src=x>", ""),
    ('<math><mi xlink:href="javascript:alert(1)">x</mi></math>', ""),
    # Allowed markup stays.
    ("<h2>Title</h2><p><strong>bold</strong> <em>it</em> <code>x</code></p>",
     "<h2>Title</h2><p><strong>bold</strong> <em>it</em> <code>x</code></p>"),
    ('<pre><code class="language-python">print(1)</code></pre>',
     '<pre><code class="language-python">print(1)</code></pre>'),
    ("<ul><li>one</li></ul><ol><li>two</li></ol><blockquote>q</blockquote><hr>",
     "<ul><li>one</li></ul><ol><li>two</li></ol><blockquote>q</blockquote><hr>"),
    ('<table><tr><td colspan="2">c</td></tr></table>',
     '<table><tbody><tr><td colspan="2">c</td></tr></tbody></table>'),
    ("<p>&lt;script&gt; is text</p>", "<p>&lt;script&gt; is text</p>"),
    ("<b>unclosed", "<b>unclosed</b>"),
]  # fmt: skip


async def test_text_content_and_notes_are_sanitized(
    client: httpx.AsyncClient, api: Api, teacher: Account, course_id: int
) -> None:
    learner = await quick_account(api.runtime, "learner")
    await enroll(client, learner, course_id)
    for dirty, clean in SANITIZED:
        lesson = await add_lesson(client, teacher, course_id, "S", content=dirty, notes=dirty)
        assert (lesson["content"], lesson["notes"]) == (clean, clean), dirty
        # What is stored (and what learners get) is the clean version.
        (doc,) = [doc for doc in await lesson_docs(api.runtime, course_id) if doc["_id"] == lesson["id"]]
        assert (doc["content"], doc["notes"]) == (clean, clean)
    served = (await client.get(f"/api/courses/{course_id}/lessons", headers=learner.headers)).json()
    assert [lesson["content"] for lesson in served] == [clean for _, clean in SANITIZED]


async def test_updates_are_sanitized_too(client: httpx.AsyncClient, teacher: Account, course_id: int) -> None:
    lesson = await add_lesson(client, teacher, course_id, "T")
    url = f"/api/courses/{course_id}/lessons/{lesson['id']}"
    updated = await client.put(
        url,
        headers=teacher.headers,
        json={
            "content": "<p onmouseover=x()>v2<script>x</script></p>",
            "notes": "<i>n</i><script>x</script>",
        },
    )
    assert updated.status_code == 200, updated.text
    assert (updated.json()["content"], updated.json()["notes"]) == ("<p>v2</p>", "<i>n</i>")


async def test_video_lessons(client: httpx.AsyncClient, teacher: Account, course_id: int) -> None:
    video = await add_lesson(
        client, teacher, course_id, "V", type="video", content="https://videos.example/a.mp4?t=1&x=2"
    )
    # A URL is kept as given (it is not HTML).
    assert video["content"] == "https://videos.example/a.mp4?t=1&x=2"
    local = await add_lesson(client, teacher, course_id, "Local", type="video", content="/media/abc.mp4")
    assert local["content"] == "/media/abc.mp4"
    url = f"/api/courses/{course_id}/lessons/{video['id']}"
    # Turned into a text lesson, whatever the content was goes through the sanitizer.
    text = await client.put(url, headers=teacher.headers, json={"type": "text"})
    assert text.status_code == 200, text.text
    assert (
        text.json()["type"] == "text" and text.json()["content"] == "https://videos.example/a.mp4?t=1&amp;x=2"
    )
    # And back to video it needs a URL again.
    back = await client.put(
        url, headers=teacher.headers, json={"type": "video", "content": "https://v.example/b"}
    )
    assert back.status_code == 200, back.text
    assert back.json()["content"] == "https://v.example/b"


async def test_update_and_delete(
    client: httpx.AsyncClient, api: Api, teacher: Account, course_id: int
) -> None:
    lesson = await add_lesson(client, teacher, course_id, "Old", notes="<p>n</p>", duration=5)
    other = await add_lesson(client, teacher, course_id, "Other")
    url = f"/api/courses/{course_id}/lessons/{lesson['id']}"
    updated = await client.put(url, headers=teacher.headers, json={"title": " New ", "duration": 45})
    assert updated.status_code == 200, updated.text
    body: dict[str, Any] = updated.json()
    assert (body["title"], body["duration"], body["duration_minutes"], body["notes"], body["content"]) == (
        "New",
        "45 min",
        45,
        "<p>n</p>",
        "<p>Old</p>",
    )
    assert body["message"] == "Lesson updated successfully"
    assert body["updated_at"] >= lesson["updated_at"] and body["created_at"] == lesson["created_at"]
    assert body["created_at"].endswith("Z")
    # null (or blank) notes and title keep what is stored; `clear` erases the notes.
    kept = await client.put(url, headers=teacher.headers, json={"notes": None, "title": None})
    assert kept.json()["notes"] == "<p>n</p>" and kept.json()["title"] == "New"
    cleared = await client.put(url, headers=teacher.headers, json={"clear": ["notes"]})
    assert cleared.json()["notes"] is None and cleared.json()["content"] == "<p>Old</p>"

    gone = await client.delete(url, headers=teacher.headers)
    assert gone.status_code == 200 and gone.json() == {"message": "Lesson deleted successfully"}
    assert error_code(await client.delete(url, headers=teacher.headers), 404) == "lesson_not_found"
    assert (
        error_code(await client.put(url, headers=teacher.headers, json={"title": "x"}), 404)
        == "lesson_not_found"
    )
    assert [title for title, _ in await syllabus(client, teacher, course_id)] == ["Other"]
    assert [doc["_id"] for doc in await lesson_docs(api.runtime, course_id)] == [other["id"]]


async def test_admin_manages_any_course_lessons(
    client: httpx.AsyncClient, api: Api, teacher: Account, course_id: int
) -> None:
    admin = await quick_account(api.runtime, "admin")
    lesson = await add_lesson(client, admin, course_id, "By admin")
    changed = await client.put(
        f"/api/courses/{course_id}/lessons/{lesson['id']}",
        headers=admin.headers,
        json={"title": "Admin edit"},
    )
    assert changed.status_code == 200
    assert (
        await client.delete(f"/api/courses/{course_id}/lessons/{lesson['id']}", headers=admin.headers)
    ).status_code == 200


async def test_lesson_audit_rows_carry_the_lesson_id(
    client: httpx.AsyncClient, api: Api, teacher: Account, course_id: int
) -> None:
    lesson = await add_lesson(client, teacher, course_id, "Audited")
    url = f"/api/courses/{course_id}/lessons/{lesson['id']}"
    await client.put(url, headers=teacher.headers, json={"title": "Audited 2"})
    await client.delete(url, headers=teacher.headers)
    rows = [row for row in await audit_rows(api.runtime) if row.action.startswith("lesson_")]
    assert [(row.action, row.resource_type, row.resource_id, row.user_id) for row in rows] == [
        ("lesson_created", "lesson", lesson["id"], teacher.id),
        ("lesson_updated", "lesson", lesson["id"], teacher.id),
        ("lesson_deleted", "lesson", lesson["id"], teacher.id),
    ]
    assert all(row.details["course_id"] == course_id for row in rows)
    assert rows[0].details["title"] == "Audited" and rows[1].details["fields"] == ["title"]
    assert len(lesson["id"]) == 32 and not lesson["id"].isdigit()


async def test_learners_get_full_lessons_only_when_enrolled(
    client: httpx.AsyncClient, api: Api, teacher: Account, course_id: int
) -> None:
    await add_lesson(client, teacher, course_id, "Secret", content="<p>paid content</p>", notes="<p>n</p>")
    learner = await quick_account(api.runtime, "learner")
    detail = (await client.get(f"/api/courses/{course_id}", headers=learner.headers)).json()
    assert detail["lessons"][0]["content"] is None and detail["lessons"][0]["notes"] is None
    assert (
        error_code(await client.get(f"/api/courses/{course_id}/lessons", headers=learner.headers), 403)
        == "not_enrolled"
    )
    await enroll(client, learner, course_id)
    (lesson,) = (await client.get(f"/api/courses/{course_id}/lessons", headers=learner.headers)).json()
    assert lesson["content"] == "<p>paid content</p>" and lesson["notes"] == "<p>n</p>"
    assert lesson["course_id"] == course_id
    # Enrolled, the course page carries the same content.
    detail = (await client.get(f"/api/courses/{course_id}", headers=learner.headers)).json()
    assert detail["lessons"] == [lesson]


async def test_concurrent_additions_get_distinct_orders(
    client: httpx.AsyncClient, teacher: Account, course_id: int
) -> None:
    responses = await asyncio.gather(
        *[
            client.post(
                f"/api/courses/{course_id}/lessons",
                headers=teacher.headers,
                json={"title": f"C{n}", "type": "text"},
            )
            for n in range(8)
        ]
    )
    assert [response.status_code for response in responses] == [201] * 8
    assert sorted(order for _, order in await syllabus(client, teacher, course_id)) == list(range(8))


def test_image_sources_follow_the_configuration() -> None:
    plain = image_sources(make_settings())
    assert plain == ("/media/",)
    configured = image_sources(
        make_settings(
            cloudinary_url="cloudinary://key:secret@learnflow-demo",
            lesson_image_sources="https://images.example.com, https://cdn.example.org/lessons/",
        )
    )
    assert configured == (
        "/media/",
        "https://images.example.com/",
        "https://cdn.example.org/lessons/",
        "https://res.cloudinary.com/learnflow-demo/",
    )
    kept = [
        "https://res.cloudinary.com/learnflow-demo/image/upload/v1/a.png",
        "https://images.example.com/x.png",
        "https://cdn.example.org/lessons/y.png",
    ]
    dropped = [
        "https://res.cloudinary.com/someone-else/image/upload/v1/a.png",
        "https://images.example.com.evil.example/x.png",  # a prefix is a host and path, never extendable
        "https://cdn.example.org/other/y.png",
        "http://images.example.com/x.png",
    ]
    for src in kept:
        assert sanitize_html(f'<img src="{src}">', images_from=configured) == f'<img src="{src}">'
    for src in dropped:
        assert sanitize_html(f'<img src="{src}">', images_from=configured) == "<img>", src
