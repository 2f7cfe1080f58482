"""Handing one outbox row to the mail backend (R-NOT-*): what the mail workers run. It
enqueues nothing, so the tasks can import it and the outbox services can import the tasks."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from notifications.models import OutboundMail


def mail_dispatch(*, mail_id: int) -> bool:
    """Sends one pending mail under a row lock; a mail already sent is never sent again.

    Returns True when this call sent it. Errors propagate so the task retries.
    """
    with transaction.atomic():
        mail = (
            OutboundMail.objects.select_for_update(skip_locked=True)
            .filter(
                pk=mail_id, status__in=[OutboundMail.Status.PENDING, OutboundMail.Status.FAILED]
            )
            .first()
        )
        if mail is None:
            return False
        message = EmailMultiAlternatives(
            subject=mail.subject,
            body=mail.body_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=mail.to,
            cc=mail.cc,
        )
        if mail.body_html:
            message.attach_alternative(mail.body_html, "text/html")
        for attachment in mail.attachments.all():
            message.attach(attachment.filename, bytes(attachment.content), attachment.content_type)
        mail.attempts += 1
        error: Exception | None = None
        try:
            message.send(fail_silently=False)
        except Exception as exc:  # the row records it; the task retries with backoff
            error = exc
        if error is None:
            mail.status = OutboundMail.Status.SENT
            mail.sent_at = timezone.now()
            mail.last_error = ""
        else:
            mail.status = OutboundMail.Status.FAILED
            mail.last_error = f"{type(error).__name__}: {error}"[:2000]
        mail.save(update_fields=["status", "attempts", "sent_at", "last_error"])
    if error is not None:
        raise error
    return True
