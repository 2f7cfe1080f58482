from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import QuerySet

from accounts.models import User
from core.choices import Role
from core.scopes import effective_role
from payments.models import Dispute, FxRate, Payment


def fx_rate_on(*, currency: str, day: date) -> Decimal | None:
    """The program FX rate in force on `day` (R-PAY-1); USD is always 1."""
    if currency == "USD":
        return Decimal("1")
    return (
        FxRate.objects.filter(currency=currency, valid_from__lte=day)
        .order_by("-valid_from")
        .values_list("rate_per_usd", flat=True)
        .first()
    )


def payments_visible_to(user: User) -> QuerySet[Payment]:
    base = Payment.objects.select_related("voucher", "partner", "request", "batch")
    role = effective_role(user)
    if role in (Role.PROGRAM_MANAGER, Role.REVIEWER):
        return base
    if role == Role.PARTNER and user.partner_id:
        return base.filter(partner_id=user.partner_id)
    return base.none()


def disputes_visible_to(user: User) -> QuerySet[Dispute]:
    base = Dispute.objects.select_related("partner", "request")
    role = effective_role(user)
    if role in (Role.PROGRAM_MANAGER, Role.REVIEWER):
        return base
    if role == Role.PARTNER and user.partner_id:
        return base.filter(partner_id=user.partner_id)
    return base.none()
