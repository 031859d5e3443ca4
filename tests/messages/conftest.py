"""A small school for the direct-message tests: two instructors with a course each, learners in and out
of the first course, an admin, and a blocked and a deactivated learner enrolled in the first course.

Courses and enrollments are written straight through the stores (set-up, not the behaviour under test)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from app.runtime import Runtime
from tests.builders import course_in_store
from tests.builders import enrollment_in_store as enroll
from tests.helpers import Account, Api


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # Some tests send many messages from one account; the limit itself is tested in tests/http.
    return {"rate_limit_default": "1000/minute"}


@dataclass
class School:
    teacher: Account  # owns `course_id`
    other_teacher: Account  # owns another course nobody here is enrolled in
    student: Account  # enrolled in `course_id`
    classmate: Account  # enrolled in `course_id` too
    outsider: Account  # a learner enrolled nowhere
    admin: Account
    blocked: Account  # a blocked learner enrolled in `course_id`
    deactivated: Account  # a deactivated learner enrolled in `course_id`
    course_id: int
    other_course_id: int

    def by_name(self, name: str) -> Account:
        account = getattr(self, name)
        assert isinstance(account, Account)
        return account


async def add_course(runtime: Runtime, instructor_id: int, title: str = "Course") -> int:
    return await course_in_store(runtime, instructor_id, title=title)


@pytest.fixture
async def school(api: Api, runtime: Runtime) -> School:
    teacher = await api.account("instructor")
    other_teacher = await api.account("instructor")
    student = await api.account("learner")
    classmate = await api.account("learner")
    outsider = await api.account("learner")
    admin = await api.account("admin")
    blocked = await api.account("learner", blocked=True)
    deactivated = await api.account("learner")
    course_id = await add_course(runtime, teacher.id, "Teacher's course")
    other_course_id = await add_course(runtime, other_teacher.id, "Other course")
    for learner in (student, classmate, blocked, deactivated):
        await enroll(runtime, learner.id, course_id)
    # Deactivated last, after enrolling, as an admin would do to an existing learner.
    await api.set_user(deactivated.id, is_active=False)
    return School(
        teacher=teacher,
        other_teacher=other_teacher,
        student=student,
        classmate=classmate,
        outsider=outsider,
        admin=admin,
        blocked=blocked,
        deactivated=deactivated,
        course_id=course_id,
        other_course_id=other_course_id,
    )
