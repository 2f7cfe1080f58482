"""A real browser against a live server: each demo role signs in and lands on its home."""

from __future__ import annotations

from typing import Any

import pytest

from core.choices import Role
from portal.demo import DEMO_PASSWORD, demo_seed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(fy24: Any) -> list[Any]:
    return demo_seed(fx_valid_from=fy24.window_start)


def test_every_demo_login_reaches_its_home(live_server: Any, page: Any, demo: list[Any]) -> None:
    for login in demo:
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(login.username)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/")
        assert page.get_by_role("heading", name="Needs you now").is_visible()
        assert page.locator(".badge--role").inner_text() == Role(login.role).label, login
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{live_server.url}/login/")


def test_program_manager_sees_the_fy24_cap_table(
    live_server: Any, page: Any, demo: list[Any]
) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("pm")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Program FY24-MWSDO").click()
    assert page.get_by_role("heading", name="Combined caps R-CAP-4").is_visible()
    assert page.locator("tr.row--superseded").count() == 2
