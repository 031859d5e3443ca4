"""compose.yaml and .env.example are checked statically here (no Docker engine on CI)."""

from __future__ import annotations

from pathlib import Path

import yaml

from app.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def setting_env_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names.add(str(alias) if isinstance(alias, str) else name.upper())
    return names


def env_example_names() -> set[str]:
    names = set()
    for line in (ROOT / ".env.example").read_text().splitlines():
        line = line.strip().lstrip("#").strip()
        if "=" in line and line.split("=", 1)[0].isupper() and " " not in line.split("=", 1)[0]:
            names.add(line.split("=", 1)[0])
    return names


def test_env_example_lists_exactly_the_settings() -> None:
    documented = env_example_names()
    expected = setting_env_names()
    assert expected - documented == set(), "settings missing from .env.example"
    assert documented - setting_env_names() == set(), ".env.example names unknown settings"


def test_compose_describes_the_production_topology() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "mongo", "redis", "api", "worker", "lb"} <= set(services)
    assert services["api"]["deploy"]["replicas"] >= 2
    assert services["worker"]["deploy"]["replicas"] >= 2
    app_env = services["api"]["environment"]
    assert {"DATABASE_URL", "REDIS_URL", "MONGO_URL", "JWT_SECRET"} <= set(app_env)
    assert app_env["LEARNFLOW_ENV"] == "production"
    assert set(app_env) <= setting_env_names()
    for name in ("postgres", "mongo", "redis"):
        assert "healthcheck" in services[name]
    assert (ROOT / services["lb"]["volumes"][0].split(":")[0]).exists()
    assert (ROOT / "Dockerfile").exists()
