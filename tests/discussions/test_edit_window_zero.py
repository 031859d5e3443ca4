"""With DISCUSSION_EDIT_WINDOW_SECONDS=0 authors can never edit; the course owner and admins still can."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.discussions.helpers import course_with_learner, error_code, post
from tests.helpers import Api


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"discussion_edit_window_seconds": 0}


async def test_no_window_means_no_author_edits(client: httpx.AsyncClient, api: Api) -> None:
    course = await course_with_learner(api)
    created = await post(client, course.learner, course.id, "final answer")
    url = f"/api/discussions/{created['id']}"

    late = await client.put(url, json={"content": "changed"}, headers=course.learner.headers)
    assert late.status_code == 403 and error_code(late) == "edit_window_closed"
    by_owner = await client.put(url, json={"content": "changed"}, headers=course.owner.headers)
    assert by_owner.status_code == 200 and by_owner.json()["content"] == "changed"
    # Deleting is not limited by the window.
    assert (await client.delete(url, headers=course.learner.headers)).status_code == 200
