from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from core.choices import Role
from core.errors import ApplicationError
from customers.models import Customer
from partners.models import Partner


def user_create(
    *,
    username: str,
    email: str,
    password: str,
    role: str,
    organisation: str = "",
    first_name: str = "",
    last_name: str = "",
) -> User:
    """Creates a user with one role; customer and partner users name their organisation
    by TPID or partner ID."""
    customer = partner = None
    if role == Role.CUSTOMER:
        customer = Customer.objects.filter(tpid=organisation).first()
        if customer is None:
            raise ApplicationError(
                "A customer user needs the TPID of an existing customer.",
                fields={"organisation": [f"No customer with TPID {organisation!r}."]},
                code="unknown_organisation",
            )
    elif role == Role.PARTNER:
        partner = Partner.objects.filter(partner_id=organisation).first()
        if partner is None:
            raise ApplicationError(
                "A partner user needs the partner ID of an existing partner.",
                fields={"organisation": [f"No partner with ID {organisation!r}."]},
                code="unknown_organisation",
            )
    elif organisation:
        raise ApplicationError(
            "Only customer and partner users belong to an organisation.",
            fields={"organisation": ["Leave empty for this role."]},
            code="role_organisation",
        )
    user = User(
        username=username,
        email=email,
        role=role,
        customer=customer,
        partner=partner,
        first_name=first_name,
        last_name=last_name,
    )
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ApplicationError(
            "The password is too weak.", fields={"password": exc.messages}, code="weak_password"
        ) from exc
    user.set_password(password)
    with transaction.atomic():
        user.full_clean(exclude=["password"])
        user.save()
    return user
