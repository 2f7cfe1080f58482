"""Scheduled work: reminders, expiry, overdue reviews, POE reminders, batches and statements:
each threshold at most once, the nearest only after an outage, safe to run twice."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from core.choices import Role
from core.models import Event
from notifications.models import OutboundMail
from notifications.services import mail_dispatch_on_commit
from payments.models import FxRate, PaymentBatch
from payments.tasks import export_payment_batch, send_monthly_statements
from redemptions import reminders as poe_reminders
from redemptions.models import PaymentRequest
from redemptions.services import (
    flag_overdue_reviews,
    request_approve,
    request_ask,
    request_reject,
    request_submit,
    request_take,
)
from tests.factories import (
    CustomerFactory,
    PartnerFactory,
    bulk_vouchers,
    issue_voucher,
    submitted_sow,
    user_for_role,
)
from tests.signing import signed_template
from vouchers import reminders, tasks
from vouchers.models import ReminderMarker, Voucher

pytestmark = pytest.mark.django_db
ISSUED = date(2024, 3, 1)
EXPIRES = date(2024, 9, 1)


def expiry_markers(voucher: Voucher) -> dict[int, str]:
    return dict(voucher.reminders.filter(kind="expiry").values_list("days_before", "outcome"))


def test_windows_split_thresholds() -> None:
    got = [(w.days, w.first, w.last, w.older) for w in reminders.windows([90, 30, 7])]
    assert got == [(7, 0, 7, (30, 90)), (30, 8, 30, (90,)), (90, 31, 90, ())]


def test_each_threshold_once_with_the_account_team_in_copy(
    fy24: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with time_machine.travel(ISSUED, tick=False):
        voucher = issue_voucher(
            fy24,
            CustomerFactory(),
            user_for_role(Role.FIELD_REP, email="rep@ms.example"),
            user_for_role(Role.PROGRAM_MANAGER),
        )
        user_for_role(Role.CUSTOMER, customer=voucher.customer, email="it@cust.example")
    mail.outbox.clear()
    with time_machine.travel(EXPIRES - timedelta(days=91), tick=False):
        assert reminders.send_expiry_reminders() == 0
    with (
        time_machine.travel(EXPIRES - timedelta(days=90), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert reminders.send_expiry_reminders() == 1
        assert reminders.send_expiry_reminders() == 0  # run twice: nothing more
    [sent] = mail.outbox
    assert (
        sent.to == ["it@cust.example"]
        and sent.cc == ["rep@ms.example"]
        and "90 days" in sent.subject
    )
    with time_machine.travel(EXPIRES - timedelta(days=30), tick=False):
        assert reminders.send_expiry_reminders() == 1
    with time_machine.travel(EXPIRES - timedelta(days=7), tick=False):
        assert reminders.send_expiry_reminders() == 1
    with time_machine.travel(EXPIRES, tick=False):
        assert reminders.send_expiry_reminders() == 0
    assert expiry_markers(voucher) == {90: "sent", 30: "sent", 7: "sent"}
    assert OutboundMail.objects.filter(kind="expiry_reminder").count() == 3


def test_after_an_outage_only_the_nearest_is_sent(fy24: Any) -> None:
    with time_machine.travel(ISSUED, tick=False):
        voucher = issue_voucher(
            fy24,
            CustomerFactory(),
            user_for_role(Role.FIELD_REP),
            user_for_role(Role.PROGRAM_MANAGER),
        )
    with time_machine.travel(
        EXPIRES - timedelta(days=5), tick=False
    ):  # the job was down for months
        assert reminders.send_expiry_reminders() == 1
        assert reminders.send_expiry_reminders() == 0
    assert expiry_markers(voucher) == {7: "sent", 30: "passed", 90: "passed"}
    assert OutboundMail.objects.filter(kind="expiry_reminder").count() == 1


def test_no_reminder_once_a_request_was_submitted(fy24: Any) -> None:
    with time_machine.travel(ISSUED, tick=False):
        _voucher, _req, _partner = submitted_sow(
            fy24, day=ISSUED, partner_user=user_for_role(Role.PARTNER, partner=PartnerFactory())
        )
    with time_machine.travel(EXPIRES - timedelta(days=30), tick=False):
        assert reminders.send_expiry_reminders() == 0


def _corrected_sow(voucher: Voucher, partner_user: Any, *, day: date) -> Any:
    """The one corrected SOW after a rejection (R-DOC-2), signed on `day`."""
    return request_submit(
        voucher_id=voucher.pk,
        user=partner_user,
        kind="initial",
        sow_value=Decimal("1000"),
        upload=SimpleUploadedFile("s.pdf", signed_template(voucher=voucher, kind="sow")),
        customer_signer="C",
        customer_signed_on=day,
        partner_signer="P",
        partner_signed_on=day,
    )


def _into(request: Any, state: str, reviewer: Any) -> None:
    """Moves a submitted request into one of the states that make it a redemption."""
    if state == "in_review":
        request_take(request_id=request.pk, user=reviewer)
    elif state == "more_info":
        request_ask(request_id=request.pk, user=reviewer, question="Page 2 unsigned?")
    elif state == "approved":
        request_approve(request_id=request.pk, user=reviewer)


# The states of a redemption (R-VOU-8, round 2) and the request status each is; "in review"
# is a submitted request a reviewer has taken.
STATUS_OF = {
    "pending": "submitted",
    "in_review": "submitted",
    "more_info": "info_requested",
    "approved": "approved",
}


@pytest.mark.parametrize("corrected", [False, True], ids=["first", "corrected"])
@pytest.mark.parametrize("state", list(STATUS_OF))
def test_a_rejected_request_is_no_redemption_the_others_are(
    fy24: Any, state: str, corrected: bool
) -> None:
    """R-VOU-8 (round 2): beside a voucher whose only SOW was rejected, which is reminded,
    a voucher with a request pending, in review, waiting for information or approved (its
    first SOW, or the corrected one after a rejection) is not."""
    FxRate.objects.create(currency="USD", rate_per_usd=Decimal("1"), valid_from=ISSUED)
    reviewer = user_for_role(Role.REVIEWER)
    with time_machine.travel(ISSUED, tick=False):
        rejected, req, _partner = submitted_sow(fy24, day=ISSUED)
        request_reject(request_id=req.pk, user=reviewer, reason="Wrong value")
        redeemed, req, partner = submitted_sow(fy24, day=ISSUED)
        if corrected:
            request_reject(request_id=req.pk, user=reviewer, reason="Wrong value")
            req = _corrected_sow(redeemed, partner, day=ISSUED)
        _into(req, state, reviewer)
    assert PaymentRequest.objects.get(pk=req.pk).status == STATUS_OF[state]
    with time_machine.travel(EXPIRES - timedelta(days=30), tick=False):
        assert reminders.send_expiry_reminders() == 1
    assert expiry_markers(rejected) == {30: "sent", 90: "passed"}
    assert expiry_markers(redeemed) == {}


def test_reminders_resume_after_a_rejection_each_threshold_once(fy24: Any) -> None:
    """R-VOU-8: none while the SOW is pending; after its rejection the next run sends the
    nearest threshold passed and not sent yet, saying the voucher is still unredeemed, to
    the customer with the account team cc'd; the next threshold follows; none again once
    the corrected SOW is pending (R-DOC-2)."""
    reviewer = user_for_role(Role.REVIEWER)
    rep = user_for_role(Role.FIELD_REP, email="rep@ms.example")
    partner = user_for_role(Role.PARTNER, partner=PartnerFactory(name="Fabrikam Deploy"))
    with time_machine.travel(ISSUED, tick=False):
        voucher, req, _ = submitted_sow(fy24, day=ISSUED, partner_user=partner, rep=rep)
        user_for_role(Role.CUSTOMER, customer=voucher.customer, email="it@cust.example")
    with time_machine.travel(EXPIRES - timedelta(days=90), tick=False):
        assert reminders.send_expiry_reminders() == 0  # pending: a redemption
    with time_machine.travel(EXPIRES - timedelta(days=60), tick=False):
        request_reject(request_id=req.pk, user=reviewer, reason="Wrong value")
        assert reminders.send_expiry_reminders() == 1
        assert reminders.send_expiry_reminders() == 0
    assert expiry_markers(voucher) == {90: "sent"}
    reminder = OutboundMail.objects.get(kind="expiry_reminder")
    assert reminder.to == ["it@cust.example"] and reminder.cc == ["rep@ms.example"]
    assert "expires in 60 days" in reminder.subject
    for body in (reminder.body_text, reminder.body_html):
        assert "has not been redeemed yet" in body and "Fabrikam Deploy" in body
        assert "no payment request from them is pending or approved" in body
    with time_machine.travel(EXPIRES - timedelta(days=30), tick=False):
        assert reminders.send_expiry_reminders() == 1
    assert expiry_markers(voucher) == {90: "sent", 30: "sent"}
    with time_machine.travel(EXPIRES - timedelta(days=20), tick=False):
        _corrected_sow(voucher, partner, day=EXPIRES - timedelta(days=20))
    with time_machine.travel(EXPIRES - timedelta(days=7), tick=False):
        assert reminders.send_expiry_reminders() == 0  # the corrected SOW is pending
    assert expiry_markers(voucher) == {90: "sent", 30: "sent"}


def test_poe_reminder_after_sow_approval(fy24: Any) -> None:
    FxRate.objects.create(currency="USD", rate_per_usd=Decimal("1"), valid_from=ISSUED)
    with time_machine.travel(ISSUED, tick=False):
        _voucher, req, _partner = submitted_sow(
            fy24,
            day=ISSUED,
            partner_user=user_for_role(
                Role.PARTNER, partner=PartnerFactory(), email="ops@partner.example"
            ),
        )
        request_approve(request_id=req.pk, user=user_for_role(Role.REVIEWER))
    with time_machine.travel(EXPIRES - timedelta(days=30), tick=False):
        assert poe_reminders.send_poe_reminders() == 1
        assert poe_reminders.send_poe_reminders() == 0
    poe = OutboundMail.objects.get(kind="poe_reminder")
    assert poe.to == ["ops@partner.example"] and "POE" in poe.subject


def test_expire_vouchers_in_bulk_with_one_event_each(
    fy24: Any, django_assert_max_num_queries: Any
) -> None:
    vouchers = bulk_vouchers(
        fy24, 30, issued_on=ISSUED, expires_on=date(2024, 5, 1), contacts=False
    )
    bulk_vouchers(fy24, 5, issued_on=ISSUED, expires_on=date(2024, 6, 1), contacts=False)
    with time_machine.travel(date(2024, 5, 2), tick=False), django_assert_max_num_queries(8):
        assert tasks.expire_vouchers() == 30  # a fixed number of queries, not one per voucher
    with time_machine.travel(date(2024, 5, 2), tick=False):
        assert reminders.expire_vouchers() == 0  # safe to run twice
    assert Voucher.objects.filter(status="expired").count() == 30
    assert Event.objects.filter(subject="voucher", action="expired").count() == 30
    assert set(
        Voucher.objects.filter(pk__in=[v.pk for v in vouchers]).values_list("status", flat=True)
    ) == {"expired"}


def test_a_crash_mid_run_neither_duplicates_nor_skips(
    fy24: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    vouchers = bulk_vouchers(fy24, 1200, issued_on=ISSUED, expires_on=EXPIRES)
    monkeypatch.setattr(reminders, "BATCH", 500)
    real = mail_dispatch_on_commit  # what reminders calls, until patched below
    calls = {"n": 0}

    def crashing(mail_ids: list[int]) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # at the end of the second batch, before it commits
            raise RuntimeError("worker died")
        real(mail_ids)

    monkeypatch.setattr(reminders, "mail_dispatch_on_commit", crashing)
    with time_machine.travel(EXPIRES - timedelta(days=7), tick=False):
        with pytest.raises(RuntimeError):
            reminders.send_expiry_reminders()
        assert (
            ReminderMarker.objects.filter(outcome="sent").count() == 500
        )  # the first batch committed
        monkeypatch.setattr(reminders, "mail_dispatch_on_commit", real)
        assert reminders.send_expiry_reminders() == 700
        assert reminders.send_expiry_reminders() == 0
    assert ReminderMarker.objects.filter(outcome="sent").count() == len(vouchers)
    assert OutboundMail.objects.filter(kind="expiry_reminder").count() == len(vouchers)


def test_overdue_reviews_are_flagged_once(fy24: Any) -> None:
    with time_machine.travel(ISSUED, tick=False):  # Friday: due Wednesday
        voucher, _req, _partner = submitted_sow(
            fy24, day=ISSUED, partner_user=user_for_role(Role.PARTNER, partner=PartnerFactory())
        )
    user_for_role(Role.REVIEWER, email="qtm@ms.example")
    with time_machine.travel(date(2024, 3, 6), tick=False):
        assert flag_overdue_reviews() == 0  # due today: not yet overdue
    with time_machine.travel(date(2024, 3, 7), tick=False):
        assert flag_overdue_reviews() == 1
        assert flag_overdue_reviews() == 0
    digest = OutboundMail.objects.get(kind="overdue_reviews")
    assert "qtm@ms.example" in digest.to and voucher.code in digest.body_text


def test_daily_batch_and_monthly_statements_once(fy24: Any) -> None:
    FxRate.objects.create(currency="USD", rate_per_usd=Decimal("1"), valid_from=ISSUED)
    user_for_role(Role.PROGRAM_MANAGER, email="pm@ms.example")
    with time_machine.travel(ISSUED, tick=False):
        _voucher, req, _partner = submitted_sow(
            fy24,
            day=ISSUED,
            partner_user=user_for_role(
                Role.PARTNER, partner=PartnerFactory(), email="ops@p.example"
            ),
        )
        request_approve(request_id=req.pk, user=user_for_role(Role.REVIEWER))
        assert export_payment_batch() == 1 and export_payment_batch() == 0
    assert PaymentBatch.objects.get().created_by is None
    batch_mail = OutboundMail.objects.get(kind="payment_batch")
    assert "pm@ms.example" in batch_mail.to and batch_mail.attachments.count() == 1
    with time_machine.travel(date(2024, 4, 1), tick=False):
        assert send_monthly_statements() == 1
        assert send_monthly_statements() == 0
    statement = OutboundMail.objects.get(kind="statement")
    assert statement.to == ["ops@p.example"] and statement.attachments.count() == 2
