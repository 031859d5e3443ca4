"""Browser tests: Node scripts driving Debian's Chromium through playwright-core against a real server.

Without Node, playwright-core (frontend/node_modules), the frontend build or Chromium they skip with the
reason; with LEARNFLOW_REQUIRE_E2E=1 (CI) the same gap fails them instead, so they never pass silently."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.runtime import StoreUrls
from tests.e2e.server import ROOT, Server, isolated_urls, start, stop
from tests.standins.google_provider import GoogleProfile, GoogleProvider, running_google_provider

CHROMIUM = Path("/usr/bin/chromium")
FRONTEND = ROOT / "frontend"
SCRIPTS = Path(__file__).resolve().parent / "browser"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
SCENARIO_TIMEOUT_SECONDS = 180


def missing_tools() -> list[str]:
    missing = []
    if shutil.which("node") is None:
        missing.append("`node` is not on PATH (install Node.js 20+)")
    if not (FRONTEND / "node_modules" / "playwright-core").is_dir():
        missing.append("frontend/node_modules/playwright-core is missing (run `make install`)")
    if not (FRONTEND / "dist" / "index.html").is_file():
        missing.append("frontend/dist is not built (run `make install`)")
    if not CHROMIUM.is_file():
        missing.append(f"{CHROMIUM} is missing (`apt-get install chromium`)")
    return missing


def require(missing: list[str]) -> None:
    """Skips with the reason when something is missing, or fails when LEARNFLOW_REQUIRE_E2E=1."""
    if not missing:
        return
    reason = "end-to-end browser tests cannot run: " + "; ".join(missing)
    if os.environ.get("LEARNFLOW_REQUIRE_E2E") == "1":
        pytest.fail(reason + " (LEARNFLOW_REQUIRE_E2E=1)")
    pytest.skip(reason)


GOOGLE_ACCOUNT = GoogleProfile(
    sub="e2e-google-1", email="gina.google@example.com", given_name="Gina", family_name="Google"
)


@pytest.fixture(scope="module")
def google() -> Iterator[GoogleProvider]:
    """The local stand-in for Google's OAuth endpoints; its "browser" has picked GOOGLE_ACCOUNT."""
    with running_google_provider(
        client_id="e2e-client", client_secret="e2e-secret", redirect_uri=""
    ) as provider:
        provider.sign_in_as(GOOGLE_ACCOUNT)
        yield provider


@pytest.fixture(scope="module")
def e2e_server(
    store_urls: StoreUrls, tmp_path_factory: pytest.TempPathFactory, google: GoogleProvider
) -> Iterator[Server]:
    require(missing_tools())

    def google_settings(base_url: str) -> dict[str, str]:
        google.redirect_uri = f"{base_url}/auth/google/callback"
        return {
            "GOOGLE_CLIENT_ID": google.client_id,
            "GOOGLE_CLIENT_SECRET": google.client_secret,
            "GOOGLE_REDIRECT_URI": google.redirect_uri,
            "GOOGLE_AUTH_URL": google.auth_url,
            "GOOGLE_TOKEN_URL": google.token_url,
            "GOOGLE_USERINFO_URL": google.userinfo_url,
        }

    server = start(isolated_urls(store_urls), tmp_path_factory.mktemp("e2e-server"), google_settings)
    try:
        yield server
    finally:
        stop(server)


@pytest.fixture
def run_scenario(e2e_server: Server) -> Callable[[str], str]:
    """Runs tests/e2e/browser/<name>.mjs against the server; fails with its output unless it exits 0."""

    def run(name: str) -> str:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for stale in SCREENSHOTS.glob(f"failure-{name}-*.png"):
            stale.unlink()
        env = {**os.environ, "BASE_URL": e2e_server.http, "SCREENSHOT_DIR": str(SCREENSHOTS)}
        try:
            result = subprocess.run(
                ["node", str(SCRIPTS / f"{name}.mjs")],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=SCENARIO_TIMEOUT_SECONDS,
            )
        except subprocess.TimeoutExpired as exc:
            output = f"{exc.stdout!s}\n{exc.stderr!s}"
            pytest.fail(f"scenario {name} did not finish in {SCENARIO_TIMEOUT_SECONDS}s:\n{output}")
        output = f"{result.stdout}\n{result.stderr}"
        if result.returncode != 0:
            pytest.fail(
                f"scenario {name} failed (exit {result.returncode}):\n{output}\n"
                f"--- server log ---\n{e2e_server.log_tail()}"
            )
        print(output)
        return output

    return run
