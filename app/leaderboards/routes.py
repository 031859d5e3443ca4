from __future__ import annotations

from app.http.routing import Context, api_route
from app.leaderboards import service as leaderboards
from app.leaderboards.schemas import LeaderboardEntry, LeaderboardQuery

TAGS = ["courses"]  # listed with the course they rank


@api_route(
    "GET",
    "/api/courses/{course_id:int}/leaderboard",
    summary="Ranked enrolled learners (enrolled learners when public; owner and admins always)",
    tags=TAGS,
    query=LeaderboardQuery,
    response=list[LeaderboardEntry],
    errors=(403, 404),
)
async def leaderboard(ctx: Context[None, LeaderboardQuery]) -> list[LeaderboardEntry]:
    return await leaderboards.leaderboard(ctx.runtime, ctx.user, ctx.path_param("course_id"), ctx.query.limit)


routes = [leaderboard]
