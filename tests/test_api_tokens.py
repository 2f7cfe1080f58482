"""API tokens as api.md says (Conventions: Auth): `POST /api/v1/auth/token/` issues a new
key every time, stored only as a hash; it expires after API_TOKEN_TTL (10 hours by
default, never more than 30 days); `DELETE` with it revokes it; a password change or a
deactivation revokes all of the user's; the tokens page shows one's own and revokes them.
Every refusal is a 401 with the API's error body. On PostgreSQL the lookup is the one
prepared statement of accounts/authentication.py, on SQLite the ORM: both run here."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, models, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from accounts.services import (
    LAST_USED_EVERY,
    api_token_digest,
    api_token_issue,
    api_token_revoke_all,
)
from accounts.ttl import DEFAULT_TTL, MAX_TTL, parse_ttl
from core.choices import Role
from core.models import Event
from tests.factories import user_for_role

pytestmark = pytest.mark.django_db
PASSWORD = "pass-word-123"  # tests.factories' password for every user
ME = "/api/v1/users/me/"
TOKEN = "/api/v1/auth/token/"


def obtain(username: str, **extra: Any) -> Any:
    return APIClient().post(
        TOKEN, {"username": username, "password": PASSWORD, **extra}, format="json"
    )


def client_for(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def refusal(key: str) -> dict[str, Any]:
    """The answer to a call made with `key`, which must be a 401 with the error body."""
    response = client_for(key).get(ME)
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] == "Token"
    body: dict[str, Any] = response.json()
    assert set(body) == {"detail", "code"}, body
    return body


@pytest.fixture(autouse=True)
def _fresh_login_throttle() -> Iterator[None]:
    """These tests sign in often: the login throttle's counts (20 a minute per address, in
    the cache) must not reach the next test, here or in another module."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def partner() -> User:
    return user_for_role(Role.PARTNER, username="pat")


# -- issuing ---------------------------------------------------------------------------------


def test_each_post_issues_a_new_key_with_its_expiry(partner: User) -> None:
    with time_machine.travel("2026-03-02 09:00:00+00:00", tick=False):
        first, second = obtain("pat"), obtain("pat", name="nightly export")
        assert first.status_code == 200 and second.status_code == 200
        assert set(first.json()) == {"token", "expires_at"}
        assert first.json()["expires_at"] == "2026-03-02T19:00:00Z"  # 10 hours (DEFAULT_TTL)
        keys = [first.json()["token"], second.json()["token"]]
        assert keys[0] != keys[1] and all(k.startswith("vpt_") for k in keys)
        for key in keys:  # both work, side by side
            assert client_for(key).get(ME).json()["username"] == "pat"
    assert list(partner.api_tokens.order_by("pk").values_list("name", flat=True)) == [
        "",
        "nightly export",
    ]


def test_the_database_holds_a_hash_never_the_key(partner: User) -> None:
    key = obtain("pat", name="ci").json()["token"]
    token = ApiToken.objects.get(user=partner)
    assert token.digest == hashlib.sha256(key.encode()).hexdigest() == api_token_digest(key)
    assert key.startswith(token.prefix) and len(token.prefix) == 12 < len(key)
    # Nowhere in the database: every text column of every table (events included).
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField | models.JSONField):
                found = model._default_manager.filter(**{f"{field.name}__icontains": key})
                assert not found.exists(), f"{model.__name__}.{field.name} holds the key"


def test_issuing_and_revoking_are_events(partner: User) -> None:
    key = obtain("pat").json()["token"]
    token = ApiToken.objects.get(user=partner)
    assert client_for(key).delete(TOKEN).status_code == 204
    events = Event.objects.filter(subject="api_token", subject_id=token.pk)
    assert [(e.action, e.from_state, e.to_state, e.actor_id) for e in events] == [
        ("issued", "", "active", partner.pk),
        ("revoked", "active", "revoked", partner.pk),
    ]
    assert key not in str([e.data for e in events])


def test_bad_credentials_answer_as_before(partner: User) -> None:
    wrong = APIClient().post(TOKEN, {"username": "pat", "password": "nope"}, format="json")
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "invalid"
    assert wrong.json()["detail"] == "Unable to log in with provided credentials."
    assert not ApiToken.objects.exists()
    partner.is_active = False
    partner.save()
    assert obtain("pat").status_code == 400  # inactive: Django's backends refuse


def test_a_stale_header_does_not_stand_in_the_way_of_a_new_token(partner: User) -> None:
    old = obtain("pat").json()["token"]
    client = client_for(old)
    assert client.delete(TOKEN).status_code == 204
    response = client.post(TOKEN, {"username": "pat", "password": PASSWORD}, format="json")
    assert response.status_code == 200 and response.json()["token"] != old


