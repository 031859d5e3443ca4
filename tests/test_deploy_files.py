"""compose.yaml, deploy/nginx.conf and .env.example are checked statically here (no Docker engine on CI):
the compose file against the Compose Specification's JSON schema (as vendored by check-jsonschema), then
the production topology the README describes."""

from __future__ import annotations

import copy
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from app.config import Settings

ROOT = Path(__file__).resolve().parent.parent
SECRETS = ("JWT_SECRET", "POSTGRES_PASSWORD", "MONGO_PASSWORD", "REDIS_PASSWORD")
STORES = ("postgres", "mongo", "redis")
APP_SERVICES = ("migrate", "api", "worker")
CLUSTER_NODES = ("redis-node-1", "redis-node-2", "redis-node-3")
CLUSTER_PROFILE = (*CLUSTER_NODES, "redis-cluster-init")
ONE_SHOT = ("migrate", "redis-cluster-init")


def setting_env_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names.add(str(alias) if isinstance(alias, str) else name.upper())
    return names


def env_example_names(path: Path = ROOT / ".env.example") -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.strip().lstrip("#").strip()
        if "=" in line and line.split("=", 1)[0].isupper() and " " not in line.split("=", 1)[0]:
            names.add(line.split("=", 1)[0])
    return names


def compose_text() -> str:
    return (ROOT / "compose.yaml").read_text()


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(compose_text())
    return loaded


def compose_schema() -> dict[str, Any]:
    vendored = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema: dict[str, Any] = json.loads(vendored.read_text())
    return schema


def schema_errors(document: dict[str, Any]) -> list[str]:
    schema = compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_env_example_lists_exactly_the_settings() -> None:
    documented = env_example_names()
    expected = setting_env_names()
    assert expected - documented == set(), "settings missing from .env.example"
    assert documented - setting_env_names() == set(), ".env.example names unknown settings"


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    assert schema_errors(compose()) == []


@pytest.mark.parametrize(
    "breakage",
    [
        lambda c: c["services"]["api"]["deploy"].update(replicas=[2]),
        lambda c: c["services"]["worker"]["healthcheck"].update(interval=10),
        lambda c: c["services"]["api"]["depends_on"]["migrate"].update(condition="when_ready"),
        lambda c: c["services"]["lb"].update(volumez=[]),
    ],
)
def test_the_schema_check_catches_mistakes(breakage: Any) -> None:
    broken = copy.deepcopy(compose())
    breakage(broken)
    assert schema_errors(broken) != []


def test_compose_describes_the_production_topology() -> None:
    services = compose()["services"]
    assert set(services) == {*STORES, *APP_SERVICES, "lb", *CLUSTER_PROFILE}
    # Everything of the Redis Cluster is optional: `docker compose up` without the profile starts none of it.
    assert {name for name, service in services.items() if service.get("profiles")} == set(CLUSTER_PROFILE)
    assert services["api"]["deploy"]["replicas"] >= 2
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert services["migrate"]["command"] == ["learnflow", "migrate"]
    assert services["migrate"]["restart"] == "no"
    for name in ("api", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}
        assert all(depends[store] == {"condition": "service_healthy"} for store in STORES)
    migrate_depends = {name: dep for name, dep in services["migrate"]["depends_on"].items() if name in STORES}
    assert {store: {"condition": "service_healthy"} for store in STORES} == migrate_depends
    assert services["lb"]["depends_on"] == {"api": {"condition": "service_healthy"}}
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert set(env) <= setting_env_names(), set(env) - setting_env_names()
        assert env["LEARNFLOW_ENV"] == "production"
        assert {"DATABASE_URL", "REDIS_URL", "MONGO_URL", "JWT_SECRET"} <= set(env)
    # Workers run as their own replicas, never inside the api processes as well.
    assert services["api"]["environment"]["RUN_WORKERS_IN_PROCESS"] == "false"
    assert (ROOT / services["lb"]["volumes"][0].split(":")[0]).exists()
    assert (ROOT / "Dockerfile").exists()


def test_every_long_running_service_has_a_real_healthcheck() -> None:
    services = compose()["services"]
    for name, service in services.items():
        if name in ONE_SHOT:  # `service_completed_successfully` is its health
            assert "healthcheck" not in service
            continue
        check = service.get("healthcheck")
        assert check is not None and not check.get("disable"), f"{name} has no healthcheck"
        test = check["test"]
        assert isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, name
    api_check = " ".join(services["api"]["healthcheck"]["test"])
    assert "/api/ready" in api_check
    worker_check = " ".join(services["worker"]["healthcheck"]["test"])
    assert "xinfo_consumers('lf:telemetry', 'telemetry-workers')" in worker_check
    assert "rs.initiate" in " ".join(services["mongo"]["healthcheck"]["test"])
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert "/api/health" in " ".join(services["lb"]["healthcheck"]["test"])


