"""A partner's vouchers read for a list (one union of index lookups) are the same
set as for one voucher (the OR with EXISTS), and the list page pages by a capped count."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client

from core import paging
from core.choices import Role
from tests.factories import PartnerFactory, bulk_vouchers, user_for_role
from vouchers.models import Forward, Voucher
from vouchers.selectors import vouchers_visible_to

pytestmark = pytest.mark.django_db


def test_listing_and_lookup_see_the_same_vouchers(fy24: Any) -> None:
    mine, other = PartnerFactory(), PartnerFactory()
    user = user_for_role(Role.PARTNER, partner=mine)
    claimed = bulk_vouchers(
        fy24,
        3,
        issued_on=date(2024, 3, 1),
        expires_on=date(2024, 9, 1),
        status="claimed",
        partner=mine,
    )
    theirs = bulk_vouchers(
        fy24,
        2,
        issued_on=date(2024, 3, 1),
        expires_on=date(2024, 9, 1),
        status="claimed",
        partner=other,
    )
    loose = bulk_vouchers(fy24, 3, issued_on=date(2024, 3, 1), expires_on=date(2024, 9, 1))
    customer = user_for_role(Role.CUSTOMER, customer=loose[0].customer)
    Forward.objects.create(voucher=loose[0], partner=mine, forwarded_by=customer)
    Forward.objects.create(voucher=loose[1], partner=other, forwarded_by=customer)
    Forward.objects.create(voucher=theirs[0], partner=mine, forwarded_by=customer)  # claimed
    expected = {v.pk for v in claimed} | {loose[0].pk}

    assert set(vouchers_visible_to(user).values_list("pk", flat=True)) == expected
    assert set(vouchers_visible_to(user, listing=True).values_list("pk", flat=True)) == expected
    assert set(Voucher.objects.values_list("pk", flat=True)) > expected


def test_the_list_page_says_many_when_the_count_is_capped(
    fy24: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    pm = user_for_role(Role.PROGRAM_MANAGER)
    bulk_vouchers(fy24, 12, issued_on=date(2024, 3, 1), expires_on=date(2024, 9, 1))
    client = Client()
    client.force_login(pm)
    original = paging.CappedPaginator.__init__

    def small(self: Any, object_list: Any, per_page: int, *, page: Any, ahead: int = 10) -> None:
        original(self, object_list, 2, page=page, ahead=1)  # 2 per page, 1 page ahead

    monkeypatch.setattr(paging.CappedPaginator, "__init__", small)
    assert "Page 1 of many" in client.get("/vouchers/").content.decode()
    assert "Page 6 of 6" in client.get("/vouchers/?page=6").content.decode()
