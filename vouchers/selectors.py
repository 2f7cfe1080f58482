from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from accounts.models import User
from core.choices import Role
from core.errors import ApplicationError
from core.scopes import effective_role
from vouchers.codes import MalformedCode, normalise_code
from vouchers.models import Forward, Voucher


def vouchers_visible_to(user: User) -> QuerySet[Voucher]:
    """Staff see all vouchers; a field rep those of their nominations; a customer its own
    organisation's; a partner those it has claimed."""
    base = Voucher.objects.select_related("customer", "offer", "partner", "program")
    role = effective_role(user)
    if role in (Role.PROGRAM_MANAGER, Role.REVIEWER):
        return base
    if role == Role.FIELD_REP:
        return base.filter(nomination__nominated_by=user)
    if role == Role.CUSTOMER and user.customer_id:
        return base.filter(customer_id=user.customer_id)
    if role == Role.PARTNER and user.partner_id:
        forwarded = Forward.objects.filter(voucher=OuterRef("pk"), partner_id=user.partner_id)
        return base.filter(
            Q(partner_id=user.partner_id)
            | Q(status=Voucher.Status.ISSUED, partner__isnull=True) & Exists(forwarded)
        )
    return base.none()


def code_or_error(text: str) -> str:
    """The canonical code, or a 400 that says the code is mistyped (not "not found")."""
    try:
        return normalise_code(text)
    except MalformedCode as exc:
        raise ApplicationError(str(exc), code="mistyped_code", fields={"code": [str(exc)]}) from exc


def voucher_for(user: User, code: str) -> Voucher:
    """A voucher the user may see; another tenant's answers 404 like a missing one."""
    try:
        return vouchers_visible_to(user).get(code=code_or_error(code))
    except Voucher.DoesNotExist as exc:
        raise Http404("No such voucher.") from exc
