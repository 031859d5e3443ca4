"""The migration chain against a real PostgreSQL: head matches the models, and steps go both ways."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.runtime import StoreUrls
from app.stores.migrate import downgrade, upgrade
from app.stores.models import Base
from app.stores.sql import async_url

LOCKOUT_COLUMNS = {"failed_login_count", "first_failed_login_at", "locked_until"}


def _on_schema(database_url: str, read: Any) -> Any:
    async def run() -> Any:
        engine = create_async_engine(async_url(database_url))
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(read)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _user_columns(connection: Connection) -> set[str]:
    return {column["name"] for column in inspect(connection).get_columns("users")}


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def test_head_schema_matches_the_models(store_urls: StoreUrls) -> None:
    assert _on_schema(store_urls.database_url, _differences) == []


def test_lockout_columns_are_dropped_and_restored_by_their_migration(store_urls: StoreUrls) -> None:
    url = store_urls.database_url
    assert not LOCKOUT_COLUMNS & _on_schema(url, _user_columns)
    downgrade(url, "0003")
    try:
        assert LOCKOUT_COLUMNS <= _on_schema(url, _user_columns)
    finally:
        upgrade(url)
    assert not LOCKOUT_COLUMNS & _on_schema(url, _user_columns)


COUNTER_COLUMNS = {"lessons_count", "enrollment_count", "rating_count", "rating_sum"}


def _course_columns(connection: Connection) -> set[str]:
    return {column["name"] for column in inspect(connection).get_columns("courses")}


def _sql(database_url: str, *statements: str) -> list[Any]:
    async def run() -> list[Any]:
        engine = create_async_engine(async_url(database_url))
        try:
            async with engine.begin() as connection:
                return [(await connection.execute(text(statement))).all() for statement in statements]
        finally:
            await engine.dispose()

    return asyncio.run(run())


_BEFORE_COUNTERS = (
    "INSERT INTO users (email, first_name, last_name, role) VALUES "
    "('mig-teacher@example.com', 'T', 'T', 'instructor'), ('mig-a@example.com', 'A', 'A', 'learner'), "
    "('mig-b@example.com', 'B', 'B', 'learner') RETURNING id",
    "INSERT INTO courses (title, category, level, instructor_id, is_published) SELECT 'Migrated', 'X', "
    "'Beginner', id, true FROM users WHERE email = 'mig-teacher@example.com' RETURNING id",
    "INSERT INTO enrollments (user_id, course_id) SELECT u.id, c.id FROM users u, courses c "
    "WHERE u.email LIKE 'mig-_@example.com' AND c.title = 'Migrated' RETURNING id",
    "INSERT INTO ratings (user_id, course_id, stars) SELECT u.id, c.id, CASE u.email WHEN "
    "'mig-a@example.com' THEN 5 ELSE 2 END FROM users u, courses c "
    "WHERE u.email LIKE 'mig-_@example.com' AND c.title = 'Migrated' RETURNING id",
)
_COUNTERS = (
    "SELECT lessons_count, enrollment_count, rating_count, rating_sum FROM courses WHERE title = 'Migrated'"
)
_CLEAN_UP = (
    "DELETE FROM courses WHERE title = 'Migrated' RETURNING id",
    "DELETE FROM users WHERE email LIKE 'mig-%@example.com' RETURNING id",
)


def test_counter_columns_are_added_and_backfilled_then_kept_by_triggers(store_urls: StoreUrls) -> None:
    url = store_urls.database_url
    downgrade(url, "0004")
    try:
        assert not COUNTER_COLUMNS & _on_schema(url, _course_columns)
        _sql(url, *_BEFORE_COUNTERS)
    finally:
        upgrade(url)
    try:
        assert COUNTER_COLUMNS <= _on_schema(url, _course_columns)
        # Lessons are in the document store: unknown (NULL) until the app counts them at start-up.
        assert _sql(url, _COUNTERS)[0] == [(None, 2, 2, 7)]
        _sql(
            url,
            "DELETE FROM ratings WHERE user_id = (SELECT id FROM users WHERE email = 'mig-a@example.com') "
            "RETURNING id",
            "DELETE FROM users WHERE email = 'mig-b@example.com' RETURNING id",  # cascades
        )
        assert _sql(url, _COUNTERS)[0] == [(None, 1, 0, 0)]
    finally:
        _sql(url, *_CLEAN_UP)
