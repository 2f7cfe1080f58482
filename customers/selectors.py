from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from core.choices import Role
from core.scopes import effective_role
from customers.models import Customer

if TYPE_CHECKING:
    from accounts.models import User


def customers_visible_to(user: User) -> QuerySet[Customer]:
    """Program managers and reviewers see every customer; a field rep sees the verified
    ones and those they added themselves while unverified (R-ELIG-8: another rep's
    unverified addition answers 404, as a missing one); a customer contact sees its own
    organisation."""
    role = effective_role(user)
    if role in (Role.PROGRAM_MANAGER, Role.REVIEWER):
        return Customer.objects.all()
    if role == Role.FIELD_REP:
        return Customer.objects.filter(
            Q(verification=Customer.Verification.VERIFIED) | Q(added_by=user)
        )
    if role == Role.CUSTOMER and user.customer_id:
        return Customer.objects.filter(pk=user.customer_id)
    return Customer.objects.none()


def customers_awaiting_verification() -> QuerySet[Customer]:
    """Customers field reps added that no program manager has verified yet (R-ELIG-8)."""
    return Customer.objects.filter(verification=Customer.Verification.UNVERIFIED).select_related(
        "added_by"
    )
