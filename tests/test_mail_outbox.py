"""The mail outbox: a row per message, sent after commit, never twice."""

from __future__ import annotations

from typing import Any, cast

import pytest
from django.core import mail as django_mail
from django.core.mail import EmailMultiAlternatives

from notifications.models import OutboundMail
from notifications.services import mail_dispatch, mail_enqueue
from notifications.tasks import dispatch_pending_mail

pytestmark = pytest.mark.django_db


def _enqueue(**kwargs: Any) -> OutboundMail | None:
    params = {
        "kind": "test",
        "to": ["to@example.com"],
        "subject": "Subject",
        "template": "mail/plain",
        "context": {"body": "Hello"},
        **kwargs,
    }
    return mail_enqueue(**params)


def test_mail_is_sent_after_commit_with_cc_and_attachment(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        row = _enqueue(
            cc=["cc@example.com", "to@example.com"],
            attachments=[("v.pdf", b"%PDF-1.7", "application/pdf")],
        )
    assert row is not None
    row.refresh_from_db()
    assert row.status == OutboundMail.Status.SENT and row.sent_at and row.attempts == 1
    [sent] = django_mail.outbox
    assert sent.to == ["to@example.com"] and sent.cc == ["cc@example.com"]  # no duplicate address
    assert sent.attachments[0][0] == "v.pdf"
    assert cast(EmailMultiAlternatives, sent).alternatives[0][1] == "text/html"


def test_dedupe_key_sends_once() -> None:
    assert _enqueue(dedupe_key="reminder:1:90") is not None
    assert _enqueue(dedupe_key="reminder:1:90") is None
    assert OutboundMail.objects.count() == 1


def test_dispatch_twice_sends_once() -> None:
    row = _enqueue()
    assert row is not None
    assert mail_dispatch(mail_id=row.pk) is True
    assert mail_dispatch(mail_id=row.pk) is False
    assert len(django_mail.outbox) == 1


def test_subject_header_injection_is_neutralised() -> None:
    row = _enqueue(
        subject="Hi\r\nBcc: victim@example.com", to=["ok@example.com", "bad@example.com\nBcc: x@y"]
    )
    assert row is not None
    assert "\n" not in row.subject and row.to == ["ok@example.com"]
    mail_dispatch(mail_id=row.pk)
    assert django_mail.outbox[0].subject == "Hi Bcc: victim@example.com"


def test_failed_send_is_recorded_and_retried(settings: Any) -> None:
    settings.EMAIL_BACKEND = "tests.test_mail_outbox.BrokenBackend"
    row = _enqueue()
    assert row is not None
    with pytest.raises(OSError):
        mail_dispatch(mail_id=row.pk)
    row.refresh_from_db()
    assert row.status == OutboundMail.Status.FAILED and "connection refused" in row.last_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    OutboundMail.objects.filter(pk=row.pk).update(created_at=row.created_at.replace(year=2000))
    assert dispatch_pending_mail() == 1  # beat's sweep re-enqueues; eager mode sends it
    row.refresh_from_db()
    assert row.status == OutboundMail.Status.SENT and row.attempts == 2


class BrokenBackend:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: Any) -> int:
        raise ConnectionRefusedError("connection refused")


def test_dispatch_publishes_chunks_with_a_short_argsrepr() -> None:
    """Workers get the outbox in chunks of DISPATCH_CHUNK ids; monitoring shows a summary
    instead of Celery's repr of every id (half the cost of publishing, `make bench`)."""
    from unittest import mock

    from django.test import TestCase

    from notifications.services import DISPATCH_CHUNK, mail_dispatch_on_commit
    from notifications.tasks import dispatch_mail_batch

    ids = list(range(1, DISPATCH_CHUNK + 3))
    conf = dispatch_mail_batch.app.conf
    eager = conf.task_always_eager
    conf.task_always_eager = False  # publish, as a deployed web process does
    try:
        with (
            mock.patch.object(dispatch_mail_batch, "apply_async") as publish,
            TestCase.captureOnCommitCallbacks(execute=True),
        ):
            mail_dispatch_on_commit(ids)
    finally:
        conf.task_always_eager = eager
    calls = publish.call_args_list
    assert [c.kwargs["args"] for c in calls] == [(ids[:DISPATCH_CHUNK],), (ids[DISPATCH_CHUNK:],)]
    assert calls[0].kwargs["argsrepr"] == f"[{DISPATCH_CHUNK} mail ids 1…{DISPATCH_CHUNK}]"
    assert "argsrepr" not in calls[1].kwargs  # two ids: Celery's own repr is cheap