def test_the_worker_healthcheck_names_the_real_stream_and_group() -> None:
    from app.telemetry.stream import GROUP, STREAM

    worker_check = " ".join(compose()["services"]["worker"]["healthcheck"]["test"])
    assert f"'{STREAM}', '{GROUP}'" in worker_check
    compile(compose()["services"]["worker"]["healthcheck"]["test"][3], "healthcheck", "exec")


def test_mongo_is_a_replica_set_of_one() -> None:
    services = compose()["services"]
    assert "--replSet rs0" in " ".join(services["mongo"]["entrypoint"])
    mongo_url = services["api"]["environment"]["MONGO_URL"]
    assert "replicaSet=rs0" in mongo_url and "@mongo:27017" in mongo_url


def test_secrets_are_required_and_never_defaulted() -> None:
    text = compose_text()
    for name in SECRETS:
        assert f"${{{name}:?" in text, f"{name} is not required"
        # Every reference to it is the required form: no default, no bare ${NAME}.
        references = re.findall(r"\$\{" + name + r"([^}]*)\}", text)
        assert references and all(ref.startswith(":?") for ref in references), (name, references)
    services = compose()["services"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert services["mongo"]["environment"]["MONGO_INITDB_ROOT_PASSWORD"].startswith("${MONGO_PASSWORD:?")
    assert "${REDIS_PASSWORD:?" in " ".join(services["redis"]["command"])
    # Heartbeats are answered as credited after their append: it must be on disk by then.
    redis_command = [str(part) for part in services["redis"]["command"]]
    assert redis_command[redis_command.index("--appendfsync") + 1] == "always"
    env = services["api"]["environment"]
    assert "${POSTGRES_PASSWORD:?" in env["DATABASE_URL"]
    assert "${REDIS_PASSWORD:?" in env["REDIS_URL"]
    assert "${MONGO_PASSWORD:?" in env["MONGO_URL"]


def test_every_compose_variable_is_documented() -> None:
    code = "\n".join(line for line in compose_text().splitlines() if not line.lstrip().startswith("#"))
    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", code))
    assert used == env_example_names(ROOT / "deploy" / "compose.env.example")


def test_named_volumes_are_declared_and_hold_every_store() -> None:
    document = compose()
    declared = set(document["volumes"])
    used = set()
    for service in document["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                used.add(source)
    assert used == declared
    for store, path in (("postgres", "/var/lib/postgresql/data"), ("mongo", "/data/db"), ("redis", "/data")):
        volumes = document["services"][store]["volumes"]
        mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in volumes}
        assert mounts.get(path) in declared, store


def test_nginx_balances_the_api_replicas_and_proxies_websockets() -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert re.search(r"upstream learnflow_api \{[^}]*server api:8000", conf)
    assert "proxy_pass http://learnflow_api;" in conf
    assert "proxy_http_version 1.1;" in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "proxy_set_header Connection $connection_upgrade;" in conf
    assert re.search(r"map \$http_upgrade \$connection_upgrade \{\s*default upgrade;", conf)
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf
    timeout = re.search(r"proxy_read_timeout (\d+)s;", conf)
    assert timeout is not None and int(timeout.group(1)) > 25  # longer than the hub's ping interval
    assert conf.count("{") == conf.count("}")


def test_the_cluster_profile_is_a_three_master_redis_cluster_the_app_can_use() -> None:
    services = compose()["services"]
    for name in CLUSTER_NODES:
        node = services[name]
        assert node["profiles"] == ["cluster"]
        command = " ".join(node["command"])
        assert "--cluster-enabled yes" in command and "--appendonly yes" in command
        assert "--requirepass ${REDIS_PASSWORD:?" in command and "--masterauth ${REDIS_PASSWORD:?" in command
        assert [volume.split(":")[1] for volume in node["volumes"]] == ["/data"]
    init = services["redis-cluster-init"]
    assert init["profiles"] == ["cluster"] and init["restart"] == "no"
    assert init["depends_on"] == {name: {"condition": "service_healthy"} for name in CLUSTER_NODES}
    script = " ".join(init["entrypoint"])
    assert "--cluster create" in script and all(f"getent hosts {name}" in script for name in CLUSTER_NODES)
    assert "cluster_state:ok" in script  # a formed cluster is left alone on later runs
    for name in APP_SERVICES:
        service = services[name]
        assert service["depends_on"]["redis-cluster-init"] == {
            "condition": "service_completed_successfully",
            "required": False,
        }
        assert service["environment"]["REDIS_CLUSTER_URLS"] == "${REDIS_CLUSTER_URLS:-}"
    example = (ROOT / "deploy" / "compose.env.example").read_text()
    seeds = next(line for line in example.splitlines() if "REDIS_CLUSTER_URLS=" in line).split("=", 1)[1]
    assert [url.split("://")[1].rsplit("@", 1)[-1] for url in seeds.split(",")] == [
        f"{n}:6379" for n in CLUSTER_NODES
    ]
    # The app reads them as a cluster.
    settings = Settings(_env_file=None, redis_url="redis://x:1", redis_cluster_urls=seeds)
    assert settings.redis_url is not None and settings.redis_url.startswith("redis+cluster://")
