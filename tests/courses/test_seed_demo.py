from __future__ import annotations

import httpx
from sqlalchemy import func, select

from app.runtime import Runtime
from app.seed import DEMO_PASSWORD, already_seeded, seed_demo
from app.stores.models import Course, Enrollment, User


async def test_seed_demo_builds_a_consistent_data_set(client: httpx.AsyncClient, runtime: Runtime) -> None:
    assert not await already_seeded(runtime)
    made = await seed_demo(runtime)
    assert await already_seeded(runtime)
    async with runtime.db.read() as tx:
        users = (await tx.execute(select(func.count(User.id)))).scalar_one()
        published = (await tx.execute(select(func.count(Course.id)).where(Course.is_published))).scalar_one()
        enrollments = (await tx.execute(select(Enrollment))).scalars().all()
    assert users == made["users"] == 16
    assert published == made["courses"] == 6
    assert len(enrollments) == made["enrollments"] > 0
    assert made["comments"] > 0 and made["messages"] > 0

    login = await client.post(
        "/api/auth/login", json={"email": "maya.patel@learnflow.demo", "password": DEMO_PASSWORD}
    )
    assert login.status_code == 200
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    mine = (await client.get("/api/my-progress", headers=headers)).json()
    assert mine, "the demo learner should be enrolled somewhere"
    # Whatever the learner completed, the enrollment row and the progress view agree.
    by_course = {e.course_id: e for e in enrollments if e.user_id == mine[0]["user_id"]}
    for item in mine:
        enrollment = by_course[item["course_id"]]
        assert enrollment.progress == item["progress_percentage"]
        assert (enrollment.completed_at is not None) == (item["progress_percentage"] == 100.0)
        assert item["total_seconds_spent"] > 0
    for email in ("avery.admin@learnflow.demo", "ada.lovelace@learnflow.demo"):
        response = await client.post("/api/auth/login", json={"email": email, "password": DEMO_PASSWORD})
        assert response.status_code == 200
