from celery import shared_task
from django.conf import settings
from django.urls import reverse

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
        dedupe_key=f"voucher-issued:{voucher.pk}",
        related_object=f"voucher:{voucher.code}",
    )
    return mail is not None


@shared_task(acks_late=True)
def send_expiry_reminders() -> int:
    """Daily: R-VOU-8 reminders, each threshold at most once per voucher."""
    return reminders.send_expiry_reminders()


@shared_task(acks_late=True)
def send_poe_reminders() -> int:
    """Daily: partners whose POE is due before the voucher expires."""
    return reminders.send_poe_reminders()


@shared_task(acks_late=True)
def expire_vouchers() -> int:
    """Daily: vouchers past their expiry date expire (R-VOU-2)."""
    return reminders.expire_vouchers()
