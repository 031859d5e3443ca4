"""Core selects compiled once and run straight on the driver (app/stores/plain.py): they give the rows the
session path gives, with columns readable as attributes, and refuse what cannot be compiled once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import ARRAY, Integer, any_, bindparam, func, literal, select, true

from app.runtime import Runtime
from app.stores.models import Course, Enrollment, User
from app.stores.plain import PlainStatement
from app.stores.sql import Database
from tests.builders import course_in_store, enrollment_in_store
from tests.helpers import Api

_A = bindparam("a", required=True, type_=Integer)
_B = bindparam("b", required=True, type_=Integer)
_SUM_AND_LITERAL = select(
    (_A + _B).label("total"),
    func.coalesce(literal(None, Integer), 7).label("seven"),  # 7 is compiled as a parameter with its value
)
_COUNT_ANY = select(literal(1).label("hit")).where(
    literal(2) == any_(bindparam("ids", required=True, type_=ARRAY(Integer)))
)


async def test_values_and_literals_reach_the_statement(db: Database) -> None:
    (row,) = await db.plain.fetch(PlainStatement.of(_SUM_AND_LITERAL), {"a": 2, "b": 40})
    assert (row.total, row.seven) == (42, 7) == tuple(row)
    with pytest.raises(AttributeError):
        _ = row.absent


async def test_lists_go_in_as_arrays(db: Database) -> None:
    statement = PlainStatement.of(_COUNT_ANY)
    assert [row.hit for row in await db.plain.fetch(statement, {"ids": [1, 2, 3]})] == [1]
    assert await db.plain.fetch(statement, {"ids": [5]}) == []
    assert await db.plain.fetch(statement, {"ids": []}) == []


async def test_a_missing_value_is_an_error_before_anything_runs(db: Database) -> None:
    with pytest.raises(ValueError, match=r"\['b'\]"):
        await db.plain.fetch(PlainStatement.of(_SUM_AND_LITERAL), {"a": 1})


def test_an_expanding_in_is_refused_with_the_way_out() -> None:
    expanding = select(literal(1)).where(literal(1).in_(bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match=r"'ids'.*any_"):
        PlainStatement.of(expanding)


async def test_repeated_column_names_read_as_the_select_names_them(runtime: Runtime, api: Api) -> None:
    teacher = await api.account("instructor")
    course_id = await course_in_store(runtime, teacher.id, title="Named twice")
    statement = select(Course.id, User.id, Course.title).join(User, User.id == Course.instructor_id)
    plain = PlainStatement.of(statement.where(Course.id == bindparam("course_id", required=True)))
    (row,) = await runtime.db.plain.fetch(plain, {"course_id": course_id})
    assert list(row._fields) == list(statement.selected_columns.keys()) == ["id", "id_1", "title"]
    assert (row.id, row.id_1, row.title) == (course_id, teacher.id, "Named twice")


async def test_rows_equal_the_session_paths(runtime: Runtime, api: Api) -> None:
    """Every column kind the hot reads return (text, integers, floats, booleans, time stamps, NULLs)
    comes back exactly as SQLAlchemy's session gives it for the same select."""
    teacher, learner = await api.account("instructor"), await api.account()
    start = datetime.now(UTC) - timedelta(days=3)
    for n in range(3):
        course_id = await course_in_store(runtime, teacher.id)
        await enrollment_in_store(
            runtime,
            learner.id,
            course_id,
            enrolled_at=start + timedelta(hours=n),
            progress=n * 10.5,
            completed_at=start if n == 2 else None,
        )
    statement = (
        select(
            Enrollment.id.label("enrollment_id"),
            Enrollment.enrolled_at,
            Enrollment.completed_at,
            Enrollment.progress,
            *Course.__table__.c,
            User.first_name.label("instructor_first_name"),
            User.avatar_url.label("instructor_avatar_url"),
            true().label("is_enrolled"),
        )
        .join(Course, Course.id == Enrollment.course_id)
        .outerjoin(User, User.id == Course.instructor_id)
        .where(Enrollment.user_id == bindparam("user_id", required=True))
        .order_by(Enrollment.enrolled_at.desc())
    )
    plain = await runtime.db.plain.fetch(PlainStatement.of(statement), {"user_id": learner.id})
    async with runtime.db.read() as tx:
        through_session = (await tx.execute(statement, {"user_id": learner.id})).mappings().all()
    assert len(plain) == 3
    assert [row._asdict() for row in plain] == [dict(row) for row in through_session]
    assert [row.progress for row in plain] == [21.0, 10.5, 0.0]
    assert plain[0].completed_at == start and plain[1].completed_at is None
    assert plain[0].instructor_avatar_url is None and plain[0].is_enrolled is True
