"""Money with a trail (R-PAY-2): each payment's expected date, its batch while Payment
Central holds it, a confirmation that names what is paid and takes the payment run's
reference, and the partner mailed once per batch with that reference."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.test import Client

from core.calendar import BusinessCalendar
from core.models import Event
from notifications.models import OutboundMail
from payments.models import Payment, PaymentBatch
from payments.services import batch_confirm, batch_export
from tests.factories import user_for_role
from tests.test_redemption_flow import DAY, client_for, submit, world

pytestmark = [pytest.mark.django_db]
__all__ = ["world"]  # the fixture, shared with the redemption flow tests


def approved_payment(world: Any) -> Payment:
    rid = submit(world["partner"], world["voucher"]).json()["id"]
    assert client_for(world["reviewer"]).post(f"/api/v1/requests/{rid}/approve/").status_code == 200
    return Payment.objects.get(request_id=rid)


def as_page_user(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_payment_expects_its_money_ten_business_days_after_approval(world: Any) -> None:
    with time_machine.travel(DAY, tick=False):
        payment = approved_payment(world)
        listed = world["partner"].get("/api/v1/payments/").json()["results"][0]
        page = as_page_user(world["partner_user"]).get("/payments/").content.decode()
    calendar = BusinessCalendar.for_program(world["fy24"])
    assert payment.expected_on == calendar.add(DAY, 10) == date(2024, 3, 15)
    assert (listed["expected_on"], listed["batch_status"], listed["reference"]) == (
        "2024-03-15",
        None,
        None,
    )
    assert "expected 15 Mar 2024" in page


def test_exported_rows_say_so_and_confirming_takes_the_reference(world: Any) -> None:
    pm = world["pm"]
    with time_machine.travel(DAY, tick=False):
        payment = approved_payment(world)
        batch, _ = batch_export(user=pm)
        listed = world["partner"].get("/api/v1/payments/").json()["results"][0]
        assert (listed["status"], listed["batch_status"]) == ("pending", "exported")
        staff = as_page_user(pm)
        page = staff.get("/payments/").content.decode()
        assert f"In batch {batch.pk}" in page and "Litware" in page  # the partner column
        assert (
            '<th scope="col">Partner</th>'
            not in as_page_user(world["partner_user"]).get("/payments/").content.decode()
        )

        confirm = staff.get(f"/payments/batches/{batch.pk}/confirm/")
        text = confirm.content.decode()
        assert confirm.status_code == 200
        assert "BRL 123,750.00" in text and "Confirm $25,000.00 paid" in text
        refused = staff.post(f"/payments/batches/{batch.pk}/confirm/", {"reference": "  "})
        assert refused.status_code == 400
        assert "Enter Payment Central&#x27;s reference" in refused.content.decode()
        too_long = staff.post(f"/payments/batches/{batch.pk}/confirm/", {"reference": "x" * 65})
        assert too_long.status_code == 400 and "at most 64" in too_long.content.decode()
        assert Payment.objects.get(pk=payment.pk).status == "pending"
        OutboundMail.objects.all().delete()

        done = staff.post(f"/payments/batches/{batch.pk}/confirm/", {"reference": "PC 2024-03"})
        assert done.status_code == 302
        again = staff.post(f"/payments/batches/{batch.pk}/confirm/", {"reference": "PC-2"})
        assert again.status_code == 409
        shown = staff.get(f"/payments/batches/{batch.pk}/confirm/").content.decode()
        assert "payment reference <code>PC 2024-03</code>" in shown
        assert 'name="reference"' not in shown

    payment.refresh_from_db()
    assert payment.batch is not None
    assert (payment.status, payment.batch.reference) == ("paid", "PC 2024-03")
    event = Event.objects.get(subject="batch", subject_id=batch.pk)
    assert (event.action, event.actor, event.data) == (
        "confirmed",
        pm,
        {"reference": "PC 2024-03", "payments": 1},
    )
    paid = OutboundMail.objects.get(kind="payment_paid")
    assert paid.to == ["ops@litware.example"]
    assert paid.subject == "Paid: BRL 123,750.00 (reference PC 2024-03)"
    body = " ".join(paid.body_text.split())
    assert "paid BRL 123,750.00 (USD 25,000.00) to your payment profile" in body
    assert "Payment reference: PC 2024-03." in body
    assert "SOW (initial payment request), BRL 123,750.00 (USD 25,000.00 at 4.9500)" in body
    assert "/payments/" in paid.body_text and "PC 2024-03" in paid.body_html
    listed = world["partner"].get("/api/v1/payments/").json()["results"][0]
    assert (listed["batch_status"], listed["reference"]) == ("confirmed", "PC 2024-03")


def test_each_partner_in_a_batch_hears_once_of_its_own_payments(world: Any, fy24: Any) -> None:
    from payments.models import FxRate
    from tests.factories import CustomerFactory, PartnerFactory, issue_voucher
    from vouchers.services import voucher_claim

    with time_machine.travel(DAY, tick=False):
        approved_payment(world)
        other = PartnerFactory(name="Adatum", currency="EUR")
        FxRate.objects.create(currency="EUR", rate_per_usd="0.920000", valid_from=date(2023, 7, 1))
        adatum = user_for_role("partner", partner=other, email="ap@adatum.example")
        user_for_role("partner", partner=other, email="gone@adatum.example", is_active=False)
        second = issue_voucher(fy24, CustomerFactory(), world["rep"], world["pm"])
        voucher_claim(code=second.code, user=adatum)
        rid = submit(client_for(adatum), second).json()["id"]
        client_for(world["reviewer"]).post(f"/api/v1/requests/{rid}/approve/")
        batch, _ = batch_export(user=None)
        batch_confirm(batch_id=batch.pk, user=world["pm"], reference="RUN-7")
    mails = {tuple(m.to): m for m in OutboundMail.objects.filter(kind="payment_paid")}
    assert set(mails) == {("ops@litware.example",), ("ap@adatum.example",)}
    assert second.code in mails[("ap@adatum.example",)].body_text
    assert world["voucher"].code not in mails[("ap@adatum.example",)].body_text
    assert mails[("ap@adatum.example",)].subject.startswith("Paid: EUR ")


def test_a_batch_cannot_be_confirmed_without_a_reference_in_the_database(world: Any) -> None:
    with time_machine.travel(DAY, tick=False):
        approved_payment(world)
        batch, _ = batch_export(user=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentBatch.objects.filter(pk=batch.pk).update(status="confirmed")


def test_a_usd_partner_sees_one_amount_column_not_usd_twice(world: Any) -> None:
    from payments.pdf import render_statement_pdf
    from payments.services import statement_for

    litware = world["litware"]
    litware.currency = "USD"
    litware.save(update_fields=["currency"])
    from payments.models import FxRate

    FxRate.objects.create(currency="USD", rate_per_usd="1", valid_from=date(2023, 7, 1))
    with time_machine.travel(DAY, tick=False):
        approved_payment(world)
        page = as_page_user(world["partner_user"]).get("/payments/").content.decode()
        statement = statement_for(partner=litware, period="2024-03")
    statements = page.split("<h2>Statements</h2>")[1].split("</table>")[0]
    assert statements.count(">USD</th>") == 1
    pdf = render_statement_pdf(statement)
    assert pdf[:5] == b"%PDF-"
