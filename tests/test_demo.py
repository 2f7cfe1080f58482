"""`make run`'s demo data: one login per role and work in progress for each, idempotent."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from nominations.models import Nomination
from programs.services import program_load
from redemptions.models import PaymentRequest
from vouchers.models import Voucher

pytestmark = pytest.mark.django_db


def test_seed_demo_twice_gives_one_scenario() -> None:
    program_load(name="fy24")
    program_load(name="demo")
    with time_machine.travel(date(2026, 11, 25), tick=False):
        out = StringIO()
        call_command("seed_demo", stdout=out)
        call_command("seed_demo", stdout=StringIO())
    text = out.getvalue()
    for username in ("pm", "rep", "qtm", "customer", "partner"):
        assert f"  {username} " in text
    assert Voucher.objects.count() == 2
    assert PaymentRequest.objects.filter(status="submitted").count() == 1
    assert set(Voucher.objects.values_list("status", flat=True)) == {"issued", "claimed"}
    assert set(Nomination.objects.values_list("status", flat=True)) == {
        "issued",
        "submitted",
        "approved",
    }


def test_seed_demo_outside_the_program_window_only_creates_logins() -> None:
    program_load(name="demo")
    with time_machine.travel(date(2030, 1, 1), tick=False):
        out = StringIO()
        call_command("seed_demo", stdout=out)
    assert "not open today" in out.getvalue() and not Voucher.objects.exists()
