"""Real `learnflow serve` processes for the hostile-input tests (their output is kept in a log file by the
harness), and where the figures of these tests are written."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.runtime import StoreUrls
from tests.live.conftest import Instance, start_instance, stop_instance

FIGURES_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "figures"

# Every REST limit raised so generated cases reach the handlers instead of turning into 429s.
UNLIMITED_REST = {
    "RATE_LIMIT_DEFAULT": "1000000/minute",
    "RATE_LIMIT_LOGIN": "1000000/minute",
    "RATE_LIMIT_REGISTER": "1000000/minute",
}


@dataclass
class LoggedInstance:
    instance: Instance
    log_path: Path

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def write_figures(name: str, figures: dict[str, Any]) -> Path:
    FIGURES_DIR.mkdir(parents=True, exist_ok=True)
    path = FIGURES_DIR / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    return path


@pytest.fixture(scope="module")
def serve(
    store_urls: StoreUrls, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., LoggedInstance]]:
    """Start a server with the given environment; stopped at the end of the module."""
    started: list[LoggedInstance] = []

    def start(**env: str) -> LoggedInstance:
        instance = start_instance(store_urls, **env)
        logged = LoggedInstance(instance, instance.log)
        started.append(logged)
        return logged

    try:
        yield start
    finally:
        for logged in started:
            stop_instance(logged.instance)
