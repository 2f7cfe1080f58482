from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone

from core.models import Event
from notifications.models import OutboundMail
from notifications.services import mail_enqueue
from vouchers import reminders
from vouchers.models import Voucher
from vouchers.pdf import render_voucher_pdf, voucher_pdf_filename, voucher_workload_names


@shared_task(acks_late=True)
def send_voucher_issued(voucher_id: int) -> bool:
    """R-VOU-3, R-NOT-1: the voucher mail with its PDF to the customer's contacts, the
    nominating field rep in copy. Rendered here, never in the request; sent once."""
    voucher = Voucher.objects.select_related(
        "customer", "offer", "program", "nomination__nominated_by"
    ).get(pk=voucher_id)
    contacts = list(
        voucher.customer.contacts.filter(is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    rep = voucher.nomination.nominated_by
    pdf = render_voucher_pdf(voucher)
    mail = mail_enqueue(
        kind="voucher_issued",
        to=contacts or [rep.email],
        cc=[rep.email] if contacts else [],
        subject=f"Your FastTrack deployment voucher {voucher.code} (${voucher.value:,.2f})",
        template="mail/voucher_issued",
        context={
            "voucher": voucher,
            "workload_names": voucher_workload_names(voucher),
            "voucher_url": settings.SITE_URL + reverse("voucher-detail", args=[voucher.code]),
        },
        attachments=[(voucher_pdf_filename(voucher), pdf, "application/pdf")],
        dedupe_key=issue_mail_key(voucher.pk),
        related_object=f"voucher:{voucher.code}",
    )
    return mail is not None


def issue_mail_key(voucher_id: int) -> str:
    return f"voucher-issued:{voucher_id}"


@shared_task(acks_late=True)
def send_missing_voucher_mail(
    min_age_seconds: int = 120, max_age_days: int = 7, limit: int = 200
) -> int:
    """Beat: re-enqueues the voucher mail of vouchers issued lately (an "issued" event) that
    have none yet, because the broker was down when the deal was closed (R-VOU-3). Safe to
    run twice: the mail's dedupe key sends it once."""
    now = timezone.now()
    issued = Event.objects.filter(
        subject="voucher",
        action="issued",
        subject_id=OuterRef("pk"),
        at__gte=now - timedelta(days=max_age_days),
        at__lt=now - timedelta(seconds=min_age_seconds),
    )
    mailed = OutboundMail.objects.filter(
        dedupe_key=Concat(Value("voucher-issued:"), Cast(OuterRef("pk"), CharField()))
    )
    ids = list(
        Voucher.objects.filter(created_at__gte=now - timedelta(days=max_age_days))
        .filter(Exists(issued), ~Exists(mailed))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for voucher_id in ids:
        send_voucher_issued.delay(voucher_id)
    return len(ids)


@shared_task(acks_late=True)
def send_expiry_reminders() -> int:
    """Daily: R-VOU-8 reminders, each threshold at most once per voucher."""
    return reminders.send_expiry_reminders()


@shared_task(acks_late=True)
def expire_vouchers() -> int:
    """Daily: vouchers past their expiry date expire (R-VOU-2)."""
    return reminders.expire_vouchers()