def test_the_token_endpoint_takes_json_only(partner: User) -> None:
    """One encoding per operation, as everywhere in the API (DRF's view also took forms).
    415 from the parser, or 400 (no fields) once a middleware has read the form itself."""
    credentials = {"username": "pat", "password": PASSWORD}
    response = APIClient().post(TOKEN, credentials, format="multipart")
    assert response.status_code in (400, 415) and not ApiToken.objects.exists()


# -- expiry and the TTL ----------------------------------------------------------------------


def test_a_token_expires_after_the_ttl(partner: User) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        key = obtain("pat").json()["token"]
    with time_machine.travel(start + DEFAULT_TTL - timedelta(seconds=1), tick=False):
        assert client_for(key).get(ME).status_code == 200
    with time_machine.travel(start + DEFAULT_TTL, tick=False):
        body = refusal(key)
    assert body["code"] == "token_expired" and "expired" in body["detail"]


def test_the_ttl_setting_is_used(partner: User, settings: Any) -> None:
    settings.API_TOKEN_TTL = timedelta(minutes=30)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        response = obtain("pat")
    token = ApiToken.objects.get(user=partner)
    assert token.expires_at - token.created_at == timedelta(minutes=30)
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        assert refusal(response.json()["token"])["code"] == "token_expired"


@pytest.mark.parametrize(
    ("value", "ttl"),
    [
        ("36000", timedelta(hours=10)),
        ("PT10H", timedelta(hours=10)),
        ("10:00:00", timedelta(hours=10)),
        ("P30D", MAX_TTL),
        (str(int(MAX_TTL.total_seconds())), MAX_TTL),
    ],
)
def test_ttl_values_the_setting_reads(value: str, ttl: timedelta) -> None:
    assert parse_ttl(value) == ttl


@pytest.mark.parametrize(
    "value", [str(int(MAX_TTL.total_seconds()) + 1), "P31D", "0", "-5", "PT0S", "ten hours"]
)
def test_ttl_above_30_days_or_not_above_zero_is_refused(value: str) -> None:
    with pytest.raises(ImproperlyConfigured):
        parse_ttl(value)


