"""Every endpoint of the original LearnFlow API, called as its clients call it, answers with the original's
shape: the same top level (array or object), every original field present with its JSON type. Extra
fields are fine; a missing or re-typed original field fails, naming the case and the JSON path.

The cases are a table (who calls, what, with which body) checked against the shapes of original.py.
Placeholders in a path name the scene's resources ({course}, {lesson}, {post}, {learner}, {admin}) or
fresh ones for writes ({fresh_course}, {fresh_lesson}, {fresh_post}, {fresh_user}).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.routing import Route

from app.auth.cookies import STATE_COOKIE
from app.main import create_app
from app.runtime import StoreUrls
from tests.auth.test_google import start_url
from tests.compat import original as o
from tests.compat.scene import Scene, course_form, lesson_form
from tests.compat.shapes import Shape, validate
from tests.conftest import make_settings
from tests.helpers import PASSWORD
from tests.media.samples import png
from tests.standins.google_provider import GoogleProfile

Body = dict[str, Any] | Callable[[Scene], Awaitable[dict[str, Any]]]
_emails = itertools.count(1)


@dataclass(frozen=True)
class Case:
    who: str  # "anonymous", "admin", "learner" (enrolled), "other" (a learner not enrolled)
    method: str
    path: str
    shape: Shape
    body: Body | None = None
    query: dict[str, Any] | None = None
    upload: bool = False
    status: int | None = None  # None: any success
    note: str = ""

    @property
    def endpoint(self) -> str:
        return f"{self.method} {re.sub(r'{[a-z_]+}', '{}', self.path)}"

    @property
    def label(self) -> str:
        return f"{self.method} {self.path} as {self.who}" + (f" ({self.note})" if self.note else "")


async def _register(scene: Scene) -> dict[str, Any]:
    return {
        "email": f"compat{next(_emails)}@example.com",
        "password": PASSWORD,
        "first_name": "New",
        "last_name": "Learner",
        "role": "learner",
    }


async def _login(scene: Scene) -> dict[str, Any]:
    return {"email": scene.learner.email, "password": PASSWORD}


async def _google_callback(scene: Scene) -> dict[str, Any]:
    code = scene.extras["google"].add_code(
        GoogleProfile(sub=f"sub-{next(_emails)}", email=f"g{next(_emails)}@gmail.com")
    )
    # The state is bound to the browser that asked for it (its cookie), as a browser would send it back.
    started = await start_url(scene.client)
    scene.client.cookies.set(STATE_COOKIE, started.nonce, path="/api/auth/google")
    return {"code": code, "state": started.state}


async def _progress(scene: Scene) -> dict[str, Any]:
    return {"lesson_id": scene.lesson_ids[0], "completed": True}


async def _telemetry(scene: Scene) -> dict[str, Any]:
    return {"lesson_id": scene.lesson_ids[1], "seconds_spent": 10}


# What the original web client sends: its profile form (which the original ignored) and its post form.
PROFILE_FORM = {"firstName": "Ada", "lastName": "L", "email": "x@y.z"}
POST_FORM = {"content": "Hi", "is_private": False}

# fmt: off
CASES: list[Case] = [
    # §2 auth
    Case("anonymous", "POST", "/api/auth/register", o.TOKEN, _register),
    Case("anonymous", "POST", "/api/auth/login", o.TOKEN, _login),
    Case("learner", "GET", "/api/auth/me", o.USER),
    Case("learner", "PUT", "/api/auth/profile", o.USER, PROFILE_FORM, note="the original web client's body"),
    Case("anonymous", "GET", "/api/auth/google/url", o.GOOGLE_URL),
    Case("anonymous", "POST", "/api/auth/google/callback", o.TOKEN, _google_callback),
    # §3 users
    Case("admin", "GET", "/api/users", o.listing(o.USER)),
    Case("admin", "GET", "/api/users/{learner}", o.USER),
    Case("admin", "PUT", "/api/users/{fresh_user}/role", o.ROLE_CHANGED, {"role": "admin"}),
    Case("admin", "POST", "/api/users/{fresh_user}/block", o.BLOCKED),
    Case("admin", "GET", "/api/admin/students/{learner}/stats", o.STUDENT_STATS),
    # §4 courses
    Case("anonymous", "GET", "/api/categories", o.CATEGORIES),
    Case("anonymous", "GET", "/api/courses", o.listing(o.COURSE_ITEM)),
    Case("learner", "GET", "/api/courses", o.listing(o.COURSE_ITEM)),
    Case("anonymous", "GET", "/api/courses/{course}", o.COURSE_DETAIL),
    Case("learner", "GET", "/api/courses/{course}", o.COURSE_DETAIL),
    Case("admin", "GET", "/api/courses/{course}", o.COURSE_DETAIL),
    Case("admin", "POST", "/api/courses", o.NEW_COURSE, course_form("Created by the original client")),
    Case("admin", "PUT", "/api/courses/{fresh_course}", o.COURSE_DETAIL, {"title": "Renamed"}),
    Case("admin", "DELETE", "/api/courses/{fresh_course}", o.MESSAGE),
    Case("admin", "GET", "/api/courses/with-enrollments", o.listing(o.COURSE_WITH_ENROLLMENTS)),
    # §5 lessons
    Case("learner", "GET", "/api/courses/{course}/lessons", o.listing(o.LESSON)),
    Case("admin", "POST", "/api/courses/{course}/lessons", o.LESSON_CREATED, lesson_form("Added", "7 min")),
    Case("admin", "PUT", "/api/courses/{course}/lessons/{fresh_lesson}", o.MESSAGE, lesson_form("Ed", "")),
    Case("admin", "DELETE", "/api/courses/{course}/lessons/{fresh_lesson}", o.MESSAGE),
    # §6 enrollment and progress
    Case("learner", "POST", "/api/courses/{enrollable_course}/enroll", o.MESSAGE),
    Case("learner", "DELETE", "/api/courses/{enrolled_course}/unenroll", o.MESSAGE),
    Case("learner", "GET", "/api/courses/{course}/progress", o.PROGRESS_WITH_RECORD),
    Case("other", "GET", "/api/courses/{course}/progress", o.PROGRESS, note="not enrolled"),
    Case("admin", "GET", "/api/courses/{course}/progress", o.PROGRESS, note="admin previewing"),
    Case("learner", "POST", "/api/courses/{course}/progress", o.PROGRESS_WITH_RECORD, _progress),
    Case("learner", "GET", "/api/my-progress", o.listing(o.PROGRESS_RECORD)),
    # §7 learner dashboard
    Case("learner", "GET", "/api/learner/stats", o.LEARNER_STATS),
    Case("learner", "GET", "/api/learner/enrollments", o.listing(o.LEARNER_ENROLLMENT)),
    # §8 telemetry and leaderboard
    Case("learner", "POST", "/api/courses/{course}/telemetry", o.TELEMETRY, _telemetry),
    Case("learner", "GET", "/api/courses/{course}/leaderboard", o.listing(o.LEADERBOARD_ENTRY)),
    Case("admin", "GET", "/api/courses/{course}/leaderboard", o.listing(o.LEADERBOARD_ENTRY)),
    # §9 discussions and private course messages
    Case("learner", "GET", "/api/courses/{course}/discussions", o.listing(o.COMMENT)),
    Case("admin", "GET", "/api/courses/{course}/discussions", o.listing(o.COMMENT)),
    Case("learner", "POST", "/api/courses/{course}/discussions", o.COMMENT, POST_FORM),
    Case("learner", "PUT", "/api/discussions/{fresh_post}", o.COMMENT, POST_FORM),
    Case("admin", "DELETE", "/api/discussions/{fresh_post}", o.MESSAGE),
    Case("admin", "POST", "/api/discussions/{fresh_post}/vote", o.MESSAGE, {"vote_type": 1}),
    Case("admin", "POST", "/api/discussions/{private_post}/reply", o.MESSAGE, {"content": "More help"}),
    Case("learner", "GET", "/api/my-messages", o.listing(o.COURSE_MESSAGE)),
    Case("admin", "GET", "/api/admin/messages", o.listing(o.COURSE_MESSAGE)),
    # §10 direct messages
    Case("admin", "GET", "/api/chat-partners", o.listing(o.CHAT_PARTNER)),
    Case("learner", "GET", "/api/chat-partners", o.listing(o.CHAT_PARTNER)),
    Case("admin", "GET", "/api/chats", o.listing(o.CHAT)),
    Case("learner", "GET", "/api/chats", o.listing(o.CHAT)),
    Case("admin", "GET", "/api/chats/{learner}", o.listing(o.DIRECT_MESSAGE)),
    Case("admin", "POST", "/api/chats/{learner}", o.DIRECT_MESSAGE, {"content": "How is it going?"}),
    Case("learner", "PUT", "/api/chats/{admin}/read", o.MESSAGE),
    # §11 analytics
    Case("admin", "GET", "/api/analytics/stats", o.ANALYTICS_STATS),
    Case("admin", "GET", "/api/analytics/categories", o.listing(o.CATEGORY_SHARE)),
    Case("admin", "GET", "/api/analytics/enrollment-trends", o.listing(o.TREND_POINT), query={"days": 7}),
    Case("admin", "GET", "/api/analytics/user-growth", o.listing(o.GROWTH_POINT), query={"months": 6}),
    Case("admin", "GET", "/api/analytics/insights", o.INSIGHTS),
    # §12 reports and audit log (the original client sends `limit` to every report)
    Case("admin", "GET", "/api/reports/courses", o.COURSE_REPORT, query={"limit": 10}),
    Case("admin", "GET", "/api/reports/students", o.STUDENT_REPORT, query={"limit": 10}),
    Case("admin", "GET", "/api/reports/users", o.USER_REPORT, query={"limit": 50}),
    Case("admin", "GET", "/api/reports/activity", o.ACTIVITY_REPORT, query={"limit": 20}),
    Case("admin", "GET", "/api/audit-logs", o.listing(o.AUDIT_ENTRY), query={"limit": 25}),
    # §13 media and health
    Case("admin", "POST", "/api/upload", o.UPLOAD, upload=True),
    Case("anonymous", "GET", "/api/health", o.HEALTH),
    # §1 errors: a string `detail` for most, a list for validation errors
    Case("anonymous", "GET", "/api/auth/me", o.ERROR, status=401, note="no token"),
    Case("learner", "GET", "/api/users", o.ERROR, status=403, note="learner on an admin route"),
    Case("learner", "GET", "/api/courses/987654", o.ERROR, status=404, note="no such course"),
    Case("anonymous", "GET", "/api/nothing-here", o.ERROR, status=404, note="unknown path"),
    Case("anonymous", "DELETE", "/api/categories", o.ERROR, status=405, note="wrong method"),
    Case("anonymous", "POST", "/api/auth/login", o.VALIDATION_ERROR, {"email": "x"}, status=422),
    Case("admin", "POST", "/api/courses/{course}/lessons", o.VALIDATION_ERROR, {"type": "audio"}, status=422),
]
# fmt: on

# The original's endpoints (every section of its reference); each must have a case above, or a reason here.
ORIGINAL_ENDPOINTS = {
    "POST /api/auth/register",
    "POST /api/auth/login",
    "GET /api/auth/me",
    "PUT /api/auth/profile",
    "GET /api/auth/google/url",
    "POST /api/auth/google/callback",
    "GET /api/users",
    "GET /api/users/{}",
    "PUT /api/users/{}/role",
    "POST /api/users/{}/block",
    "GET /api/admin/students/{}/stats",
    "GET /api/categories",
    "GET /api/courses",
    "GET /api/courses/{}",
    "POST /api/courses",
    "PUT /api/courses/{}",
    "DELETE /api/courses/{}",
    "GET /api/courses/with-enrollments",
    "GET /api/courses/{}/lessons",
    "POST /api/courses/{}/lessons",
    "PUT /api/courses/{}/lessons/{}",
    "DELETE /api/courses/{}/lessons/{}",
    "POST /api/courses/{}/enroll",
    "DELETE /api/courses/{}/unenroll",
    "GET /api/courses/{}/progress",
    "POST /api/courses/{}/progress",
    "GET /api/my-progress",
    "GET /api/learner/stats",
    "GET /api/learner/enrollments",
    "POST /api/courses/{}/telemetry",
    "GET /api/courses/{}/leaderboard",
    "GET /api/courses/{}/discussions",
    "POST /api/courses/{}/discussions",
    "PUT /api/discussions/{}",
    "DELETE /api/discussions/{}",
    "POST /api/discussions/{}/vote",
    "POST /api/discussions/{}/reply",
    "GET /api/my-messages",
    "GET /api/admin/messages",
    "GET /api/chat-partners",
    "GET /api/chats",
    "GET /api/chats/{}",
    "POST /api/chats/{}",
    "PUT /api/chats/{}/read",
    "GET /api/analytics/stats",
    "GET /api/analytics/categories",
    "GET /api/analytics/enrollment-trends",
    "GET /api/analytics/user-growth",
    "GET /api/analytics/insights",
    "GET /api/reports/courses",
    "GET /api/reports/students",
    "GET /api/reports/users",
    "GET /api/reports/activity",
    "GET /api/audit-logs",
    "POST /api/upload",
    "GET /api/health",
    "GET /",
}
NOT_JSON = {"GET /": 'the web app is served at / (README, "Compatibility with the original API")'}


@pytest.mark.parametrize("case", CASES, ids=[case.label for case in CASES])
async def test_the_original_shape(scene: Scene, case: Case) -> None:
    path = case.path
    for name in re.findall(r"{([a-z_]+)}", path):
        path = path.replace("{" + name + "}", await scene.placeholder(name), 1)
    request: dict[str, Any] = {"headers": scene.headers(case.who), "params": case.query}
    if case.upload:
        request["files"] = {"file": ("picture.png", png(), "image/png")}
        request["data"] = {"folder": "learnflow/courses"}
    elif case.body is not None:
        request["json"] = case.body if isinstance(case.body, dict) else await case.body(scene)
    response = await scene.client.request(case.method, path, **request)
    if case.status is None:
        assert response.is_success, response.text
    else:
        assert response.status_code == case.status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    problems = validate(case.shape, response.json())
    assert not problems, "\n".join(problems)
    if case.status == 401:
        assert response.headers["www-authenticate"] == "Bearer"


def test_every_original_endpoint_has_a_case() -> None:
    covered = {case.endpoint for case in CASES if case.status is None}
    assert ORIGINAL_ENDPOINTS - covered - set(NOT_JSON) == set()


def test_every_original_endpoint_is_served(store_urls: StoreUrls) -> None:
    """The original's paths all exist here (same method, same path), except those listed in NOT_JSON."""
    app = create_app(make_settings(), store_urls)
    served = {
        f"{method} {re.sub(r'{[^}]+}', '{}', route.path)}"
        for route in app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
    }
    assert ORIGINAL_ENDPOINTS - served - set(NOT_JSON) == set()
