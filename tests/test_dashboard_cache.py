"""The program dashboard's figures are computed once per filter and period, and
the beat task keeps the unfiltered view fresh."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core.choices import Role
from reports.tasks import warm_dashboard
from tests.factories import bulk_vouchers, user_for_role

pytestmark = pytest.mark.django_db


def test_figures_are_reused_until_they_expire(fy24: Any, settings: Any) -> None:
    settings.DASHBOARD_CACHE_SECONDS = 60
    cache.clear()
    client = Client()
    client.force_login(user_for_role(Role.PROGRAM_MANAGER))
    bulk_vouchers(fy24, 3, issued_on=date(2024, 3, 1), expires_on=date(2024, 9, 1))
    first = client.get("/dashboard/")
    assert first.status_code == 200 and "Figures as of" in first.content.decode()
    with CaptureQueriesContext(connection) as ctx:
        again = client.get("/dashboard/")
    assert again.context["board"].stages[2].count == 3
    assert not any("vouchers_voucher" in q["sql"] for q in ctx.captured_queries)
    bulk_vouchers(fy24, 2, issued_on=date(2024, 3, 1), expires_on=date(2024, 9, 1))
    assert client.get("/dashboard/").context["board"].stages[2].count == 3  # until it expires
    warm_dashboard()  # the beat task recomputes the unfiltered view
    assert client.get("/dashboard/").context["board"].stages[2].count == 5
    assert client.get("/dashboard/?offer=DEPLOY").context["board"].stages[2].count == 5
    cache.clear()


def test_tests_compute_the_figures_every_time(fy24: Any) -> None:
    client = Client()
    client.force_login(user_for_role(Role.PROGRAM_MANAGER))
    assert "Figures as of" not in client.get("/dashboard/").content.decode()
