from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from core.models import Event


def event_record(
    *,
    subject: str,
    subject_id: int,
    action: str,
    actor: Any = None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> Event:
    """Writes the audit row of one state change; call inside the change's transaction."""
    return Event.objects.create(
        subject=subject,
        subject_id=subject_id,
        action=action,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data or {},
    )


def events_for(subject: str, subject_id: int) -> QuerySet[Event]:
    return Event.objects.filter(subject=subject, subject_id=subject_id).select_related("actor")
