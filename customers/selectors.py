from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from core.choices import Role
from core.scopes import effective_role
from customers.models import Customer

if TYPE_CHECKING:
    from accounts.models import User


def customers_visible_to(user: User) -> QuerySet[Customer]:
    """Program staff see every customer; a customer contact sees its own organisation."""
    role = effective_role(user)
    if role in (Role.PROGRAM_MANAGER, Role.FIELD_REP, Role.REVIEWER):
        return Customer.objects.all()
    if role == Role.CUSTOMER and user.customer_id:
        return Customer.objects.filter(pk=user.customer_id)
    return Customer.objects.none()
