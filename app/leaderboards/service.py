"""Course leaderboards: only enrolled learners, ranked by app/leaderboards/ranking.py."""

from __future__ import annotations

from app.courses import access
from app.enrollments import store as enrollments
from app.errors import Forbidden
from app.leaderboards.cache import rankings
from app.leaderboards.ranking import Ranked, Standing, rank
from app.leaderboards.schemas import LeaderboardEntry
from app.progress import completion
from app.progress import store as progress
from app.runtime import Runtime
from app.security.principal import Principal
from app.syllabus import store as lessons


async def standings(runtime: Runtime, course_id: int) -> list[Standing]:
    """Every enrolled learner's standing; people with progress but no enrollment never appear."""
    async with runtime.db.read() as tx:
        rows = await enrollments.with_users(tx, course_id)
    lesson_ids = [doc["_id"] for doc in await lessons.for_course(runtime.documents, course_id)]
    docs = await progress.for_pairs(runtime.documents, [(user.id, course_id) for _, user in rows])
    result = []
    for enrollment, user in rows:
        doc = docs.get(f"{user.id}:{course_id}")
        done, pct = completion.percentage(doc.get("completed_lessons", []) if doc else [], lesson_ids)
        result.append(
            Standing(
                user_id=user.id,
                name=f"{user.first_name} {user.last_name}".strip(),
                avatar=user.avatar_url,
                completed_lessons=len(done),
                total_lessons=len(lesson_ids),
                progress_percentage=pct,
                total_seconds_spent=int(doc.get("total_seconds_spent", 0)) if doc else 0,
                completed_at=enrollment.completed_at,
            )
        )
    return result


def _entries(ranked: list[Ranked], limit: int) -> list[LeaderboardEntry]:
    return [
        LeaderboardEntry(
            rank=item.rank,
            user_id=item.standing.user_id,
            name=item.standing.name,
            avatar=item.standing.avatar,
            completed_lessons=item.standing.completed_lessons,
            total_lessons=item.standing.total_lessons,
            progress_percentage=item.standing.progress_percentage,
            total_seconds_spent=item.standing.total_seconds_spent,
        )
        for item in ranked[:limit]
    ]


async def top(runtime: Runtime, course_id: int, limit: int) -> list[LeaderboardEntry]:
    """The top `limit`, computed now (the live channel's pushes)."""
    return _entries(rank(await standings(runtime, course_id)), limit)


async def leaderboard(
    runtime: Runtime, principal: Principal, course_id: int, limit: int
) -> list[LeaderboardEntry]:
    course, manages = await access.participant_course(runtime.db, principal, course_id)
    if not manages and not course.is_leaderboard_public:
        raise Forbidden("This course's leaderboard is private.", code="leaderboard_private")

    async def compute() -> list[Ranked]:
        return rank(await standings(runtime, course_id))

    return _entries(await rankings(runtime).get(course_id, compute), limit)
