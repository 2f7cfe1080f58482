"""Voucher extensions (R-VOU-9)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.errors import ApplicationError, StateConflict
from core.events import event_record
from core.words import counted
from vouchers.expiry import refuse_if_expired
from vouchers.models import Extension, Voucher


def extension_request(*, voucher_id: int, user: User, reason: str) -> Extension:
    """R-VOU-9: once, before expiry, after the SOW was approved. On an expired voucher the
    refusal cites R-VOU-2 with the expiry date, before any other."""
    reason = (reason or "").strip()
    with transaction.atomic():
        voucher = (
            Voucher.objects.select_for_update(of=("self",))
            .select_related("program")
            .get(pk=voucher_id)
        )
        if voucher.customer_id != user.customer_id:
            raise StateConflict(
                "Only the customer can ask for an extension.", rule="R-VOU-9", code="not_customer"
            )
        program = voucher.program
        refuse_if_expired(voucher, "an extension must be asked for before it expires (R-VOU-9).")
        # Past its date but fully redeemed or cancelled: not expired (R-VOU-2), still too late.
        if timezone.localdate() > voucher.expires_on:
            raise StateConflict(
                "An extension must be asked for before the voucher expires.",
                rule="R-VOU-9",
                code="expired",
            )
        if not reason:
            raise ApplicationError(
                "Say why more time is needed.", rule="R-VOU-9", fields={"reason": ["Required."]}
            )
        if not voucher.payment_requests.filter(kind="initial", status="approved").exists():
            raise StateConflict(
                "An extension can be asked for once the SOW is approved.",
                rule="R-VOU-9",
                code="sow_not_approved",
            )
        if voucher.extensions.filter(status=Extension.Status.PENDING).exists():
            raise StateConflict(
                "An extension request is already waiting for a decision.",
                rule="R-VOU-9",
                code="pending",
            )
        if (
            voucher.extensions.exclude(status=Extension.Status.PENDING).count()
            >= program.extension_max_count
        ):
            raise StateConflict(
                f"A voucher can be extended {counted(program.extension_max_count, 'time')}; "
                "that was used.",
                rule="R-VOU-9",
                code="used",
            )
        extension = Extension.objects.create(
            voucher=voucher,
            reason=reason,
            days=program.extension_days,
            requested_by=user,
            previous_expires_on=voucher.expires_on,
        )
        event_record(
            subject="voucher",
            subject_id=voucher.pk,
            action="extension_requested",
            actor=user,
            from_state=voucher.status,
            to_state=voucher.status,
            reason=reason,
            data={"days": extension.days},
        )
    return extension


def extension_decide(*, extension_id: int, user: User, approve: bool, note: str = "") -> Extension:
    with transaction.atomic():
        extension = Extension.objects.select_for_update().get(pk=extension_id)
        voucher = Voucher.objects.select_for_update(of=("self",)).get(pk=extension.voucher_id)
        if extension.status != Extension.Status.PENDING:
            raise StateConflict(
                "This extension was already decided.", rule="R-VOU-9", code="decided"
            )
        if not approve and not (note or "").strip():
            raise ApplicationError(
                "Give the reason for refusing.", rule="R-VOU-9", fields={"note": ["Required."]}
            )
        extension.status = Extension.Status.APPROVED if approve else Extension.Status.REJECTED
        extension.decided_by = user
        extension.decided_at = timezone.now()
        extension.decision_note = (note or "").strip()
        if approve:
            extension.new_expires_on = voucher.expires_on + timedelta(days=extension.days)
            voucher.expires_on = extension.new_expires_on
            voucher.save(update_fields=["expires_on", "updated_at"])
        extension.save()
        event_record(
            subject="voucher",
            subject_id=voucher.pk,
            action=f"extension_{extension.status}",
            actor=user,
            from_state=voucher.status,
            to_state=voucher.status,
            reason=extension.decision_note,
            data={
                "new_expires_on": extension.new_expires_on.isoformat()
                if extension.new_expires_on
                else None
            },
        )
    return extension
