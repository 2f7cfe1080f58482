from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from core.choices import Role
from core.scopes import effective_role
from nominations.models import Nomination
from vouchers.models import Voucher


def nominations_visible_to(user: User) -> QuerySet[Nomination]:
    """Program staff see every nomination; a field rep sees their own."""
    base = Nomination.objects.select_related("customer", "offer", "program", "nominated_by")
    role = effective_role(user)
    if role in (Role.PROGRAM_MANAGER, Role.REVIEWER):
        return base
    if role == Role.FIELD_REP:
        return base.filter(nominated_by=user)
    return base.none()


def held_groups(
    *, program_id: int, customer_id: int, exclude_nomination: int | None = None
) -> set[str]:
    """Exclusive groups the customer already holds in the program: open nominations and
    vouchers that are not cancelled (R-OFFER-1)."""
    nominations = Nomination.objects.filter(
        program_id=program_id, customer_id=customer_id, status__in=Nomination.OPEN_STATUSES
    )
    if exclude_nomination is not None:
        nominations = nominations.exclude(pk=exclude_nomination)
    vouchers = Voucher.objects.filter(program_id=program_id, customer_id=customer_id).exclude(
        status=Voucher.Status.CANCELLED
    )
    if exclude_nomination is not None:
        vouchers = vouchers.exclude(nomination_id=exclude_nomination)
    return set(nominations.values_list("exclusive_group", flat=True)) | set(
        vouchers.values_list("exclusive_group", flat=True)
    )
