"""Browser basics: login, logout, a home page per role, the admin and the
mail page for program managers only."""

from __future__ import annotations

import pytest
from django.test import Client

from core.choices import Role
from notifications.services import mail_enqueue
from tests.factories import PartnerFactory, user_for_role

pytestmark = pytest.mark.django_db

HOME_TEXT: dict[str, str] = {
    Role.PROGRAM_MANAGER: "You run the program",
    Role.FIELD_REP: "You nominate customers",
    Role.REVIEWER: "You review partners",
    Role.CUSTOMER: "You receive vouchers for",
    Role.PARTNER: "You redeem vouchers for",
}


def test_anonymous_is_sent_to_login(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    page = client.get("/login/")
    assert page.status_code == 200 and b"Sign in" in page.content


def test_bad_login_shows_form_error(client: Client) -> None:
    user_for_role(Role.FIELD_REP, username="rep1")
    response = client.post("/login/", {"username": "rep1", "password": "wrong"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


@pytest.mark.parametrize("role", list(HOME_TEXT))
def test_each_role_lands_on_its_home(client: Client, role: str, fy24: object) -> None:
    user_for_role(role, username="person")
    response = client.post(
        "/login/", {"username": "person", "password": "pass-word-123"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert HOME_TEXT[role].encode() in response.content
    assert b"Needs you now" in response.content


def test_program_manager_home_lists_missing_fx_rates_and_program(
    client: Client, fy24: object
) -> None:
    PartnerFactory(currency="JPY")
    client.force_login(user_for_role(Role.PROGRAM_MANAGER))
    content = client.get("/").content.decode()
    assert "JPY" in content and "R-PAY-1" in content
    assert "FY24-MWSDO" in content and "overlapping cap row" in content


def test_unapproved_partner_is_told_why(client: Client) -> None:
    client.force_login(user_for_role(Role.PARTNER, partner=PartnerFactory(frp_approved=False)))
    assert b"R-VOU-4" in client.get("/").content


def test_logout_ends_the_session(client: Client) -> None:
    client.force_login(user_for_role(Role.REVIEWER))
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("role", [Role.FIELD_REP, Role.REVIEWER, Role.CUSTOMER, Role.PARTNER])
def test_admin_program_page_and_mail_are_for_program_managers_only(
    client: Client, role: str, fy24: object
) -> None:
    client.force_login(user_for_role(role))
    assert client.get("/admin/").status_code == 302  # to login, as for anyone without access
    assert client.get("/admin/programs/caprow/").status_code == 302
    assert client.get("/mail/").status_code == 404
    assert client.get("/programs/FY24-MWSDO/").status_code == 404


def test_program_manager_reaches_admin_program_and_mail(client: Client, fy24: object) -> None:
    client.force_login(user_for_role(Role.PROGRAM_MANAGER))
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/programs/combinedcaprow/").status_code == 200
    page = client.get("/programs/FY24-MWSDO/")
    assert page.status_code == 200 and b"Superseded" in page.content
    mail = mail_enqueue(
        kind="test",
        to=["a@example.com"],
        subject="Hello <b>there</b>",
        template="mail/plain",
        context={"body": "Hi <script>x</script>"},
    )
    assert mail is not None
    listing = client.get("/mail/")
    assert b"Hello &lt;b&gt;there&lt;/b&gt;" in listing.content
    detail = client.get(f"/mail/{mail.pk}/")
    assert detail.status_code == 200 and b"<script>x</script>" not in detail.content


def test_healthz(client: Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_static_css_is_ours_and_no_cdn(client: Client) -> None:
    client.force_login(user_for_role(Role.PROGRAM_MANAGER))
    html = client.get("/").content.decode() + client.get("/api/v1/docs/").content.decode()
    assert "/static/css/portal.css" in html
    for cdn in ("cdn.jsdelivr", "unpkg.com", "cdnjs", "googleapis"):
        assert cdn not in html
