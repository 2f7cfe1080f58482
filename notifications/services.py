"""Writing mail to the outbox and handing it to the workers (R-NOT-*). The workers send
it with `notifications.delivery.mail_dispatch` (re-exported here for callers)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from core.tasks import enqueue_on_commit
from notifications.delivery import mail_dispatch
from notifications.models import MailAttachment, OutboundMail
from notifications.tasks import dispatch_mail, dispatch_mail_batch

__all__ = [
    "DISPATCH_CHUNK",
    "clean_addresses",
    "mail_dispatch",
    "mail_dispatch_on_commit",
    "mail_enqueue",
    "mail_render",
    "mail_resend",
]

_WS = re.compile(r"\s+")


def clean_addresses(addresses: Iterable[str]) -> list[str]:
    """Trimmed, without line breaks (no header injection), each once, in first order."""
    seen: dict[str, None] = {}
    for address in addresses:
        address = (address or "").strip()
        if address and "\n" not in address and "\r" not in address:
            seen.setdefault(address, None)
    return list(seen)


def mail_render(
    *,
    kind: str,
    to: Iterable[str],
    subject: str,
    template: str,
    context: Mapping[str, Any],
    cc: Iterable[str] = (),
    dedupe_key: str | None = None,
    related_object: str = "",
) -> OutboundMail:
    """An unsaved outbox row, rendered from `<template>.txt` and `.html` (for bulk inserts)."""
    recipients = clean_addresses(to)
    copies = [a for a in clean_addresses(cc) if a not in recipients]
    ctx = {"site_url": settings.SITE_URL, **context}
    return OutboundMail(
        kind=kind,
        dedupe_key=dedupe_key,
        to=recipients,
        cc=copies,
        subject=_WS.sub(" ", subject).strip()[:250],
        body_text=render_to_string(f"{template}.txt", ctx),
        body_html=render_to_string(f"{template}.html", ctx),
        related_object=related_object,
    )


# Mails per worker task: a reminder run of 100,000 publishes 200 tasks, each a few seconds
# of a worker's time; a killed worker's task is redelivered (acks_late) and sends only
# what is still pending (`mail_dispatch` locks the row).
DISPATCH_CHUNK = 500


def mail_dispatch_on_commit(mail_ids: list[int]) -> None:
    """Hands the rows to the workers once the surrounding transaction commits, in chunks.
    With the broker down the rows stay pending for the sweep (`dispatch_pending_mail`)."""
    ids = list(mail_ids)
    for start in range(0, len(ids), DISPATCH_CHUNK):
        chunk = ids[start : start + DISPATCH_CHUNK]
        summary = f"[{len(chunk)} mail ids {chunk[0]}…{chunk[-1]}]" if len(chunk) > 3 else None
        enqueue_on_commit(dispatch_mail_batch, chunk, argsrepr=summary)


def mail_enqueue(
    *,
    kind: str,
    to: Iterable[str],
    subject: str,
    template: str,
    context: Mapping[str, Any],
    cc: Iterable[str] = (),
    attachments: Iterable[tuple[str, bytes, str]] = (),
    dedupe_key: str | None = None,
    related_object: str = "",
) -> OutboundMail | None:
    """Renders `<template>.txt` and `<template>.html` and stores the mail in the outbox.

    Returns None when a mail with the same `dedupe_key` exists already (sent once).
    Dispatch happens after the surrounding transaction commits; with the broker down the
    row stays pending and the sweep (`dispatch_pending_mail`) sends it later.
    """
    mail = mail_render(
        kind=kind,
        to=to,
        subject=subject,
        template=template,
        context=context,
        cc=cc,
        dedupe_key=dedupe_key,
        related_object=related_object,
    )
    try:
        with transaction.atomic():
            mail.save()
            MailAttachment.objects.bulk_create(
                MailAttachment(mail=mail, filename=name, content=content, content_type=ctype)
                for name, content, ctype in attachments
            )
    except IntegrityError:
        if dedupe_key and OutboundMail.objects.filter(dedupe_key=dedupe_key).exists():
            return None
        raise
    enqueue_on_commit(dispatch_mail, mail.pk)
    return mail


def mail_resend(*, mail_id: int, user: Any) -> OutboundMail:
    """A program manager sends a copy of a mail again; the copy is a new, logged row."""
    original = OutboundMail.objects.prefetch_related("attachments").get(pk=mail_id)
    with transaction.atomic():
        copy = OutboundMail.objects.create(
            kind=original.kind,
            to=original.to,
            cc=original.cc,
            subject=original.subject,
            body_text=original.body_text,
            body_html=original.body_html,
            related_object=original.related_object,
            resent_from=original,
            resent_by=user if getattr(user, "is_authenticated", False) else None,
        )
        MailAttachment.objects.bulk_create(
            MailAttachment(
                mail=copy, filename=a.filename, content=a.content, content_type=a.content_type
            )
            for a in original.attachments.all()
        )
    enqueue_on_commit(dispatch_mail, copy.pk)
    return copy
