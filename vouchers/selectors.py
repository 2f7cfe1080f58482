from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404

from accounts.models import User
from core.choices import Role
from core.db import table
from core.errors import ApplicationError
from core.models import Event
from core.scopes import effective_role
from vouchers.codes import MalformedCode, normalise_code
from vouchers.models import Forward, Voucher

# A partner's vouchers as one union of two index lookups: its own, and the unclaimed ones
# forwarded to it (R-VOU-4). Written as SQL: building the union with querysets cost more
# Python than running it.
PARTNER_VOUCHERS = (
    f"SELECT id FROM {table(Voucher)} WHERE partner_id = %s "  # noqa: S608 - names from _meta
    f"UNION SELECT f.voucher_id FROM {table(Forward)} f "
    f"JOIN {table(Voucher)} v ON v.id = f.voucher_id "
    "WHERE f.partner_id = %s AND v.status = 'issued' AND v.partner_id IS NULL"
)


def vouchers_visible_to(user: User, *, listing: bool = False) -> QuerySet[Voucher]:
    """Staff see all vouchers; a field rep those of their nominations; a customer its own
    organisation's; a partner those it has claimed or that were forwarded to it.

    `listing`: the same set, phrased for reading many rows. A partner's list with the OR
    below made PostgreSQL read every voucher (`make bench`: the first page grew with the whole
    table), while for one voucher by code the OR is the cheapest plan."""
    base = Voucher.objects.select_related("customer", "offer", "partner", "program")
    role = effective_role(user)
    if role in (Role.PROGRAM_MANAGER, Role.REVIEWER):
        return base
    if role == Role.FIELD_REP:
        return base.filter(nomination__nominated_by=user)
    if role == Role.CUSTOMER and user.customer_id:
        return base.filter(customer_id=user.customer_id)
    if role == Role.PARTNER and user.partner_id:
        if listing:
            ids = RawSQL(PARTNER_VOUCHERS, [user.partner_id, user.partner_id])  # noqa: S611 - parameters only
            return base.filter(pk__in=ids)
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


def partner_declined(*, voucher_id: int, partner_code: str) -> bool:
    """Whether a partner's decline of the voucher stands (R-VOU-5): its last word in the
    voucher's history is its decline, with no forward from the customer to it since. A
    decline is answered once; a new forward opens the engagement again. The voucher's row
    lock orders every forward and decline, so the higher id is the later one."""
    last = (
        Event.objects.filter(
            subject="voucher",
            subject_id=voucher_id,
            action__in=("declined", "forwarded"),
            data__partner=partner_code,
        )
        .order_by("-pk")
        .values_list("action", flat=True)
        .first()
    )
    return last == "declined"


def voucher_customer_emails(voucher: Voucher) -> list[str]:
    """The customer's active contacts with a mail address: who hears of the voucher."""
    return list(
        voucher.customer.contacts.filter(is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
