from datetime import timedelta
from typing import Any

from celery import shared_task
from django.utils import timezone

from notifications.delivery import mail_dispatch
from notifications.models import OutboundMail

MAX_ATTEMPTS = 8


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=MAX_ATTEMPTS,
)
def dispatch_mail(self: Any, mail_id: int) -> bool:
    return mail_dispatch(mail_id=mail_id)


@shared_task(acks_late=True)
def dispatch_mail_batch(mail_ids: list[int]) -> int:
    """Sends a chunk of outbox rows; a row that fails is retried by its own task."""
    sent = 0
    for mail_id in mail_ids:
        try:
            sent += bool(mail_dispatch(mail_id=mail_id))
        except OSError:
            dispatch_mail.apply_async((mail_id,), countdown=30)
    return sent


@shared_task(acks_late=True)
def dispatch_pending_mail(min_age_seconds: int = 60) -> int:
    """Beat: re-enqueues mail left pending (broker down at commit, worker killed).

    Only rows older than `min_age_seconds`, so a mail whose own task is on its way is not
    enqueued twice for nothing (twice would still send it once: `mail_dispatch` locks)."""
    cutoff = timezone.now() - timedelta(seconds=min_age_seconds)
    ids = list(
        OutboundMail.objects.filter(
            status__in=[OutboundMail.Status.PENDING, OutboundMail.Status.FAILED],
            created_at__lt=cutoff,
            attempts__lt=MAX_ATTEMPTS,
        ).values_list("pk", flat=True)[:500]
    )
    for mail_id in ids:
        dispatch_mail.delay(mail_id)
    return len(ids)
