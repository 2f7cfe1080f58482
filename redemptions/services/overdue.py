"""Overdue reviews (R-REV-1): reviewers and their leads hear once about each request that
passed its review target while waiting for QTM."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.choices import Role
from core.models import Event
from core.words import counted
from notifications.services import mail_enqueue
from redemptions.models import PaymentRequest


def flag_overdue_reviews(*, today: date | None = None) -> int:
    today = today or timezone.localdate()
    with transaction.atomic():
        overdue = list(
            PaymentRequest.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                status=PaymentRequest.Status.SUBMITTED,
                due_by__lt=today,
                overdue_notified_at__isnull=True,
            )
            .select_related("voucher__customer", "voucher__partner", "reviewer")
            .order_by("due_by", "pk")[:1000]
        )
        if not overdue:
            return 0
        now = timezone.now()
        PaymentRequest.objects.filter(pk__in=[r.pk for r in overdue]).update(
            overdue_notified_at=now
        )
        Event.objects.bulk_create(
            Event(
                subject="request",
                subject_id=r.pk,
                action="overdue",
                from_state=r.status,
                to_state=r.status,
                data={"due_by": r.due_by.isoformat()},
            )
            for r in overdue
        )
        leads = User.objects.filter(
            is_active=True, role__in=[Role.REVIEWER, Role.PROGRAM_MANAGER]
        ).exclude(email="")
        mail_enqueue(
            kind="overdue_reviews",
            to=list(leads.values_list("email", flat=True)),
            subject=f"{counted(len(overdue), 'payment request')} passed the review target",
            template="mail/overdue_reviews",
            context={
                "requests": overdue,
                "today": today,
                "queue_url": settings.SITE_URL + reverse("review-queue"),
            },
            dedupe_key=f"overdue:{today.isoformat()}:{overdue[0].pk}",
        )
    return len(overdue)
