"""`seed_bench` builds a realistic data set with bulk inserts, and every row it
writes satisfies the models' database constraints."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from core.models import Event
from nominations.models import Nomination
from payments.models import Payment
from redemptions.models import PaymentRequest, RequestDocument
from vouchers.models import Voucher

pytestmark = pytest.mark.django_db


def test_seed_bench_writes_every_status_and_keeps_the_constraints(fy24: Any) -> None:
    call_command("seed_bench", "--vouchers", "200")

    assert Voucher.objects.count() == 200
    assert set(Voucher.objects.values_list("status", flat=True)) == set(Voucher.Status.values)
    assert set(Nomination.objects.values_list("status", flat=True)) == set(Nomination.Status.values)
    assert {(k, s) for k, s in PaymentRequest.objects.values_list("kind", "status")} >= {
        ("initial", "submitted"),
        ("initial", "info_requested"),
        ("initial", "approved"),
        ("final", "submitted"),
        ("final", "approved"),
    }
    assert RequestDocument.objects.count() == PaymentRequest.objects.count()
    assert set(Payment.objects.values_list("status", flat=True)) == {"pending", "paid"}
    assert Event.objects.filter(subject="voucher", action="issued").count() == 200
    assert Event.objects.filter(subject="request").exists()
    # Fully redeemed vouchers were paid in full; nothing was paid beyond a voucher's value.
    for voucher in Voucher.objects.filter(status="fully_redeemed"):
        assert voucher.paid_total == voucher.value
    # Rows inserted behind the ORM's back still pass every constraint.
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA foreign_key_check")
            assert cursor.fetchall() == []
    for model in (Voucher, Nomination, PaymentRequest, Payment):
        for obj in model.objects.all()[:50]:
            obj.validate_constraints()


def test_seed_bench_twice_adds_more(fy24: Any) -> None:
    call_command("seed_bench", "--vouchers", "40")
    call_command("seed_bench", "--vouchers", "40")
    assert Voucher.objects.count() == 80
    assert len(set(Voucher.objects.values_list("code", flat=True))) == 80
