"""Reminder mails are filled from a template rendered once (and, on PostgreSQL,
composed by the database); both give exactly what Django's render gives."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.template.loader import render_to_string

from accounts.models import User
from core.choices import Role
from notifications.models import OutboundMail
from tests.factories import PartnerFactory, bulk_vouchers
from vouchers import reminders
from vouchers.models import ReminderMarker, Voucher
from vouchers.reminders.mail import (
    EXPIRY_FIELDS,
    POE_FIELDS,
    MailRow,
    Stamp,
    _nest,
    day_text,
    days_text,
    money_text,
)

pytestmark = pytest.mark.django_db
ISSUED = date(2024, 3, 1)
EXPIRES = date(2024, 9, 1)
TRICKY = 'O\'Brien & <Sons> "Ltd"'


@pytest.mark.parametrize("template", ["mail/expiry_reminder", "mail/poe_reminder"])
@pytest.mark.parametrize("partner", [True, False])
def test_a_stamp_fills_exactly_as_django_renders(template: str, partner: bool) -> None:
    fields: tuple[str, ...] = EXPIRY_FIELDS if template == "mail/expiry_reminder" else POE_FIELDS
    values = {
        "voucher.customer.name": TRICKY,
        "voucher.code": "ABCD-EFGH-JKMN-PQR7",
        "voucher.offer.name": "Deploy & <migrate>",
        "voucher.partner.name": "Partner 'P' & Co",
        "value_text": money_text(Decimal("12345.5")),
        "expires_text": day_text(EXPIRES),
        "days_text": days_text(1),
        "voucher_url": "http://portal.example/vouchers/ABCD/?a=1&b=2",
    }
    context: dict[str, Any] = {"site_url": "http://portal.example"}
    if partner:
        fields = tuple(dict.fromkeys((*fields, "voucher.partner.name")))
    else:
        context["voucher.partner"] = None
        fields = tuple(f for f in fields if not f.startswith("voucher.partner."))
    for suffix in (".txt", ".html"):
        stamp = Stamp(template + suffix, fields, context)
        expected = render_to_string(
            template + suffix, _nest({**context, **{f: values[f] for f in fields}})
        )
        assert stamp.fill(values) == expected
    assert money_text(Decimal("12345.5")) == "12,345.50" and days_text(1) == "1 day"
    assert day_text(EXPIRES) == "1 September 2024"


def _world(fy24: Any) -> list[Voucher]:
    """Vouchers whose mails test every branch: tricky names, duplicate, padded, inactive
    and empty addresses, no contact at all (the rep instead), with and without a partner."""
    vouchers = bulk_vouchers(fy24, 4, issued_on=ISSUED, expires_on=EXPIRES)
    first, second, third, fourth = vouchers
    first.customer.name = TRICKY
    first.customer.save()
    User.objects.create(
        username="dup2",
        email="it@" + first.customer.tpid.lower() + ".example",
        role=Role.CUSTOMER,
        customer=first.customer,
    )
    User.objects.create(
        username="second-contact",
        email="  ops@second.example ",
        role=Role.CUSTOMER,
        customer=first.customer,
    )
    User.objects.create(
        username="gone",
        email="gone@x.example",
        role=Role.CUSTOMER,
        customer=first.customer,
        is_active=False,
    )
    User.objects.filter(customer=second.customer).update(email="")
    User.objects.filter(customer=third.customer).delete()
    partner = PartnerFactory(name="Fabrikam & <Partners>")
    User.objects.create(username="p1", email="p1@p.example", role=Role.PARTNER, partner=partner)
    Voucher.objects.filter(pk=fourth.pk).update(status="claimed", partner=partner)
    return vouchers


def test_the_run_writes_what_the_python_builder_gives(fy24: Any) -> None:
    vouchers = _world(fy24)
    today = EXPIRES - timedelta(days=30)
    with time_machine.travel(today, tick=False):
        assert reminders.send_expiry_reminders() == 4
    ids = sorted(v.pk for v in vouchers)
    rows = list(
        Voucher.objects.filter(pk__in=ids).order_by("pk").values_list(*reminders.DUE_COLUMNS)
    )
    built = [reminders._expiry_mail(due, 30, today) for due in reminders._dues(rows)]
    expected: dict[str | None, MailRow] = {m.dedupe_key: m for m in built}
    written = {m.dedupe_key: m for m in OutboundMail.objects.filter(kind="expiry_reminder")}
    assert written.keys() == expected.keys()
    for key, mail in written.items():
        want = expected[key]
        got = (mail.to, mail.cc, mail.subject, mail.body_text, mail.body_html, mail.related_object)
        assert got == (
            want.to,
            want.cc,
            want.subject,
            want.body_text,
            want.body_html,
            want.related_object,
        ), key
    by_voucher = {m.related_object: m for m in written.values()}
    assert (
        "&amp; &lt;Sons&gt; &quot;Ltd&quot;" in by_voucher[f"voucher:{vouchers[0].code}"].body_html
    )
    assert by_voucher[f"voucher:{vouchers[0].code}"].to[-1] == "ops@second.example"
    assert "Fabrikam & <Partners>" in by_voucher[f"voucher:{vouchers[3].code}"].body_text
    assert ReminderMarker.objects.filter(outcome="sent").count() == 4
    assert ReminderMarker.objects.filter(outcome="passed", days_before=90).count() == 4
