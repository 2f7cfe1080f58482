"""An unknown URL under /api/ is the API's JSON 404 whether DEBUG is on (`make run`, where
Django would draw its technical page) or off; elsewhere it stays a page."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import JsonResponse
from django.test import Client

from core.middleware import ApiNotFoundMiddleware

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/api/v1/no-such-thing/", "/api/nope", "/api/v1/vouchers/x/y/"])
def test_unknown_api_url_is_json_404(settings: Any, debug: bool, path: str) -> None:
    settings.DEBUG = debug
    response = Client().get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_page_url_is_a_page(settings: Any, debug: bool) -> None:
    settings.DEBUG = debug
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_json_404s_of_api_views_pass_through_untouched(rf: Any) -> None:
    own = JsonResponse({"detail": "No such voucher.", "code": "not_found"}, status=404)
    middleware = ApiNotFoundMiddleware(lambda request: own)
    assert middleware(rf.get("/api/v1/vouchers/X/")) is own