def test_settings_refuse_to_load_with_a_ttl_above_30_days() -> None:
    """Refused, not clamped: the process does not start."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    run = [sys.executable, "-c", "import django; django.setup()"]
    refused = subprocess.run(
        run, env={**env, "API_TOKEN_TTL": "P31D"}, capture_output=True, text=True, timeout=120
    )
    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused.stderr and "at most 30 days" in refused.stderr
    fine = subprocess.run(
        run, env={**env, "API_TOKEN_TTL": "PT2H"}, capture_output=True, text=True, timeout=120
    )
    assert fine.returncode == 0, fine.stderr


def test_the_service_and_the_database_refuse_more_than_30_days(partner: User) -> None:
    with pytest.raises(ValueError, match="at most 30 days"):
        api_token_issue(user=partner, ttl=MAX_TTL + timedelta(seconds=1))
    token, _key = api_token_issue(user=partner, ttl=MAX_TTL)  # the ceiling itself is fine
    assert token.expires_at - token.created_at == MAX_TTL
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiToken.objects.create(
            user=partner,
            prefix="vpt_x",
            digest="0" * 64,
            created_at=now,
            expires_at=now + MAX_TTL + timedelta(seconds=1),
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiToken.objects.create(  # a key stored as itself, not its SHA-256
            user=partner, prefix="vpt_x", digest="vpt_secret", expires_at=now + DEFAULT_TTL
        )


# -- revoking --------------------------------------------------------------------------------


def test_delete_revokes_the_calling_token_only(partner: User) -> None:
    key, other = obtain("pat").json()["token"], obtain("pat").json()["token"]
    response = client_for(key).delete(TOKEN)
    assert response.status_code == 204 and response.content == b""
    assert refusal(key) == {
        "detail": "This token was revoked; ask POST /api/v1/auth/token/ for a new one.",
        "code": "token_revoked",
    }
    assert client_for(key).delete(TOKEN).status_code == 401  # not twice
    assert client_for(other).get(ME).status_code == 200
    revoked = ApiToken.objects.get(digest=api_token_digest(key))
    assert revoked.revoked_reason == ApiToken.RevokedReason.DELETED


def test_delete_needs_a_token(partner: User) -> None:
    assert APIClient().delete(TOKEN).status_code == 401
    session = APIClient()
    session.force_login(partner)
    response = session.delete(TOKEN)
    assert response.status_code == 400 and response.json()["code"] == "not_token_authenticated"


def test_unknown_and_malformed_keys_answer_401_with_the_error_body() -> None:
    assert refusal("vpt_" + "x" * 51) == {
        "detail": "Invalid token.",
        "code": "authentication_failed",
    }
    assert refusal("0" * 40)["code"] == "authentication_failed"  # an old DRF-style key
    response = APIClient().get(ME, HTTP_AUTHORIZATION="Token")
    assert response.status_code == 401 and response.json()["code"] == "authentication_failed"


def test_a_password_change_revokes_every_token_of_the_user(partner: User) -> None:
    keys = [obtain("pat").json()["token"] for _ in range(2)]
    bystander = user_for_role(Role.REVIEWER)
    _token, theirs = api_token_issue(user=bystander)
    partner.set_password("a-new-pass-word-456")
    partner.save()
    for key in keys:
        assert refusal(key)["code"] == "token_revoked"
    assert set(partner.api_tokens.values_list("revoked_reason", flat=True)) == {
        ApiToken.RevokedReason.PASSWORD_CHANGED
    }
    assert client_for(theirs).get(ME).status_code == 200
    assert Event.objects.filter(subject="api_token", action="revoked").count() == 2


def test_a_password_saved_alone_or_made_unusable_revokes_too(partner: User) -> None:
    _t, key = api_token_issue(user=partner)
    partner.set_password("a-new-pass-word-456")
    partner.save(update_fields=["password"])
    assert refusal(key)["code"] == "token_revoked"
    _t, key = api_token_issue(user=partner)
    partner.set_unusable_password()
    partner.save(update_fields=["password"])
    assert refusal(key)["code"] == "token_revoked"


def test_a_password_changed_in_the_admin_revokes(partner: User) -> None:
    _t, key = api_token_issue(user=partner)
    admin = Client()
    admin.force_login(user_for_role(Role.PROGRAM_MANAGER))
    response = admin.post(
        f"/admin/accounts/user/{partner.pk}/password/",
        {"password1": "a-new-pass-word-456", "password2": "a-new-pass-word-456"},
    )
    assert response.status_code == 302, response.content[:500]
    assert refusal(key)["code"] == "token_revoked"


def test_rehashing_on_sign_in_is_not_a_password_change(partner: User, settings: Any) -> None:
    """A hasher upgrade: Django stores a new hash of the same password on the next sign-in."""
    _t, key = api_token_issue(user=partner)
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    before = User.objects.get(pk=partner.pk).password
    assert obtain("pat").status_code == 200
    assert User.objects.get(pk=partner.pk).password != before  # re-hashed with PBKDF2
    assert client_for(key).get(ME).status_code == 200


def test_saving_other_fields_revokes_nothing(partner: User) -> None:
    _t, key = api_token_issue(user=partner)
    partner.first_name = "Pat"
    partner.save()
    partner.last_login = timezone.now()
    partner.save(update_fields=["last_login"])
    assert client_for(key).get(ME).status_code == 200


def test_deactivation_revokes_every_token(partner: User) -> None:
    _t, key = api_token_issue(user=partner)
    partner.is_active = False
    partner.save(update_fields=["is_active"])
    assert refusal(key)["code"] == "token_revoked"
    assert partner.api_tokens.get().revoked_reason == ApiToken.RevokedReason.DEACTIVATED
    partner.is_active = True
    partner.save()
    assert refusal(key)["code"] == "token_revoked"  # reactivation brings none back


def test_an_inactive_user_is_refused_even_without_the_signal(partner: User) -> None:
    """QuerySet.update() sends no signal; the lookup itself checks the user."""
    _t, key = api_token_issue(user=partner)
    User.objects.filter(pk=partner.pk).update(is_active=False)
    assert refusal(key) == {"detail": "User inactive or deleted.", "code": "authentication_failed"}


def test_signing_out_of_the_browser_leaves_tokens_alone(partner: User) -> None:
    _t, key = api_token_issue(user=partner)
    browser = Client()
    browser.force_login(partner)
    assert browser.post("/logout/").status_code == 302
    assert client_for(key).get(ME).status_code == 200


def test_last_use_is_written_at_most_every_few_minutes(partner: User) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        token, key = api_token_issue(user=partner)
        assert token.last_used_at is None
        client = client_for(key)
        client.get(ME)
    token.refresh_from_db()
    assert token.last_used_at == start
    soon = start + LAST_USED_EVERY - timedelta(seconds=1)
    with time_machine.travel(soon, tick=False), CaptureQueriesContext(connection) as queries:
        client.get(ME)
    assert not [q for q in queries if "UPDATE" in q["sql"] and "apitoken" in q["sql"]]
    token.refresh_from_db()
    assert token.last_used_at == start
    later = start + LAST_USED_EVERY + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        client.get(ME)
    token.refresh_from_db()
    assert token.last_used_at == later


@pytest.mark.postgres
def test_postgresql_authenticates_with_the_one_prepared_statement(partner: User) -> None:
    _t, key = api_token_issue(user=partner)
    client = client_for(key)
    assert client.get(ME).status_code == 200  # first use: also writes last_used_at
    with CaptureQueriesContext(connection) as queries:
        assert client.get(ME).status_code == 200
    # The lookup runs on psycopg's own cursor, which Django's query log does not see: no
    # ORM query of the token table is left.
    assert not [q for q in queries if "accounts_apitoken" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements "
            "WHERE statement LIKE %s AND statement LIKE %s",
            ["%accounts_apitoken%", "%'expired'%"],
        )
        assert cursor.fetchone() == (1,)
    with time_machine.travel(timezone.now() + DEFAULT_TTL, tick=False):
        assert refusal(key)["code"] == "token_expired"
    api_token_revoke_all(user=partner, reason=ApiToken.RevokedReason.PAGE)
    assert refusal(key)["code"] == "token_revoked"


# -- the tokens page -------------------------------------------------------------------------


def test_the_page_lists_ones_own_tokens_and_never_a_key(partner: User) -> None:
    key = obtain("pat", name="nightly export").json()["token"]
    other = user_for_role(Role.PARTNER)
    _t, other_key = api_token_issue(user=other, name="someone else's")
    client_for(key).get(ME)  # last used: now
    browser = Client()
    browser.force_login(partner)
    home = browser.get("/")
    assert b'href="/account/tokens/"' in home.content  # linked beside the user's name
    page = browser.get("/account/tokens/")
    assert page.status_code == 200
    html = page.content.decode()
    token = partner.api_tokens.get()
    assert f"{token.prefix}…" in html and "nightly export" in html
    expires = timezone.localtime(token.expires_at)
    assert f"{expires.day} {expires:%b %Y, %H:%M}" in html and "never" not in html
    assert key not in html and key[12:20] not in html
    assert "someone else" not in html and other_key[:12] not in html


def test_the_page_revokes_one_or_all(partner: User) -> None:
    tokens = [api_token_issue(user=partner, name=f"t{n}") for n in range(3)]
    browser = Client()
    browser.force_login(partner)
    response = browser.post(f"/account/tokens/{tokens[0][0].pk}/revoke/")
    assert response.status_code == 302 and response["Location"] == "/account/tokens/"
    assert refusal(tokens[0][1])["code"] == "token_revoked"
    assert client_for(tokens[1][1]).get(ME).status_code == 200
    page = browser.get("/account/tokens/").content.decode()
    assert "Revoked on the tokens page" in page  # ended, shown with its reason
    assert browser.post("/account/tokens/revoke-all/").status_code == 302
    for _token, key in tokens[1:]:
        assert refusal(key)["code"] == "token_revoked"
    assert "No active tokens." in browser.get("/account/tokens/").content.decode()


def test_another_users_token_is_404_on_the_page(partner: User) -> None:
    victim = user_for_role(Role.PARTNER)
    token, key = api_token_issue(user=victim)
    browser = Client()
    browser.force_login(partner)
    assert browser.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    assert browser.post("/account/tokens/999999/revoke/").status_code == 404
    assert browser.post("/account/tokens/revoke-all/").status_code == 302  # their own: none
    assert client_for(key).get(ME).status_code == 200
    admin = Client()
    admin.force_login(user_for_role(Role.PROGRAM_MANAGER))  # program managers too
    assert admin.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    assert token.prefix not in admin.get("/account/tokens/").content.decode()


def test_the_page_needs_a_signed_in_user() -> None:
    response = Client().get("/account/tokens/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# -- the contract ----------------------------------------------------------------------------


def test_the_schema_describes_issuing_and_revoking(api: APIClient) -> None:
    schema = api.get("/api/v1/schema/?format=json").json()
    operations = schema["paths"]["/api/v1/auth/token/"]
    assert set(operations) == {"post", "delete"}
    post, delete = operations["post"], operations["delete"]
    assert list(post["requestBody"]["content"]) == ["application/json"]
    issued = post["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][issued.rsplit("/", 1)[1]]
    assert set(component["required"]) == {"token", "expires_at"}
    assert component["properties"]["expires_at"]["format"] == "date-time"
    assert {"400", "429"} <= set(post["responses"])
    assert "204" in delete["responses"] and "401" in delete["responses"]
    assert "content" not in delete["responses"]["204"]
