"""docker-compose.yml is a valid Compose file that runs the system the spec describes.

Always: the YAML, interpolated with test values, validates against the Compose Specification
schema and has the services, dependencies and secrets handling we rely on. When a
``docker-compose`` (v1) or ``docker compose`` binary is on PATH, its own ``config -q`` must accept
the file too (that needs no Docker engine).
"""

# tests/data/compose-spec.json: compose/config/compose_spec.json from the PyPI wheel docker-compose==1.29.2 (Docker, Inc., Apache-2.0).

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SCHEMA = ROOT / "tests" / "data" / "compose-spec.json"

# Values for the variables compose must be given (their ${VAR:?...} refuse to start otherwise).
REQUIRED = {
    "POSTGRES_PASSWORD": "test-pg-password",
    "BOBBIN_SECRET_KEYS": "test-secret-keys",
    "FLOWER_PASSWORD": "test-flower-password",
}
WORKERS = {"worker-imports", "worker-pushes", "worker-writebacks", "worker-maintenance"}
APP_SERVICES = {"migrate", "beat", "flower", "web", "sandbox", "sandbox-joor"} | WORKERS
_VAR = re.compile(r"\$\{(\w+)(?:(:?[?-])([^}]*))?\}|\$(\w+)")


def interpolate(value, env: dict[str, str]):
    """Compose-style ${VAR}, ${VAR:-default}, ${VAR:?error} on every string in the document."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match) -> str:
        name, op, arg = m.group(1) or m.group(4), m.group(2), m.group(3)
        val = env.get(name)
        empty = val is None or (op is not None and op.startswith(":") and val == "")
        if op and op.endswith("?") and empty:
            raise KeyError(f"{name}: {arg}")
        if op and op.endswith("-") and empty:
            return arg
        return val or ""

    return _VAR.sub(sub, value.replace("$$", "\0")).replace("\0", "$")


def load(env: dict[str, str] = REQUIRED) -> dict:
    return interpolate(yaml.safe_load(COMPOSE.read_text()), env)


@pytest.fixture(scope="module")
def compose() -> dict:
    return load()


def test_validates_against_compose_spec(compose: dict) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft201909Validator(schema).validate(compose)


def test_refuses_to_start_without_each_secret() -> None:
    for name in REQUIRED:
        with pytest.raises(KeyError, match=name):
            load({k: v for k, v in REQUIRED.items() if k != name})


def test_services_and_start_order(compose: dict) -> None:
    services = compose["services"]
    assert {"postgres", "redis"} | APP_SERVICES <= set(services)
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    assert "--appendonly" in services["redis"]["command"]
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("beat", "flower", "web", *sorted(WORKERS)):
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"},
            "redis": {"condition": "service_healthy"},
        }, name
        assert services[name]["restart"] == "unless-stopped"
    assert services["migrate"]["restart"] == "no"
    for name in WORKERS:
        assert "-E" in services[name]["command"], name  # task events, or Flower shows no tasks


def _routes():
    """worker/routes.py read on its own (it imports nothing), without building the Celery app."""
    spec = importlib.util.spec_from_file_location("bobbin_worker_routes", ROOT / "worker" / "routes.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_worker_service_per_queue_group_and_every_queue_consumed(compose: dict) -> None:
    routes = _routes()
    consumed: dict[str, tuple[str, ...]] = {}
    for name in WORKERS:
        command = compose["services"][name]["command"]
        assert command[:4] == ["celery", "-A", "worker", "worker"], name
        consumed[name.removeprefix("worker-")] = tuple(command[command.index("-Q") + 1].split(","))
    # one service per group of worker/routes.py, consuming exactly that group's queues
    assert consumed == routes.WORKER_GROUPS
    assert sorted(q for queues in consumed.values() for q in queues) == sorted(routes.QUEUES)
    assert "worker" not in compose["services"]  # no catch-all worker beside the groups
    # the file says how to scale each group
    text = COMPOSE.read_text()
    assert "--scale worker-pushes=" in text


def test_exactly_one_beat(compose: dict) -> None:
    beat = compose["services"]["beat"]
    assert beat.get("deploy", {}).get("replicas", 1) == 1
    assert beat.get("scale", 1) == 1


def test_app_services_share_production_env(compose: dict) -> None:
    for name in APP_SERVICES:
        env = compose["services"][name]["environment"]
        assert env["BOBBIN_ENV"] == "production", name
        assert env["DATABASE_URL"] == "postgresql://bobbin:test-pg-password@postgres:5432/bobbin"
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["BOBBIN_SECRET_KEYS"] == REQUIRED["BOBBIN_SECRET_KEYS"]
        assert env["LOG_FORMAT"] == "json"


def test_flower_requires_auth(compose: dict) -> None:
    flower = compose["services"]["flower"]
    assert flower["environment"]["FLOWER_PASSWORD"] == REQUIRED["FLOWER_PASSWORD"]
    assert flower["environment"]["FLOWER_USER"]
    assert "5555:5555" in flower["ports"]
    # Flower reads flowerconfig.py from the working directory; the image must carry it.
    assert re.search(r"^COPY .*\bflowerconfig\.py\b", (ROOT / "Dockerfile").read_text(), re.M)


def test_web_serves_the_app_on_its_port(compose: dict) -> None:
    web = compose["services"]["web"]
    command = web["command"]
    assert command[:2] == ["bobbin", "web"]
    assert command[command.index("--host") + 1] == "0.0.0.0"  # reachable from outside the container
    port = command[command.index("--port") + 1]
    assert any(str(p).endswith(f":{port}") for p in web["ports"])
    assert f"{port}/healthz" in " ".join(web["healthcheck"]["test"])
    # the image carries the web package (and core, which everything imports)
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("web", "core"):
        assert re.search(rf"^COPY {package} \./{package}$", dockerfile, re.M), package


def test_sandboxes_are_the_partners_there_are(compose: dict) -> None:
    services = compose["services"]
    assert "--partner" not in services["sandbox"]["command"]  # Brandboom, the default
    joor = services["sandbox-joor"]["command"]
    assert joor[joor.index("--partner") + 1] == "joor"


def test_no_secret_values_in_the_file() -> None:
    raw = yaml.safe_load(COMPOSE.read_text())
    secret = re.compile(r"PASSWORD|SECRET|KEYS|TOKEN|_URL$")
    envs = [raw["x-bobbin-env"], raw["services"]["postgres"]["environment"]]
    for env in envs:
        for key, value in env.items():
            if secret.search(key) and key != "REDIS_URL":
                # Every secret comes from the environment; URLs may only embed such a reference.
                assert "${" in str(value), f"{key} is hardcoded"
    assert not re.search(r"://[^:/@\s]+:(?!\$\{)[^@\s]+@", COMPOSE.read_text()), "password in a URL"


def test_env_example_lists_every_setting_with_safe_values(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.settings import Settings

    example = (ROOT / ".env.example").read_text()
    names = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", example, re.M))
    aliases = {f.alias for f in Settings.model_fields.values()}
    assert aliases | {"POSTGRES_PASSWORD"} <= names
    for name in REQUIRED:
        assert re.search(rf"^{name}=$", example, re.M), f"{name} must ship empty"
    for name in aliases:
        monkeypatch.delenv(name, raising=False)
    Settings(_env_file=ROOT / ".env.example")  # the copied example is a working dev config


def test_compose_defaults_match_settings(compose: dict) -> None:
    from core.settings import Settings

    defaults = {f.alias: f.default for f in Settings.model_fields.values()}
    raw = yaml.safe_load(COMPOSE.read_text())["x-bobbin-env"]
    for key, value in raw.items():
        m = re.fullmatch(r"\$\{(\w+):-(.*)\}", str(value))
        if m and key in defaults and defaults[key] is not None:
            assert m.group(1) == key and m.group(2) == str(defaults[key]), key


def _compose_cli() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


@pytest.mark.skipif(_compose_cli() is None, reason="no docker-compose / docker compose on PATH")
def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED} | REQUIRED
    # Run from an empty directory so a developer's .env cannot change the outcome.
    result = subprocess.run(
        [*_compose_cli(), "-f", str(COMPOSE), "--project-directory", str(tmp_path), "config", "-q"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
