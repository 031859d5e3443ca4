"""The server refuses to listen beyond loopback with the published development JWT secret or a short one.

The default secret is in the repository: anyone who can reach a server using it can sign an admin token.
Outside development on one machine that must never happen, whatever LEARNFLOW_ENV says, and the image is
production by default.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import DEFAULT_JWT_SECRET, Settings, UnsafeConfiguration, is_loopback_host
from app.runtime import StoreUrls
from app.stores.embedded import free_port

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "k" * 40


def serve(store_urls: StoreUrls, host: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **{k: v for k, v in os.environ.items() if k != "JWT_SECRET"},
        "LEARNFLOW_ENV": "development",
        "DATABASE_URL": store_urls.database_url,
        "REDIS_URL": store_urls.redis_url,
        "MONGO_URL": store_urls.mongo_url,
        "LOG_LEVEL": "WARNING",
        **env,
    }
    argv = [sys.executable, "-m", "app.cli", "serve", "--host", host, "--port", str(free_port())]
    return subprocess.run(argv, env=environment, cwd=ROOT, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("host", "secret"),
    [("0.0.0.0", None), ("::", None), ("192.0.2.10", "short-secret"), ("example.org", DEFAULT_JWT_SECRET)],
)
def test_serve_refuses_a_weak_secret_on_a_reachable_address(
    store_urls: StoreUrls, host: str, secret: str | None
) -> None:
    done = serve(store_urls, host, **({"JWT_SECRET": secret} if secret else {}))
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"refusing to listen on {host}" in done.stderr
    assert "JWT_SECRET" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2", "[::1]"])
def test_loopback_development_may_keep_the_default(host: str) -> None:
    assert is_loopback_host(host)
    Settings(_env_file=None, environment="development").check_safe_to_serve(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "api.internal", ""])
def test_anything_else_needs_a_real_secret(host: str) -> None:
    assert not is_loopback_host(host)
    with pytest.raises(UnsafeConfiguration):
        Settings(_env_file=None, environment="development").check_safe_to_serve(host)
    Settings(_env_file=None, environment="development", jwt_secret=GOOD_SECRET).check_safe_to_serve(host)


def test_production_needs_a_real_secret_even_on_loopback() -> None:
    with pytest.raises(UnsafeConfiguration):
        Settings(_env_file=None, environment="production").check_safe_to_serve("127.0.0.1")
    Settings(_env_file=None, environment="production", jwt_secret=GOOD_SECRET).check_safe_to_serve(
        "127.0.0.1"
    )


def test_the_image_is_production_by_default() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    env_lines = [line for line in dockerfile.splitlines() if line.startswith("ENV ")]
    assert any("LEARNFLOW_ENV=production" in line for line in env_lines), env_lines
    # Its command listens on every interface, which is exactly why the check above matters.
    assert '"--host", "0.0.0.0"' in dockerfile
