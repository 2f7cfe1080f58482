"""What every answer carries: `Cache-Control: no-store` on pages, API answers, PDFs and
CSVs (static files keep their own caching), and `__Host-` session and CSRF cookies under
the production settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from core.choices import Role
from tests.factories import CustomerFactory, issue_voucher, user_for_role

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


@pytest.fixture
def voucher(fy24: Any) -> Any:
    customer = CustomerFactory()
    contact = user_for_role(Role.CUSTOMER, customer=customer)
    rep, pm = user_for_role(Role.FIELD_REP), user_for_role(Role.PROGRAM_MANAGER)
    import time_machine

    with time_machine.travel(fy24.window_start, tick=False):
        issued = issue_voucher(fy24, customer, rep, pm)
    return {"voucher": issued, "contact": contact, "pm": pm}


def test_pages_api_pdfs_and_csvs_are_not_stored(voucher: Any) -> None:
    contact, pm, code = voucher["contact"], voucher["pm"], voucher["voucher"].code
    pages = Client()
    pages.force_login(contact)
    api = APIClient()
    api.force_authenticate(contact)
    staff = Client()
    staff.force_login(pm)
    answers = {
        "page": pages.get(f"/vouchers/{code}/"),
        "api": api.get(f"/api/v1/vouchers/{code}/"),
        "pdf": api.get(f"/api/v1/vouchers/{code}/voucher.pdf"),
        "csv": staff.get("/exports/vouchers.csv"),
        "login": Client().get("/login/"),
        "token": APIClient().post(
            "/api/v1/auth/token/", {"username": "x", "password": "y"}, format="json"
        ),
        "not found": api.get("/api/v1/vouchers/AAAA-AAAA-AAAA-AAAA/"),
    }
    for name, response in answers.items():
        assert response.status_code < 500, name
        directives = [d.strip() for d in response.get("Cache-Control", "").split(",")]
        assert "no-store" in directives, (name, response.get("Cache-Control"))


def test_static_files_keep_their_own_caching() -> None:
    response = Client().get("/static/css/portal.css")
    assert response.status_code == 200
    assert response.get("Cache-Control", "") != "no-store"


def test_production_cookies_carry_the_host_prefix() -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "x9!" + "k" * 60 + "Q7#zv",
        "DJANGO_ALLOWED_HOSTS": "portal.example.com",
    }
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_PATH, s.CSRF_COOKIE_PATH, "
        "s.SESSION_COOKIE_DOMAIN, s.CSRF_COOKIE_DOMAIN)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "__Host-sessionid",
        "__Host-csrftoken",
        "True",
        "True",
        "/",
        "/",
        "None",
        "None",
    ]
