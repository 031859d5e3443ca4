"""`learnflow seed-demo`: a realistic demo data set, built through the same services the API uses."""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.auth.service import NewAccount, create_account
from app.courses import service as courses
from app.courses.schemas import CourseCreate, CourseUpdate
from app.enrollments import service as enrollments
from app.http.meta import RequestMeta
from app.lessons import service as lessons
from app.lessons.schemas import LessonCreate
from app.progress import service as progress
from app.progress.schemas import ProgressUpdate
from app.ratings import service as ratings
from app.ratings.schemas import RatingInput
from app.runtime import Runtime
from app.security.principal import Principal
from app.stores.models import Comment, DirectMessage, User
from app.stores.mongo import PROGRESS, progress_id

DEMO_PASSWORD = "LearnFlow123"
DEMO_DOMAIN = "learnflow.demo"
SEED_META = RequestMeta(ip=None, user_agent="learnflow-seed-demo")

INSTRUCTORS = [("Ada", "Lovelace"), ("Grace", "Hopper"), ("Alan", "Turing")]
LEARNER_NAMES = [
    ("Maya", "Patel"),
    ("Liam", "Chen"),
    ("Sofia", "Garcia"),
    ("Noah", "Kim"),
    ("Amara", "Okafor"),
    ("Lucas", "Rossi"),
    ("Yuki", "Tanaka"),
    ("Elena", "Petrova"),
    ("Omar", "Haddad"),
    ("Zoe", "Martin"),
    ("Ravi", "Iyer"),
    ("Hannah", "Schmidt"),
]
COURSES = [
    ("Python from Scratch", "Programming", "Beginner", "4 weeks"),
    ("Data Structures in Practice", "Computer Science", "Intermediate", "6 weeks"),
    ("Compilers, Gently", "Computer Science", "Advanced", "8 weeks"),
    ("Web Apps with React", "Web Development", "Beginner", "5 weeks"),
    ("SQL for Analysts", "Data", "Beginner", "3 weeks"),
    ("Machine Learning Foundations", "Data", "Intermediate", "7 weeks"),
]
TOPICS = ["Getting started", "Core ideas", "Hands-on exercise", "Common pitfalls", "Project", "Review"]
POSTS = [
    "Is there a recommended order for the exercises in this lesson?",
    "The second example clicked for me once I drew it out on paper.",
    "Could someone explain the difference between the two approaches shown?",
    "Great course so far — the pacing is just right.",
]


def _bar(done: int, total: int, label: str) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label:<40}")
    sys.stderr.flush()
    if done == total:
        sys.stderr.write("\n")


def _principal(user: User) -> Principal:
    far = datetime.now(UTC) + timedelta(days=1)
    return Principal(
        user_id=user.id,
        role=user.role,
        email=user.email,
        is_blocked=False,
        jti="seed",
        session_id="seed",
        expires_at=far,
    )


async def _account(runtime: Runtime, first: str, last: str, role: str) -> User:
    email = f"{first.lower()}.{last.lower()}@{DEMO_DOMAIN}"
    async with runtime.db.transaction() as tx:
        user = await create_account(tx, runtime, NewAccount(email, first, last, DEMO_PASSWORD), SEED_META)
        user.role = role
        await tx.flush()
        return user


async def already_seeded(runtime: Runtime) -> bool:
    async with runtime.db.read() as tx:
        query = select(func.count(User.id)).where(User.email.like(f"%@{DEMO_DOMAIN}"))
        return bool((await tx.execute(query)).scalar_one())


