"""Who may see and do what with a course (docs/PRODUCT.md), in one place for every course-scoped domain."""

from __future__ import annotations

from typing import Protocol

from app.courses import store
from app.courses.store import CourseAccess
from app.errors import Forbidden, NotFound
from app.security.principal import Principal
from app.stores.models import Course
from app.stores.sql import Database, Tx


class OwnedCourse(Protocol):
    """What the access rules read of a course: a loaded `Course` or a `CourseAccess`."""

    @property
    def is_published(self) -> bool: ...

    @property
    def instructor_id(self) -> int: ...


def can_manage(principal: Principal | None, course: OwnedCourse) -> bool:
    """Admins manage every course; instructors only those they own."""
    return can_manage_course(principal, course.instructor_id)


def can_manage_course(principal: Principal | None, instructor_id: int) -> bool:
    if principal is None:
        return False
    return principal.role == "admin" or (
        principal.role == "instructor" and instructor_id == principal.user_id
    )


def can_see(principal: Principal | None, course: OwnedCourse) -> bool:
    return course.is_published or can_manage(principal, course)


def _no_such_course() -> NotFound:
    return NotFound("No such course.", code="course_not_found")


async def visible_course(tx: Tx, principal: Principal | None, course_id: int) -> Course:
    """The course, or 404 when it does not exist or is a draft the caller may not see."""
    course = await store.get(tx, course_id)
    if course is None or not can_see(principal, course):
        raise _no_such_course()
    return course


async def managed_course(tx: Tx, principal: Principal, course_id: int, *, for_update: bool = False) -> Course:
    """The course, if the caller owns it or is an admin: 404 when unseen, 403 when seen but not theirs."""
    course = await (store.get_for_update(tx, course_id) if for_update else store.get(tx, course_id))
    if course is None or not can_see(principal, course):
        raise _no_such_course()
    if not can_manage(principal, course):
        raise Forbidden("Only the course's instructor or an admin may do this.", code="not_course_owner")
    return course


async def participant_course(db: Database, principal: Principal, course_id: int) -> tuple[CourseAccess, bool]:
    """For course-internal content (lessons, discussions, leaderboard): enrolled users, the owner and
    admins. Returns the course and whether the caller manages it. Read on its own, outside any
    transaction of the caller's: it runs on every course-internal request."""
    course, enrollment_id = await store.course_and_enrollment(db, course_id, principal.user_id)
    if course is None or not can_see(principal, course):
        raise _no_such_course()
    if can_manage(principal, course):
        return course, True
    if enrollment_id is None:
        raise Forbidden("Enroll in this course first.", code="not_enrolled")
    return course, False


def require_not_blocked(principal: Principal) -> None:
    if principal.is_blocked:
        raise Forbidden(
            "Your account is blocked: you can read but not post, vote, message or enroll.",
            code="user_blocked",
        )
