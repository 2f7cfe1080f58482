"""POE reminders: partners hear that the signed POE is due before the voucher expires
(R-NOT-*). The run itself (thresholds, batches, exactly once) is vouchers.reminders'."""

from __future__ import annotations

from datetime import date

from django.db.models import Exists, OuterRef, QuerySet

from programs.models import Program
from redemptions.models import PaymentRequest
from redemptions.selectors import approved_sows
from vouchers.models import ReminderMarker, Voucher
from vouchers.reminders import Builder, Window, reminder_due, reminders_send
from vouchers.reminders.mail import poe_mail

# Kept as a name so a test can make the builder fail mid-batch (a crashed worker).
_poe_mail: Builder = poe_mail


def _poe_candidates(program: Program, window: Window, today: date) -> QuerySet[Voucher]:
    """Claimed vouchers whose SOW is approved and whose POE is not yet submitted."""
    sow_approved = approved_sows().filter(voucher=OuterRef("pk"))
    final_live = PaymentRequest.objects.filter(
        voucher=OuterRef("pk"), kind=PaymentRequest.Kind.FINAL
    ).exclude(status=PaymentRequest.Status.REJECTED)
    return (
        reminder_due(program, ReminderMarker.Kind.POE, window, today)
        .filter(status=Voucher.Status.CLAIMED)
        .filter(Exists(sow_approved))
        .exclude(Exists(final_live))
    )


def send_poe_reminders(*, today: date | None = None) -> int:
    """Partners hear that the POE is due before the voucher expires."""
    return reminders_send(
        kind=ReminderMarker.Kind.POE, today=today, candidates=_poe_candidates, build=_poe_mail
    )
