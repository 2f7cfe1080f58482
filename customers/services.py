"""Adding and verifying customer organisations (R-ELIG-8, our decision: a customer a field
rep adds is unverified until a program manager verifies it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from core.choices import Category, Role
from core.errors import ApplicationError, StateConflict
from core.events import event_record
from core.scopes import effective_role
from customers.models import Customer

if TYPE_CHECKING:
    from accounts.models import User

VERIFY_RULE = "R-ELIG-8"  # docs/decisions.md: the FAQ is silent on customers reps add


def customer_create(
    *,
    user: User,
    tpid: str,
    name: str,
    country: str,
    category: str,
    segment: str,
    e3_licenses: int = 0,
    public_institution: bool = False,
    company: str = "",
) -> Customer:
    """A program manager adds a verified customer; a field rep adds one not yet in the
    portal, unverified until a program manager verifies it (R-ELIG-8). Either way one
    `added` event records who added it and in which state."""
    role = effective_role(user)
    if role not in (Role.PROGRAM_MANAGER, Role.FIELD_REP):
        raise PermissionDenied("Only program managers and field reps add customers.")
    if public_institution and category != Category.EDUCATION:
        # program-rules.md, public sector: only an education customer can be marked.
        message = "Only education customers can be marked a public institution."
        raise ApplicationError(
            message, fields={"public_institution": [message]}, code="public_institution"
        )
    manager = role == Role.PROGRAM_MANAGER
    now = timezone.now()
    customer = Customer(
        tpid=tpid,
        name=name,
        country=country,
        category=category,
        segment=segment,
        e3_licenses=e3_licenses,
        public_institution=public_institution,
        company=company,
        added_by=user,
        verification=(
            Customer.Verification.VERIFIED if manager else Customer.Verification.UNVERIFIED
        ),
        verified_by=user if manager else None,
        verified_at=now if manager else None,
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                customer.save(force_insert=True)
        except IntegrityError as exc:
            message = f"A customer with TPID {tpid} is already in the portal."
            if not manager:
                message += " If you cannot choose it, a program manager has yet to verify it."
            raise StateConflict(message, fields={"tpid": [message]}, code="already_exists") from exc
        event_record(
            subject="customer",
            subject_id=customer.pk,
            action="added",
            actor=user,
            to_state=customer.verification,
            data={"tpid": customer.tpid, "name": customer.name},
        )
    return customer


def customer_verify(*, tpid: str, user: User) -> Customer:
    """A program manager confirms a customer a field rep added: from then on its
    nominations can be approved and every field rep can choose it (R-ELIG-8)."""
    if effective_role(user) != Role.PROGRAM_MANAGER:
        raise PermissionDenied("Only program managers verify customers.")
    with transaction.atomic():
        customer = Customer.objects.select_for_update().filter(tpid=tpid).first()
        if customer is None:
            raise Http404("No such customer.")
        if customer.is_verified:
            raise StateConflict(
                f"{customer.name} (TPID {customer.tpid}) is already verified.",
                rule=VERIFY_RULE,
                code="already_verified",
            )
        before = customer.verification
        customer.verification = Customer.Verification.VERIFIED
        customer.verified_by = user
        customer.verified_at = timezone.now()
        customer.save(update_fields=["verification", "verified_by", "verified_at", "updated_at"])
        event_record(
            subject="customer",
            subject_id=customer.pk,
            action="verified",
            actor=user,
            from_state=before,
            to_state=customer.verification,
        )
    return customer
