"""Shared fixtures. Tests marked `postgres`, `redis` or `browser` need those services;
locally they skip when a service is missing, in CI (REQUIRE_SERVICES=1) any skip fails."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from tests import factories

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _service_missing(marker: str) -> str | None:
    if marker == "postgres" and not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return "needs PostgreSQL: set DATABASE_URL"
    if marker == "redis" and not settings.REDIS_URL:
        return "needs Redis: set REDIS_URL"
    if marker == "browser" and not os.path.exists(CHROMIUM):
        return "needs Debian's chromium (make browser)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for marker in ("postgres", "redis", "browser"):
            if item.get_closest_marker(marker) and (reason := _service_missing(marker)):
                item.add_marker(pytest.mark.skip(reason=reason))
    # The slow runs (minutes of real servers under load) start first: under pytest-xdist
    # the other workers' tests then run beside them instead of waiting behind them.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not REQUIRE_SERVICES:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        for report in skipped:
            print(f"\nREQUIRE_SERVICES: skipped test is a failure here: {report.nodeid}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def fy24(db: None) -> Any:
    """The FY24 program, loaded from its data file as `load_program fy24` does."""
    from programs.models import Program

    program_rows_load(name="fy24")
    return Program.objects.get(code="FY24-MWSDO")


_PROGRAM_ROWS: dict[str, list[tuple[Any, list[Any]]]] = {}


def program_rows_load(*, name: str) -> None:
    """`program_load(name=...)` into an empty program catalogue. Each pytest process runs
    the loader itself the first time and keeps the rows it wrote; later tests get the same
    rows (same keys) inserted in bulk, a tenth of the loader's hundred-odd statements. With
    programs already present it is simply the loader."""
    from django.apps import apps
    from django.db import transaction

    from programs.models import Program
    from programs.services import program_load

    tables = list(apps.get_app_config("programs").get_models(include_auto_created=True))
    if Program.objects.exists():
        program_load(name=name)
        return
    rows = _PROGRAM_ROWS.get(name)
    if rows is None:
        program_load(name=name)
        _PROGRAM_ROWS[name] = [(model, list(model._default_manager.all())) for model in tables]
        return
    with transaction.atomic():  # foreign keys are checked at its end, whatever the order
        for model, objects in rows:
            model._default_manager.bulk_create(objects)


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def as_role(db: None) -> Callable[..., APIClient]:
    """`as_role("partner")` -> an APIClient authenticated by token as a new user of that role."""

    def make(role: str, **kwargs: Any) -> APIClient:
        user = factories.user_for_role(role, **kwargs)
        client = APIClient()
        from accounts.services import api_token_issue

        _token, key = api_token_issue(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        client.user = user  # type: ignore[attr-defined]
        return client

    return make


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _private_storage(settings: Any, tmp_path: Any) -> None:
    """Each test stores uploads in its own folder, so "nothing was stored" can be checked."""
    if settings.STORAGES["default"]["BACKEND"].endswith("FileSystemStorage"):
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(tmp_path / "private")},
            },
        }


def database_url() -> str:
    """This test's database (pytest-django's test_ copy) as a DATABASE_URL for subprocesses."""
    db = settings.DATABASES["default"]
    return (
        f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    )


def worker_env(mail_dir: Any) -> dict[str, str]:
    """The environment of a real Celery worker process on this test's database."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "REDIS_URL": settings.REDIS_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
    }
