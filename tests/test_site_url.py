"""Links in mail and PDFs point where the portal is served: `PORTAL_PORT=8100 make run` links
to port 8100 in every process it starts (web, worker, seeding), unless SITE_URL is set."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from typing import Any

import pytest
import time_machine
from django.core import mail

from vouchers.pdf import voucher_pdf_context


def _site_url(**variables: str) -> str:
    env = {
        key: value for key, value in os.environ.items() if key not in ("SITE_URL", "PORTAL_PORT")
    }
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.SITE_URL)",
        ],
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings.test", **variables},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def test_links_follow_the_port_make_run_serves_on() -> None:
    assert _site_url() == "http://127.0.0.1:8000"
    assert _site_url(PORTAL_PORT="8100") == "http://127.0.0.1:8100"
    assert (
        _site_url(PORTAL_PORT="8100", SITE_URL="https://vouchers.example.com")
        == "https://vouchers.example.com"
    )


@pytest.mark.django_db
def test_the_issue_mail_and_the_voucher_pdf_link_to_the_site_url(
    fy24: object, settings: object, django_capture_on_commit_callbacks: Any
) -> None:
    from core.choices import Role
    from tests.factories import CustomerFactory, issue_voucher, user_for_role

    settings.SITE_URL = "http://127.0.0.1:8100"  # type: ignore[attr-defined]
    customer = CustomerFactory()
    user_for_role(Role.CUSTOMER, customer=customer, email="it@customer.example")
    with (
        time_machine.travel(date(2024, 3, 1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        voucher = issue_voucher(
            fy24, customer, user_for_role(Role.FIELD_REP), user_for_role(Role.PROGRAM_MANAGER)
        )
    bodies = [message.body for message in mail.outbox]
    assert bodies and all("127.0.0.1:8000" not in body for body in bodies), (
        "a mail links to the default port"
    )
    assert any("http://127.0.0.1:8100/" in body for body in bodies)
    assert voucher_pdf_context(voucher)["site_url"] == "http://127.0.0.1:8100"
