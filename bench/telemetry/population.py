"""The learners a run sends heartbeats as: users enrolled in published courses with lessons, created
through the app's store layer, each with a real access token."""

from __future__ import annotations

import argparse
import time
import uuid
from typing import Any

from bench._harness import MONGO_DATABASE, TOKEN_TTL_SECONDS, Stack


async def populate(made: Stack, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Learners enrolled in `--courses` published courses of `--lessons` lessons each, created through the
    app's store layer; one access token each. Fresh users every run (a run tag in their emails)."""
    from app.courses import store as courses
    from app.security.tokens import TokenCodec
    from app.stores.models import Enrollment, User
    from app.stores.mongo import DocumentStore
    from app.stores.sql import Database
    from app.syllabus import store as lessons

    tag = uuid.uuid4().hex[:6]
    database = Database(made.urls.database_url)
    documents = DocumentStore(made.urls.mongo_url, MONGO_DATABASE)
    learners: list[dict[str, Any]] = []
    try:
        await documents.ensure_schema()
        async with database.transaction() as tx:
            instructor = User(
                email=f"bench-tel-{tag}-teacher@bench.example.com",
                first_name="Bench",
                last_name="Teacher",
                role="instructor",
            )
            tx.add(instructor)
            await tx.flush()
            course_ids = []
            for c in range(args.courses):
                course = await courses.add(
                    tx,
                    title=f"Telemetry bench {tag} #{c}",
                    description="bench",
                    category="Bench",
                    level="Beginner",
                    duration="4 weeks",
                    instructor_id=instructor.id,
                    is_published=True,
                )
                course_ids.append(course.id)
        lesson_ids: dict[int, list[str]] = {}
        for course_id in course_ids:
            lesson_ids[course_id] = []
            for order in range(args.lessons):
                lesson_id = lessons.new_lesson_id()
                await lessons.insert(
                    documents,
                    {
                        "_id": lesson_id,
                        "course_id": course_id,
                        "title": f"Lesson {order + 1}",
                        "type": "text",
                        "duration": "10 min",
                        "content": "bench",
                        "notes": "",
                        "order": order,
                    },
                )
                lesson_ids[course_id].append(lesson_id)
        for start in range(0, args.learners, 5000):
            async with database.transaction() as tx:
                users = [
                    User(
                        email=f"bench-tel-{tag}-{i:06d}@bench.example.com",
                        first_name="Bench",
                        last_name=f"L{i}",
                        role="learner",
                    )
                    for i in range(start, min(args.learners, start + 5000))
                ]
                tx.add_all(users)
                await tx.flush()
                for offset, user in enumerate(users):
                    i = start + offset
                    course_id = course_ids[i % len(course_ids)]
                    lesson_id = lesson_ids[course_id][(i // len(course_ids)) % args.lessons]
                    learners.append(
                        {"index": i, "user_id": user.id, "course_id": course_id, "lesson_id": lesson_id}
                    )
                tx.add_all(
                    [
                        Enrollment(user_id=row["user_id"], course_id=row["course_id"])
                        for row in learners[start:]
                    ]
                )
    finally:
        await database.close()
        await documents.client.close()
    codec = TokenCodec(made.jwt_secret, TOKEN_TTL_SECONDS)
    step = max(1, args.learners // max(1, args.probes))
    for row in learners:
        row["token"] = codec.issue_access(user_id=row["user_id"], role="learner", session_id=uuid.uuid4().hex)
        row["probe"] = (
            row["index"] if row["index"] % step == 0 and row["index"] // step < args.probes else None
        )
    return learners


async def fresh_learners(made: Stack, args: argparse.Namespace, count: int) -> list[dict[str, Any]]:
    """`count` new learners in new courses, so a run's totals are checked on their own."""
    started = time.monotonic()
    learners = await populate(made, argparse.Namespace(**{**vars(args), "learners": count}))
    print(f"set-up: {count:,} fresh learners ({time.monotonic() - started:.1f} s)", flush=True)
    return learners
