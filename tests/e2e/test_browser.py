"""The app in a real browser: the live flows seen from two users at once, plus screenshots of the
main pages under test-artifacts/screenshots/. Each scenario is one Node script in tests/e2e/browser/."""

from __future__ import annotations

from collections.abc import Callable

import pytest

# Past the suite's default: the first test also starts and seeds the server; each script has its own deadline.
pytestmark = pytest.mark.timeout(300)

Run = Callable[[str], str]


def test_smoke_home_page_and_live_link(run_scenario: Run) -> None:
    assert "smoke ok" in run_scenario("smoke")


def test_google_sign_in_through_the_stand_in_provider(run_scenario: Run) -> None:
    assert "google ok" in run_scenario("google")


def test_new_learner_appears_in_the_instructors_live_activity(run_scenario: Run) -> None:
    assert "activity ok" in run_scenario("activity")


def test_a_message_appears_live_for_the_other_user(run_scenario: Run) -> None:
    assert "messages ok" in run_scenario("messages")


def test_a_vote_changes_the_count_live_for_another_viewer(run_scenario: Run) -> None:
    assert "votes ok" in run_scenario("votes")


def test_an_admin_sees_live_analytics_update(run_scenario: Run) -> None:
    assert "analytics ok" in run_scenario("analytics")


def test_screenshots_of_the_main_pages(run_scenario: Run) -> None:
    assert "screenshots ok" in run_scenario("screenshots")
