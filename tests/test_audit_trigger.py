"""R-REV-2 on PostgreSQL: the event table refuses UPDATE and DELETE in the database itself,
even through raw SQL and bulk queryset operations that bypass the model."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from core.events import event_record
from core.models import Event

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_event_rows_cannot_be_changed_or_removed() -> None:
    event = event_record(subject="voucher", subject_id=1, action="issued", to_state="issued")
    for attempt in (
        lambda: Event.objects.filter(pk=event.pk).update(reason="rewritten"),
        lambda: Event.objects.filter(pk=event.pk)._raw_delete(using="default"),
        lambda: connection.cursor().execute("UPDATE core_event SET action = 'x'"),
        lambda: connection.cursor().execute("DELETE FROM core_event"),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    assert Event.objects.get(pk=event.pk).action == "issued"
    event_record(subject="voucher", subject_id=1, action="claimed")  # appending still works
    assert Event.objects.count() == 2
