"""Bad input refused at the edge (core.guard, core.parsers, core.money): the reproductions
of the second attack, each a 400 (413 for the body) naming what was wrong, never a 500.
They run on PostgreSQL in CI, where a NUL used to reach the database."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import DataError
from django.http import HttpResponse
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from core.choices import Role
from core.guard import InputGuardMiddleware, max_request_bytes
from core.money import MoneyFormatError, parse_money
from tests.factories import CustomerFactory, user_for_role

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fy24")]


def page_as(role: str, **kwargs: Any) -> Client:
    client = Client()
    client.force_login(user_for_role(role, **kwargs))
    return client


def api_as(role: str, **kwargs: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user_for_role(role, **kwargs))
    return client


def assert_refused(response: Any, field: str | None = None, status: int = 400) -> None:
    assert response.status_code == status, (response.status_code, response.content[:300])
    if response["Content-Type"].startswith("application/json"):
        body = response.json()
        assert body["code"] in (
            "control_character",
            "username_too_long",
            "too_large",
            "invalid",
        ), body
        if field is not None:
            assert field in body["fields"], body
    else:
        assert b"could not be accepted" in response.content or status == 413


def test_nul_in_the_token_username_is_a_400_for_an_anonymous_client() -> None:
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "pm\u0000", "password": "x"}, format="json"
    )
    assert_refused(response, "username")


@pytest.mark.parametrize(
    "path", ["/api/v1/partners/%00/", "/api/v1/customers/%00/", "/api/v1/programs/%00/"]
)
def test_nul_in_an_api_path_is_a_400(path: str) -> None:
    assert_refused(api_as(Role.PROGRAM_MANAGER).get(path), "path")


@pytest.mark.parametrize(
    ("role", "path", "field"),
    [
        (Role.PROGRAM_MANAGER, "/mail/?about=%00", "about"),
        (Role.PROGRAM_MANAGER, "/dashboard/?country=%00", "country"),
        (Role.PROGRAM_MANAGER, "/dashboard/?segment=%01", "segment"),
        (Role.PROGRAM_MANAGER, "/dashboard/?program=FY24%00", "program"),
        (Role.PROGRAM_MANAGER, "/programs/%00/", "path"),
        (Role.PROGRAM_MANAGER, "/api/v1/statements/2026-11.pdf?partner=%00", "partner"),
        (Role.FIELD_REP, "/nominations/?q=%1b", "q"),
    ],
)
def test_control_characters_in_paths_and_query_strings_are_a_400(
    role: str, path: str, field: str
) -> None:
    client = page_as(role)
    response = client.get(path)
    assert_refused(response, field if path.startswith("/api/") else None)
    if not path.startswith("/api/"):
        assert b"control character" in response.content


def test_nul_in_the_directory_search_is_a_400() -> None:
    customer = CustomerFactory()
    response = page_as(Role.CUSTOMER, customer=customer).get("/vouchers/directory/?q=%00")
    assert_refused(response)


def test_a_control_character_in_a_header_is_a_400() -> None:
    response = APIClient().get("/api/v1/programs/", HTTP_X_CLIENT="a\x01b")
    assert_refused(response, "X-Client")


def test_control_characters_in_form_fields_are_a_400_tabs_and_newlines_are_text() -> None:
    client = page_as(Role.FIELD_REP)
    refused = client.post("/nominations/check/", {"notes": "a\x00b", "program": "FY24-MWSDO"})
    assert_refused(refused)
    assert b"notes" in refused.content
    allowed = client.post(
        "/nominations/check/", {"notes": "line one\r\n\tline two", "program": "FY24-MWSDO"}
    )
    assert allowed.status_code == 200


def test_nul_deep_in_a_json_body_is_a_400_naming_its_path() -> None:
    response = api_as(Role.FIELD_REP).post(
        "/api/v1/nominations/",
        {"program": "FY24-MWSDO", "customer": "1", "workloads": ["M365_E3", "X\u0000"]},
        format="json",
    )
    assert_refused(response, "workloads.1")


@pytest.mark.parametrize("path", ["/login/", "/api/v1/auth/token/"])
def test_a_300_character_username_is_refused_before_authentication(path: str) -> None:
    data = {"username": "u" * 300, "password": "wrong"}
    response: Any
    if path == "/login/":
        response = Client().post(path, data)
    else:
        response = APIClient().post(path, data, format="json")
    assert_refused(response, "username" if path.startswith("/api/") else None)


def test_a_body_larger_than_any_upload_is_refused_by_its_content_length() -> None:
    response = APIClient().post(
        "/api/v1/auth/token/",
        data=b"{}",
        content_type="application/json",
        CONTENT_LENGTH=str(max_request_bytes() + 1),
    )
    assert_refused(response, "body", status=413)


def test_a_database_data_error_is_a_400_not_a_500() -> None:
    def explode(request: Any) -> HttpResponse:
        raise AssertionError("not reached")

    middleware = InputGuardMiddleware(explode)
    for path in ("/api/v1/nominations/", "/nominations/"):
        request = RequestFactory().post(path)
        response = middleware.process_exception(request, DataError("value too long"))
        assert response is not None and response.status_code == 400


# -- one money parser for the API and the pages ----------------------------------------------


@pytest.mark.parametrize(
    "text", ["NaN", "nan", "Infinity", "-inf", "1e400", "12.345", "", "abc", "1,2,3", "0x10"]
)
def test_parse_money_refuses_what_is_not_money(text: str) -> None:
    with pytest.raises(MoneyFormatError):
        parse_money(text)


@pytest.mark.parametrize(
    ("text", "amount"),
    [("1250", "1250.00"), ("1,250.50", "1250.50"), ("$ 99.9", "99.90"), (" 0.01 ", "0.01")],
)
def test_parse_money_reads_what_people_type(text: str, amount: str) -> None:
    assert parse_money(text) == Decimal(amount)


def test_parse_money_refuses_amounts_beyond_the_columns() -> None:
    with pytest.raises(MoneyFormatError):
        parse_money("1000000000000.00")
    with pytest.raises(MoneyFormatError):
        parse_money("-5")
    assert parse_money("-5", allow_negative=True) == Decimal("-5.00")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1e400", "12.345"])
def test_api_money_fields_refuse_non_finite_and_out_of_range_values(value: str) -> None:
    response = api_as(Role.FIELD_REP).post(
        "/api/v1/nominations/check/",
        {
            "program": "FY24-MWSDO",
            "customer": "x",
            "offer": "DEPLOY",
            "workloads": ["M365_E3"],
            "deal_value": value,
            "expected_close_date": "2024-05-20",
        },
        format="json",
    )
    assert_refused(response, "deal_value")


def test_nan_on_the_nomination_form_is_a_form_error() -> None:
    customer = CustomerFactory()
    client = page_as(Role.FIELD_REP)
    response = client.post(
        "/nominations/new/",
        {
            "program": "FY24-MWSDO",
            "customer": customer.tpid,
            "offer": "DEPLOY",
            "workloads": ["M365_E3"],
            "deal_value": "NaN",
            "expected_close_date": "2024-05-20",
            "agreement_type": "new",
        },
    )
    assert response.status_code == 200
    assert b"Enter an amount like 1250.00" in response.content
