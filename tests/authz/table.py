"""The authorization matrix as data: every route and every channel against nine kinds of caller.

The world the rows are read against (built by tests/authz/world.py): a published course owned by the
course owner, with a lesson, whose leaderboard is public; the enrolled learner, the other learner, the
blocked learner and the deactivated learner are enrolled in it; the enrolled learner wrote a public
post and a private one there. Two more courses alike serve the rows that say so: one whose leaderboard
is not public, and a draft (unpublished after the enrollments). Path parameters name, unless a row says
otherwise: the course (course_id), its lesson (lesson_id), the enrolled learner's public post
(comment_id), the course owner as chat partner (partner_id) and the enrolled learner as user or student
(user_id).

A `fresh_...` binding is made anew for every cell (a throwaway course with the same people in the same
relations, deleted again after the cell; a new lesson, post or user), so a write that succeeds never
changes what later cells see; rows marked `fresh_caller` use, for every cell, a new account in the
caller's role and state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PRINCIPALS = (
    "anonymous",  # no token at all
    "learner",  # a signed-in learner, enrolled in nothing
    "other_learner",  # a learner enrolled in the course who owns none of the resources the rows name
    "enrolled",  # the enrolled learner: author of the posts, the student of the stats route
    "owner",  # the instructor who owns the course
    "other_instructor",  # an instructor who owns nothing here
    "admin",
    "blocked",  # a learner enrolled in the course, then blocked
    "deactivated",  # a learner enrolled in the course, then deactivated; their token has not expired
)

HEADINGS = {
    "anonymous": "anon",
    "learner": "learner",
    "other_learner": "other learner",
    "enrolled": "enrolled",
    "owner": "owner",
    "other_instructor": "other instr.",
    "admin": "admin",
    "blocked": "blocked",
    "deactivated": "deact.",
}

DEFAULT_BINDINGS = {
    "course_id": "course",
    "lesson_id": "lesson",
    "comment_id": "post",
    "partner_id": "owner",
    "user_id": "enrolled",
}


def codes(*statuses: int | str) -> dict[str, int | str]:
    assert len(statuses) == len(PRINCIPALS)
    return dict(zip(PRINCIPALS, statuses, strict=True))


@dataclass(frozen=True)
class Row:
    """One REST route, as the app declares it (`{course_id:int}` and all), with what its parameters name."""

    method: str
    path: str
    expected: dict[str, int | str]
    bind: dict[str, str] = field(default_factory=dict)
    note: str = ""
    fresh_caller: bool = False
    # The error code of a 401 for a signed-in caller (sign-in answers a deactivated account's right
    # password like a wrong one).
    refusal: str = "account_deactivated"

    @property
    def route(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def shown(self) -> str:
        return f"{self.method} {self.path.replace(':int', '')}"

    @property
    def label(self) -> str:
        return self.shown + (f" ({self.note})" if self.note else "")

    def binding(self, param: str) -> str:
        return self.bind.get(param, DEFAULT_BINDINGS.get(param, param))


@dataclass(frozen=True)
class Channel:
    """One WebSocket channel pattern; `{...}` names what the id is, resolved per caller by the world."""

    pattern: str
    expected: dict[str, int | str]
    note: str = ""

    @property
    def shown(self) -> str:
        return re.sub(r"\{[a-z_]+\}", "{id}", self.pattern)

    @property
    def label(self) -> str:
        return f"WS {self.shown}" + (f" ({self.note})" if self.note else "")


# REST cells are HTTP statuses. Reading stays open to blocked users; writing (posting, voting, rating,
# messaging, enrolling, heartbeats, uploads, profile edits) does not. A deactivated user's token is
# refused everywhere authentication is looked at (401); routes that ignore tokens answer as usual.
# fmt: off
ROWS: list[Row] = [
    #                                                    anon lrn o-lrn enr owner o-ins admin blckd deact
    # auth
    Row("POST", "/api/auth/register",                    codes(201, 201, 201, 201, 201, 201, 201, 201, 201),
        note="a new email"),
    Row("POST", "/api/auth/login",                       codes(200, 200, 200, 200, 200, 200, 200, 200, 401),
        note="one's own credentials; anon: another user's; deact.: `invalid_credentials`",
        refusal="invalid_credentials"),
    Row("POST", "/api/auth/refresh",                     codes(200, 200, 200, 200, 200, 200, 200, 200, 401),
        fresh_caller=True, note="a new account per cell, its own refresh token"),
    Row("POST", "/api/auth/logout",                      codes(401, 200, 200, 200, 200, 200, 200, 200, 401),
        fresh_caller=True, note="a new account per cell"),
    Row("GET",  "/api/auth/me",                          codes(401, 200, 200, 200, 200, 200, 200, 200, 401)),
    Row("PUT",  "/api/auth/profile",                     codes(401, 200, 200, 200, 200, 200, 200, 403, 401)),
    Row("PUT",  "/api/auth/password",                    codes(401, 200, 200, 200, 200, 200, 200, 200, 401),
        fresh_caller=True, note="a new account per cell"),
    Row("GET",  "/api/auth/google/url",                  codes(503, 503, 503, 503, 503, 503, 503, 503, 503),
        note="Google sign-in not configured"),
    Row("POST", "/api/auth/google/callback",             codes(503, 503, 503, 503, 503, 503, 503, 503, 503),
        note="Google sign-in not configured"),
    # users (admin)
    Row("GET",  "/api/users",                            codes(401, 403, 403, 403, 403, 403, 200, 403, 401)),
    Row("GET",  "/api/users/{user_id:int}",              codes(401, 403, 403, 403, 403, 403, 200, 403, 401)),
    Row("PUT",  "/api/users/{user_id:int}/role",         codes(401, 403, 403, 403, 403, 403, 200, 403, 401),
        bind={"user_id": "fresh_user"}, note="a new user"),
    Row("POST", "/api/users/{user_id:int}/block",        codes(401, 403, 403, 403, 403, 403, 200, 403, 401),
        bind={"user_id": "fresh_user"}, note="a new user"),
    Row("POST", "/api/users/{user_id:int}/deactivate",   codes(401, 403, 403, 403, 403, 403, 200, 403, 401),
        bind={"user_id": "fresh_user"}, note="a new user"),
    Row("GET",  "/api/admin/students/{user_id:int}/stats",
                                                         codes(401, 403, 403, 403, 200, 404, 200, 403, 401)),
    # courses
    Row("GET",  "/api/courses",                          codes(200, 200, 200, 200, 200, 200, 200, 200, 401)),
    Row("GET",  "/api/categories",                       codes(200, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET",  "/api/categories/counts",                codes(200, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET",  "/api/courses/with-enrollments",         codes(401, 403, 403, 403, 200, 200, 200, 403, 401)),
    Row("POST", "/api/courses",                          codes(401, 403, 403, 403, 201, 201, 201, 403, 401)),
    Row("GET",  "/api/courses/{course_id:int}",          codes(200, 200, 200, 200, 200, 200, 200, 200, 401)),
    Row("GET",  "/api/courses/{course_id:int}",          codes(404, 404, 404, 404, 200, 404, 200, 404, 401),
        bind={"course_id": "draft"}, note="a draft course"),
    Row("PUT",  "/api/courses/{course_id:int}",          codes(401, 403, 403, 403, 200, 403, 200, 403, 401)),
    Row("DELETE", "/api/courses/{course_id:int}",        codes(401, 403, 403, 403, 200, 403, 200, 403, 401),
        bind={"course_id": "fresh_course"}, note="a throwaway course"),
    Row("PUT",  "/api/courses/{course_id:int}/rating",   codes(401, 403, 200, 200, 403, 403, 403, 403, 401)),
    Row("GET",  "/api/courses/{course_id:int}/ratings",  codes(200, 200, 200, 200, 200, 200, 200, 200, 401)),
    Row("GET",  "/api/courses/{course_id:int}/leaderboard",
                                                         codes(401, 403, 200, 200, 200, 403, 200, 200, 401),
        note="public leaderboard"),
    Row("GET",  "/api/courses/{course_id:int}/leaderboard",
                                                         codes(401, 403, 403, 403, 200, 403, 200, 403, 401),
        bind={"course_id": "hidden_board"}, note="leaderboard not public"),
    # lessons
    Row("GET",  "/api/courses/{course_id:int}/lessons",  codes(401, 403, 200, 200, 200, 403, 200, 200, 401)),
    Row("GET",  "/api/courses/{course_id:int}/lessons",  codes(401, 404, 404, 404, 200, 404, 200, 404, 401),
        bind={"course_id": "draft"}, note="a draft course"),
    Row("POST", "/api/courses/{course_id:int}/lessons",  codes(401, 403, 403, 403, 201, 403, 201, 403, 401)),
    Row("PUT",  "/api/courses/{course_id:int}/lessons/order",
                                                         codes(401, 403, 403, 403, 200, 403, 200, 403, 401)),
    Row("PUT",  "/api/courses/{course_id:int}/lessons/{lesson_id}",
                                                         codes(401, 403, 403, 403, 200, 403, 200, 403, 401)),
    Row("DELETE", "/api/courses/{course_id:int}/lessons/{lesson_id}",
                                                         codes(401, 403, 403, 403, 200, 403, 200, 403, 401),
        bind={"lesson_id": "fresh_lesson"}, note="a new lesson"),
    # enrollment, progress, time tracking
    Row("POST", "/api/courses/{course_id:int}/enroll",   codes(401, 201, 409, 409, 400, 201, 201, 403, 401),
        bind={"course_id": "fresh_course"}, note="a throwaway course"),
    Row("POST", "/api/courses/{course_id:int}/enroll",   codes(401, 404, 404, 404, 400, 404, 400, 403, 401),
        bind={"course_id": "draft"}, note="a draft course"),
    Row("DELETE", "/api/courses/{course_id:int}/unenroll",
                                                         codes(401, 404, 200, 200, 404, 404, 404, 200, 401),
        bind={"course_id": "fresh_course"}, note="a throwaway course"),
    Row("GET",  "/api/courses/{course_id:int}/progress", codes(401, 200, 200, 200, 200, 200, 200, 200, 401),
        note="empty when not enrolled"),
    Row("POST", "/api/courses/{course_id:int}/progress", codes(401, 403, 200, 200, 403, 403, 403, 200, 401)),
    Row("POST", "/api/courses/{course_id:int}/telemetry",
                                                         codes(401, 403, 202, 202, 403, 403, 403, 403, 401)),
    Row("GET",  "/api/my-progress",                      codes(401, 200, 200, 200, 200, 200, 200, 200, 401)),
    Row("GET",  "/api/learner/stats",                    codes(401, 200, 200, 200, 200, 200, 200, 200, 401)),
    Row("GET",  "/api/learner/enrollments",              codes(401, 200, 200, 200, 200, 200, 200, 200, 401)),
    # discussions
    Row("GET",  "/api/courses/{course_id:int}/discussions",
                                                         codes(401, 403, 200, 200, 200, 403, 200, 200, 401)),
    Row("GET",  "/api/courses/{course_id:int}/discussions",
                                                         codes(401, 404, 404, 404, 200, 404, 200, 404, 401),
        bind={"course_id": "draft"}, note="a draft course"),
    Row("POST", "/api/courses/{course_id:int}/discussions",
                                                         codes(401, 403, 201, 201, 201, 403, 201, 403, 401)),
    Row("PUT",  "/api/discussions/{comment_id:int}",     codes(401, 403, 403, 200, 200, 403, 200, 403, 401)),
    Row("PUT",  "/api/discussions/{comment_id:int}",     codes(401, 403, 404, 200, 200, 403, 200, 403, 401),
        bind={"comment_id": "private_post"}, note="a private post"),
    Row("DELETE", "/api/discussions/{comment_id:int}",   codes(401, 403, 403, 200, 200, 403, 200, 403, 401),
        bind={"comment_id": "fresh_post"}, note="a new post"),
    Row("POST", "/api/discussions/{comment_id:int}/vote",
                                                         codes(401, 403, 200, 403, 200, 403, 200, 403, 401)),
    Row("POST", "/api/discussions/{comment_id:int}/vote",
                                                         codes(401, 403, 404, 403, 200, 403, 200, 403, 401),
        bind={"comment_id": "private_post"}, note="a private post"),
    Row("POST", "/api/discussions/{comment_id:int}/reply",
                                                         codes(401, 403, 403, 403, 201, 403, 201, 403, 401)),
    Row("GET",  "/api/my-messages",                      codes(401, 200, 200, 200, 200, 200, 200, 200, 401)),
    Row("GET",  "/api/admin/messages",                   codes(401, 403, 403, 403, 200, 200, 200, 403, 401)),
    # direct messages (the partner is the course owner, so the owner's own cells talk to themselves)
    Row("GET",  "/api/chat-partners",                    codes(401, 200, 200, 200, 200, 200, 200, 200, 401)),
    Row("GET",  "/api/chats",                            codes(401, 200, 200, 200, 200, 200, 200, 200, 401)),
    Row("GET",  "/api/chats/{partner_id:int}",           codes(401, 404, 200, 200, 400, 404, 200, 200, 401),
        note="404 for who may not message the owner: an unknown id looks the same"),
    Row("POST", "/api/chats/{partner_id:int}",           codes(401, 404, 201, 201, 400, 404, 201, 403, 401)),
    Row("PUT",  "/api/chats/{partner_id:int}/read",      codes(401, 404, 200, 200, 400, 404, 200, 200, 401)),
    # analytics, reports, audit (instructors: scoped to their own courses)
    Row("GET",  "/api/analytics/stats",                  codes(401, 403, 403, 403, 200, 200, 200, 403, 401)),
    Row("GET",  "/api/analytics/categories",             codes(401, 403, 403, 403, 200, 200, 200, 403, 401)),
    Row("GET",  "/api/analytics/enrollment-trends",      codes(401, 403, 403, 403, 200, 200, 200, 403, 401)),
    Row("GET",  "/api/analytics/user-growth",            codes(401, 403, 403, 403, 200, 200, 200, 403, 401)),
    Row("GET",  "/api/analytics/insights",               codes(401, 403, 403, 403, 200, 200, 200, 403, 401)),
    Row("GET",  "/api/analytics/live",                   codes(401, 403, 403, 403, 403, 403, 200, 403, 401)),
    Row("GET",  "/api/reports/courses",                  codes(401, 403, 403, 403, 200, 200, 200, 403, 401)),
    Row("GET",  "/api/reports/students",                 codes(401, 403, 403, 403, 200, 200, 200, 403, 401)),
    Row("GET",  "/api/reports/users",                    codes(401, 403, 403, 403, 403, 403, 200, 403, 401)),
    Row("GET",  "/api/reports/activity",                 codes(401, 403, 403, 403, 200, 200, 200, 403, 401)),
    Row("GET",  "/api/audit-logs",                       codes(401, 403, 403, 403, 200, 200, 200, 403, 401)),
    # media
    Row("POST", "/api/upload",                           codes(401, 403, 403, 403, 201, 201, 201, 403, 401),
        note="a PNG"),
    # operations and documentation (public; tokens are not looked at)
    Row("GET",  "/api/health",                           codes(200, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET",  "/api/ready",                            codes(200, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET",  "/metrics",                              codes(200, 200, 200, 200, 200, 200, 200, 200, 200),
        note="from this machine; elsewhere 403, or METRICS_TOKEN"),
    Row("GET",  "/api/openapi.json",                     codes(200, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET",  "/api/docs",                             codes(200, 200, 200, 200, 200, 200, 200, 200, 200)),
    Row("GET",  "/api/docs/init.js",                     codes(200, 200, 200, 200, 200, 200, 200, 200, 200)),
]

# Channel cells: `ok` (subscribed), `forbidden` (the error reply; the connection stays open), or the close
# code when the connection cannot be authenticated at all (4001: no `auth` frame first, or the token was
# refused, e.g. a deactivated account's).
OK, NO, CLOSED = "ok", "forbidden", "4001"
CHANNELS: list[Channel] = [
    #                                                anon    lrn o-lrn enr owner o-ins admin blckd deact
    Channel("user:{self}",                       codes(CLOSED, OK, OK,   OK, OK,   OK,   OK,   OK, CLOSED),
            note="one's own"),
    Channel("user:{bystander}",                  codes(CLOSED, NO, NO,   NO, NO,   NO,   NO,   NO, CLOSED),
            note="another user's"),
    Channel("course:{course}:discussion",        codes(CLOSED, NO, OK,   OK, OK,   NO,   OK,   OK, CLOSED)),
    Channel("course:{draft}:discussion",         codes(CLOSED, NO, NO,   NO, OK,   NO,   OK,   NO, CLOSED),
            note="a draft course"),
    Channel("course:{course}:leaderboard",       codes(CLOSED, NO, OK,   OK, OK,   NO,   OK,   OK, CLOSED),
            note="public leaderboard"),
    Channel("course:{hidden_board}:leaderboard", codes(CLOSED, NO, NO,   NO, OK,   NO,   OK,   NO, CLOSED),
            note="leaderboard not public"),
    Channel("course:{course}:activity",          codes(CLOSED, NO, NO,   NO, OK,   NO,   OK,   NO, CLOSED)),
    Channel("admin:analytics",                   codes(CLOSED, NO, NO,   NO, NO,   NO,   OK,   NO, CLOSED)),
]
# fmt: on
