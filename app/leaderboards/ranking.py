"""The one ranking, used by the REST leaderboard and the live leaderboard channel alike.

Order: progress_percentage desc, then total_seconds_spent asc (less time for the same progress ranks
higher), then earliest completion (not completed ranks after completed); equal keys share a rank
("1, 2, 2, 4" competition ranking).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Standing:
    user_id: int
    name: str
    avatar: str | None
    completed_lessons: int
    total_lessons: int
    progress_percentage: float
    total_seconds_spent: int
    completed_at: datetime | None


@dataclass(frozen=True)
class Ranked:
    rank: int
    standing: Standing


def _key(standing: Standing) -> tuple[float, int, int, float]:
    completed = standing.completed_at
    return (
        -standing.progress_percentage,
        standing.total_seconds_spent,
        0 if completed is not None else 1,
        completed.timestamp() if completed is not None else 0.0,
    )


def rank(standings: Sequence[Standing]) -> list[Ranked]:
    ordered = sorted(standings, key=lambda s: (_key(s), s.user_id))
    ranked: list[Ranked] = []
    for position, standing in enumerate(ordered, start=1):
        if ranked and _key(ranked[-1].standing) == _key(standing):
            ranked.append(Ranked(rank=ranked[-1].rank, standing=standing))
        else:
            ranked.append(Ranked(rank=position, standing=standing))
    return ranked
