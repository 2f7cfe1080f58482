"""Hostile bodies: oversized and malformed JSON and multipart bodies get 400/413, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from core.choices import Role
from tests.factories import user_for_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def pm() -> APIClient:
    client = APIClient()
    client.force_authenticate(user_for_role(Role.PROGRAM_MANAGER))
    return client


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{", "application/json"),
        ('{"tpid": ' * 2000, "application/json"),
        ("[1, 2, 3]", "application/json"),
        ("\x00\xff\xfe", "application/json"),
        ("tpid=1&name=x", "application/x-www-form-urlencoded; charset=unknown-charset"),
        (
            '--x\r\nContent-Disposition: form-data; name="tpid"\r\n\r\n1',
            "multipart/form-data; boundary=x",
        ),
        ("garbage", "multipart/form-data"),
        ("<xml/>", "application/xml"),
    ],
)
def test_malformed_bodies_are_client_errors(pm: APIClient, body: str, content_type: str) -> None:
    response = pm.generic("POST", "/api/v1/customers/", body, content_type=content_type)
    assert 400 <= response.status_code < 500, (response.status_code, body[:20])


def test_oversized_json_is_refused(pm: APIClient, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    big = '{"name": "' + "x" * (2 * 1024 * 1024) + '"}'
    response = pm.generic("POST", "/api/v1/customers/", big, content_type="application/json")
    assert response.status_code in (400, 413)


def test_too_many_fields_are_refused(pm: APIClient) -> None:
    body = "&".join(f"f{i}=1" for i in range(5000))
    response = pm.generic(
        "POST", "/api/v1/customers/", body, content_type="application/x-www-form-urlencoded"
    )
    # The JSON API refuses a form body outright (415); pages cap the field count (400).
    assert response.status_code in (400, 413, 415)
