"""Accounts and sessions: lockout with a cool-off, a fresh session on login, and a Content-Security-
Policy with no inline scripts on any page."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.choices import Role
from tests.factories import user_for_role

pytestmark = pytest.mark.django_db


def _login(client: Client, password: str) -> Any:
    return client.post("/login/", {"username": "victim", "password": password})


def test_lockout_after_repeated_failures_then_cool_off() -> None:
    user_for_role(Role.PARTNER, username="victim")
    client = Client()
    for _ in range(4):
        assert _login(client, "wrong").status_code == 200  # the form again, with its error
    assert _login(client, "wrong").status_code == 429  # the fifth failure locks
    locked = _login(client, "pass-word-123")  # even the right password now
    assert locked.status_code == 429 and b"Too many attempts" in locked.content
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert _login(Client(), "pass-word-123").status_code == 302


def test_token_endpoint_is_locked_too() -> None:
    user_for_role(Role.PARTNER, username="victim")
    api = APIClient()
    for _ in range(5):
        api.post("/api/v1/auth/token/", {"username": "victim", "password": "nope"}, format="json")
    response = api.post(
        "/api/v1/auth/token/", {"username": "victim", "password": "pass-word-123"}, format="json"
    )
    assert response.status_code == 429 and "token" not in response.json()
    assert response["Retry-After"] == "900"  # AXES_COOLOFF_TIME: 15 minutes
    assert "paused for 15 minutes" in response.json()["detail"]


def test_login_starts_a_fresh_session() -> None:
    user_for_role(Role.REVIEWER, username="victim")
    client = Client()
    client.get("/login/")
    client.cookies["sessionid"] = "attacker-chosen-session"
    assert _login(client, "pass-word-123").status_code == 302
    assert client.cookies["sessionid"].value != "attacker-chosen-session"
    assert client.cookies["sessionid"]["httponly"]
    assert client.cookies["sessionid"]["samesite"] == "Lax"


@pytest.mark.parametrize("path", ["/login/", "/", "/api/v1/docs/", "/dashboard/", "/vouchers/"])
def test_csp_allows_no_inline_scripts(path: str, fy24: Any) -> None:
    client = Client()
    if path != "/login/":  # the login page sends signed-in users home
        client.force_login(user_for_role(Role.PROGRAM_MANAGER))
    response = client.get(path)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+)", policy)
    assert (
        script_src
        and "'unsafe-inline'" not in script_src.group(1)
        and "'unsafe-eval'" not in script_src.group(1)
    )
    assert "object-src 'none'" in policy
    html = response.content.decode()
    inline = [m for m in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html)]
    assert inline == [], inline
    assert " on" + "click=" not in html and " on" + "load=" not in html