async def seed_demo(runtime: Runtime, *, rng_seed: int = 7) -> dict[str, int]:
    """Creates the demo data set; returns what it made. Call only on a database without demo data."""
    rng = random.Random(rng_seed)
    steps = 1 + len(INSTRUCTORS) + len(LEARNER_NAMES) + len(COURSES) * 3
    done = 0

    def step(label: str) -> None:
        nonlocal done
        done += 1
        _bar(done, steps, label)

    admin = await _account(runtime, "Avery", "Admin", "admin")
    step("admin")
    teachers = []
    for first, last in INSTRUCTORS:
        teachers.append(await _account(runtime, first, last, "instructor"))
        step(f"instructor {first}")
    learners = []
    for first, last in LEARNER_NAMES:
        learners.append(await _account(runtime, first, last, "learner"))
        step(f"learner {first}")

    counts = {
        "users": 1 + len(teachers) + len(learners),
        "courses": 0,
        "lessons": 0,
        "enrollments": 0,
        "comments": 0,
        "messages": 0,
    }
    for index, (title, category, level, duration) in enumerate(COURSES):
        teacher = _principal(teachers[index % len(teachers)])
        course = await courses.create_course(
            runtime,
            teacher,
            CourseCreate(
                title=title,
                description=f"{title}: a practical course with exercises and a final project.",
                category=category,
                level=level,
                duration=duration,
            ),
            SEED_META,
        )
        lesson_ids = []
        for number, topic in enumerate(TOPICS[: rng.randint(4, 6)]):
            kind = "video" if number % 2 else "text"
            content = (
                f"https://videos.{DEMO_DOMAIN}/{course.id}/{number}.mp4"
                if kind == "video"
                else f"<h2>{topic}</h2><p>Notes for <strong>{title}</strong>, part {number + 1}.</p>"
            )
            lesson = await lessons.create_lesson(
                runtime,
                teacher,
                course.id,
                LessonCreate(
                    title=f"{topic}",
                    type=kind,
                    duration=rng.randint(5, 25),
                    content=content,
                ),
                SEED_META,
            )
            lesson_ids.append(lesson.id)
        await courses.update_course(runtime, teacher, course.id, CourseUpdate(is_published=True), SEED_META)
        counts["courses"] += 1
        counts["lessons"] += len(lesson_ids)
        step(f"course {title[:30]}")

        enrolled = rng.sample(learners, rng.randint(4, 8))
        for learner in enrolled:
            who = _principal(learner)
            await enrollments.enroll(runtime, who, course.id, SEED_META)
            finished = rng.randint(0, len(lesson_ids))
            for lesson_id in lesson_ids[:finished]:
                await progress.update_progress(
                    runtime, who, course.id, ProgressUpdate(lesson_id=lesson_id), SEED_META
                )
            times = {lesson_id: rng.randint(120, 1500) for lesson_id in lesson_ids[: max(finished, 1)]}
            await runtime.documents.update(
                PROGRESS,
                progress_id(learner.id, course.id),
                {
                    "$set": {
                        **{f"lesson_times.{key}": value for key, value in times.items()},
                        "total_seconds_spent": sum(times.values()),
                    }
                },
            )
            if finished and rng.random() < 0.6:
                await ratings.rate(runtime, who, course.id, RatingInput(stars=rng.randint(3, 5)))
        counts["enrollments"] += len(enrolled)
        step(f"enrollments {title[:25]}")

        async with runtime.db.transaction() as tx:
            for number, text in enumerate(POSTS[: rng.randint(2, 4)]):
                author = enrolled[number % len(enrolled)]
                post = Comment(
                    course_id=course.id,
                    user_id=author.id,
                    content=text,
                    lesson_id=lesson_ids[number % len(lesson_ids)],
                    is_private=number == 3,
                )
                tx.add(post)
                await tx.flush()
                tx.add(
                    Comment(
                        course_id=course.id,
                        user_id=teacher.user_id,
                        parent_id=post.id,
                        content="Thanks for asking — see the notes under this lesson.",
                        is_private=post.is_private,
                    )
                )
                counts["comments"] += 2
            for learner in enrolled[:2]:
                tx.add(
                    DirectMessage(
                        sender_id=learner.id,
                        recipient_id=teacher.user_id,
                        content=f"Hello! A question about {title}: is the project graded?",
                    )
                )
                tx.add(
                    DirectMessage(
                        sender_id=teacher.user_id,
                        recipient_id=learner.id,
                        content="Yes — there is a short rubric in the last lesson.",
                    )
                )
                counts["messages"] += 2
        step(f"discussions {title[:25]}")
    del admin
    return counts
