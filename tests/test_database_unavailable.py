"""A lost or refused database connection (a restart, a failover) is answered 503 with
Retry-After, on the API as JSON and on the pages as a page drawn without the database;
any other unhandled error stays a 500. The real restart is in test_faults.py."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
import time_machine
from django.db import InterfaceError, OperationalError, connection
from django.test import Client

from core.choices import Role
from tests.factories import CustomerFactory, nominate, user_for_role

pytestmark = pytest.mark.django_db

LOST = OperationalError("server closed the connection unexpectedly")


@pytest.fixture
def pm_client() -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user_for_role(Role.PROGRAM_MANAGER))
    return client


@pytest.mark.parametrize("error", [LOST, InterfaceError("connection already closed")])
def test_api_answers_503_with_retry_after(as_role: Any, error: Exception) -> None:
    client = as_role(Role.PROGRAM_MANAGER)
    client.raise_request_exception = False
    with mock.patch("vouchers.apis.vouchers_visible_to", side_effect=error):
        response = client.get("/api/v1/vouchers/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["code"] == "service_unavailable"


def test_page_answers_503_drawn_without_the_database(pm_client: Client, settings: Any) -> None:
    settings.DEBUG = False
    lost = {"yes": False}

    def lose_the_database(*args: Any, **kwargs: Any) -> None:
        lost["yes"] = True
        raise LOST

    def no_query_once_lost(execute: Any, sql: str, *args: Any) -> Any:
        assert not lost["yes"], f"the 503 page queried the database: {sql}"
        return execute(sql, *args)

    with (
        mock.patch("vouchers.pages.vouchers_visible_to", side_effect=lose_the_database),
        connection.execute_wrapper(no_query_once_lost),
    ):
        response = pm_client.get("/vouchers/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    page = response.content.decode()
    assert "Back in a moment" in page and "nothing you sent was saved" in page
    assert 'http-equiv="refresh"' in page  # a GET reloads by itself


def test_page_after_a_post_does_not_reload_into_a_get(pm_client: Client, fy24: Any) -> None:
    with time_machine.travel(fy24.window_start, tick=False):
        nomination = nominate(fy24, CustomerFactory(), user_for_role(Role.FIELD_REP))
    with mock.patch("nominations.pages.nomination_approve", side_effect=LOST):
        response = pm_client.post(f"/nominations/{nomination.pk}/approve/")
    assert response.status_code == 503
    page = response.content.decode()
    assert 'http-equiv="refresh"' not in page and "send the form again" in page


def test_other_errors_stay_500(pm_client: Client, as_role: Any) -> None:
    with mock.patch("vouchers.pages.vouchers_visible_to", side_effect=RuntimeError("a bug")):
        assert pm_client.get("/vouchers/").status_code == 500
    client = as_role(Role.PROGRAM_MANAGER)
    client.raise_request_exception = False
    with mock.patch("vouchers.apis.vouchers_visible_to", side_effect=RuntimeError("a bug")):
        response = client.get("/api/v1/vouchers/")
    assert response.status_code == 500 and response.json()["code"] == "server_error"


def test_503_page_needs_no_static_files_manifest(pm_client: Client, settings: Any) -> None:
    """Found by hand: with manifest storage and no collectstatic, `{% static %}` raised inside
    the handler and the 503 became a 500. The page is self-contained."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    with mock.patch("vouchers.pages.vouchers_visible_to", side_effect=LOST):
        response = pm_client.get("/vouchers/")
    assert response.status_code == 503
    assert "/static/" not in response.content.decode()
