"""Scheduled payment work: the daily Payment Central batch and the monthly statements."""

from __future__ import annotations

from datetime import date, timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from core.choices import Role
from core.errors import StateConflict
from core.words import counted
from notifications.services import mail_enqueue
from partners.models import Partner
from payments.models import Payment
from payments.pdf import render_statement_pdf
from payments.services import batch_export, statement_csv, statement_for


@shared_task(acks_late=True)
def export_payment_batch() -> int:
    """Daily: pending payments go into a batch whose CSV is mailed to program managers."""
    managers = User.objects.filter(is_active=True).filter(
        Q(role=Role.PROGRAM_MANAGER) | Q(is_superuser=True)
    )
    emails = list(managers.exclude(email="").values_list("email", flat=True))
    try:
        batch, text = batch_export(user=None)
    except StateConflict:
        return 0
    mail_enqueue(
        kind="payment_batch",
        to=emails,
        subject=(f"Payment Central batch {batch.pk}: {counted(batch.payments.count(), 'payment')}"),
        template="mail/payment_batch",
        context={"batch": batch, "count": batch.payments.count()},
        attachments=[(f"payment-batch-{batch.pk}.csv", text.encode(), "text/csv")],
        dedupe_key=f"batch:{batch.pk}",
    )
    return batch.payments.count()


def previous_period(today: date) -> str:
    last = today.replace(day=1) - timedelta(days=1)
    return f"{last:%Y-%m}"


@shared_task(acks_late=True)
def send_monthly_statements(period: str | None = None) -> int:
    """Monthly: each partner paid in the period gets its statement, once (R-PAY-3)."""
    period = period or previous_period(timezone.localdate())
    year, month = (int(x) for x in period.split("-"))
    partner_ids = (
        Payment.objects.filter(approved_on__year=year, approved_on__month=month)
        .values_list("partner_id", flat=True)
        .distinct()
    )
    sent = 0
    for partner in Partner.objects.filter(pk__in=list(partner_ids)).prefetch_related("users"):
        statement = statement_for(partner=partner, period=period)
        emails = [u.email for u in partner.users.all() if u.is_active and u.email]
        mail = mail_enqueue(
            kind="statement",
            to=emails,
            subject=f"Your FastTrack statement for {statement.start:%B %Y}",
            template="mail/statement",
            context={"statement": statement},
            attachments=[
                (
                    f"FastTrack-statement-{partner.partner_id}-{period}.pdf",
                    render_statement_pdf(statement),
                    "application/pdf",
                ),
                (
                    f"FastTrack-statement-{partner.partner_id}-{period}.csv",
                    statement_csv(statement).encode(),
                    "text/csv",
                ),
            ],
            dedupe_key=f"statement:{partner.pk}:{period}",
        )
        sent += mail is not None
    return sent
