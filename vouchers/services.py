"""Customers forward vouchers to FastTrack Ready Partners (R-VOU-4, R-VOU-7, R-OFFER-3)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import User
from core.choices import Role
from core.errors import ApplicationError, RuleViolation, StateConflict, Violation
from core.events import event_record
from core.scopes import effective_role
from core.tasks import enqueue_on_commit
from notifications.services import mail_enqueue
from partners.models import Partner
from vouchers.codes import generate_code
from vouchers.conflicts import SameCompany, conflict_check
from vouchers.expiry import refuse_if_expired
from vouchers.models import Forward, Voucher
from vouchers.selectors import partner_declined, voucher_customer_emails
from vouchers.tasks import send_voucher_issued

if TYPE_CHECKING:
    from nominations.models import Nomination

# How often a new random code is drawn when one collides with an existing voucher's.
CODE_ATTEMPTS = 5


def voucher_issue(
    *,
    nomination: Nomination,
    user: User,
    value: Decimal,
    cap: Decimal,
    cap_row: str,
    cap_reason: str = "",
    suggested_value: Decimal,
    scheme: str,
    issued_on: date,
    expires_on: date,
) -> Voucher:
    """The one place a voucher is created (R-VOU-1): a fresh code, the voucher with its value
    fixed, its `issued` event, and after commit the issue mail with the voucher PDF to the
    customer, the account team cc'd (R-VOU-3). The caller, closing the nomination's deal,
    holds the nomination's row lock and its transaction."""
    for _attempt in range(CODE_ATTEMPTS):
        try:
            with transaction.atomic():
                voucher = Voucher.objects.create(
                    code=generate_code(),
                    program=nomination.program,
                    nomination=nomination,
                    customer=nomination.customer,
                    offer=nomination.offer,
                    exclusive_group=nomination.exclusive_group,
                    workloads=nomination.workloads,
                    scheme=scheme,
                    value=value,
                    cap=cap,
                    cap_row=cap_row,
                    suggested_value=suggested_value,
                    issued_on=issued_on,
                    expires_on=expires_on,
                    issued_by=user,
                )
            break
        except IntegrityError as exc:
            if "code" not in str(exc).lower():
                raise RuleViolation.of(
                    [Violation("R-OFFER-1", "This customer already holds a voucher in this group.")]
                ) from exc
    else:
        raise ApplicationError(
            "Could not allocate a voucher code; try again.", code="code_collision"
        )
    event_record(
        subject="voucher",
        subject_id=voucher.pk,
        action="issued",
        actor=user,
        to_state=voucher.status,
        data={
            "value": str(voucher.value),
            "suggested_value": str(suggested_value),
            "cap": str(voucher.cap),
            "cap_row": voucher.cap_row,
            "cap_reason": cap_reason,
            "expires_on": voucher.expires_on.isoformat(),
        },
    )
    # With the broker down, `send_missing_voucher_mail` (beat) sends it later (R-VOU-3).
    enqueue_on_commit(send_voucher_issued, voucher.pk)
    return voucher


def conflict_of_interest(
    *, voucher: Voucher, partner: Partner, check: SameCompany | None = None
) -> Violation | None:
    """R-VOU-7: no partner of the customer's own company (the same ultimate parent, the
    same legal name or a shared corporate mail domain: vouchers.conflicts), with the
    evidence that matched."""
    customer = voucher.customer
    if check is None:
        check = conflict_check(customer=customer, partner=partner)
    if check.matched:
        return Violation(
            "R-VOU-7",
            f"{partner.name} belongs to the same company as {customer.name}: "
            f"{'; '.join(check.evidence)}. The voucher must be redeemed through a partner "
            "outside the customer's own company.",
        )
    return None


def partner_refusals(
    *, voucher: Voucher, partner: Partner, check: SameCompany | None = None
) -> list[Violation]:
    refusals = []
    if not partner.frp_approved:
        refusals.append(
            Violation("R-VOU-4", f"{partner.name} is not on the FastTrack Ready approved list.")
        )
    conflict = conflict_of_interest(voucher=voucher, partner=partner, check=check)
    if conflict is not None:
        refusals.append(conflict)
    return refusals


def voucher_forward(*, voucher_id: int, user: User, partner_id: str, message: str = "") -> Forward:
    if effective_role(user) != Role.CUSTOMER:
        raise RuleViolation.of(
            [Violation("R-OFFER-3", "Only the customer a voucher was issued to can forward it.")]
        )
    with transaction.atomic():
        voucher = (
            Voucher.objects.select_for_update(of=("self",))
            .select_related("customer", "offer", "program")
            .get(pk=voucher_id)
        )
        if voucher.customer_id != user.customer_id:
            raise RuleViolation.of(
                [Violation("R-OFFER-3", "Vouchers are not transferable to another customer.")]
            )
        refuse_if_expired(voucher, "it can no longer be forwarded to a partner.")
        if voucher.status != Voucher.Status.ISSUED:
            raise StateConflict(
                f"This voucher is {voucher.get_status_display().lower()}; only an issued voucher "
                "that no partner has claimed can be forwarded.",
                rule="R-VOU-5",
            )
        partner = Partner.objects.filter(partner_id=partner_id).first()
        if partner is None or not partner.frp_approved:
            raise RuleViolation.of(
                [Violation("R-VOU-4", "Choose a partner from the FastTrack Ready approved list.")]
            )
        refusals = partner_refusals(voucher=voucher, partner=partner)
        if refusals:
            raise RuleViolation.of(refusals)
        forward = Forward.objects.create(
            voucher=voucher, partner=partner, message=message.strip(), forwarded_by=user
        )
        event_record(
            subject="voucher",
            subject_id=voucher.pk,
            action="forwarded",
            actor=user,
            from_state=voucher.status,
            to_state=voucher.status,
            reason=forward.message,
            data={"partner": partner.partner_id},
        )
        recipients = list(
            partner.users.filter(is_active=True).exclude(email="").values_list("email", flat=True)
        )
        mail_enqueue(
            kind="voucher_forwarded",
            to=recipients,
            cc=[user.email],
            subject=f"{voucher.customer.name} chose you to redeem voucher {voucher.code}",
            template="mail/voucher_forwarded",
            context={
                "voucher": voucher,
                "partner": partner,
                "customer": voucher.customer,
                "message": forward.message,
                "claim_url": settings.SITE_URL + reverse("voucher-claim"),
            },
            related_object=f"voucher:{voucher.code}",
        )
    return forward


def _notify_customer(*, voucher: Voucher, partner: Partner, kind: str, reason: str = "") -> None:
    """R-NOT-2: customers hear when a partner accepts or declines their voucher."""
    rep = voucher.nomination.nominated_by
    verb = "accepted" if kind == "voucher_claimed" else "declined"
    mail_enqueue(
        kind=kind,
        to=voucher_customer_emails(voucher) or [rep.email],
        cc=[rep.email],
        subject=f"{partner.name} {verb} your voucher {voucher.code}",
        template=f"mail/{kind}",
        context={
            "voucher": voucher,
            "partner": partner,
            "reason": reason,
            "voucher_url": settings.SITE_URL + reverse("voucher-detail", args=[voucher.code]),
        },
        related_object=f"voucher:{voucher.code}",
    )


def voucher_claim(*, code: str, user: User) -> Voucher:
    """The partner becomes the voucher's one redeeming partner (R-VOU-5). The code alone
    is enough: the customer handed over the voucher mail."""
    from django.http import Http404
    from django.utils import timezone

    partner = user.partner
    if effective_role(user) != Role.PARTNER or partner is None:
        raise RuleViolation.of(
            [Violation("R-VOU-4", "Only FastTrack Ready Partners claim vouchers.")]
        )
    with transaction.atomic():
        voucher = (
            Voucher.objects.select_for_update(of=("self",))
            .select_related("customer", "offer", "program", "nomination__nominated_by")
            .filter(code=code)
            .first()
        )
        if voucher is None:
            raise Http404("No voucher with this code.")
        # R-VOU-2 first, whoever claims and whether or not the nightly job marked it.
        refuse_if_expired(voucher, "it can no longer be claimed.")
        if voucher.status == Voucher.Status.CLAIMED and voucher.partner_id == partner.pk:
            return voucher  # a double click or a retry: already ours
        if voucher.status == Voucher.Status.CANCELLED:
            raise StateConflict("This voucher was cancelled.", rule="R-VOU-1", code="cancelled")
        if voucher.status != Voucher.Status.ISSUED:
            raise StateConflict(
                "Another partner already redeems this voucher; only one partner can.",
                rule="R-VOU-5",
                code="already_claimed",
            )
        # R-VOU-5: a decline stands until the customer forwards the voucher again; claiming
        # and declining in turn would otherwise mail the customer on every round.
        if partner_declined(voucher_id=voucher.pk, partner_code=partner.partner_id):
            raise StateConflict(
                f"You declined this voucher; {voucher.customer.name} can forward it to you "
                "again if you can take it on after all.",
                rule="R-VOU-5",
                code="already_declined",
            )
        check = conflict_check(customer=voucher.customer, partner=partner)
        refusals = partner_refusals(voucher=voucher, partner=partner, check=check)
        if refusals:
            raise RuleViolation.of(refusals)
        before = voucher.status
        voucher.claim()
        voucher.partner = partner
        voucher.claimed_at = timezone.now()
        # R-VOU-7 unconfirmed: the claim stands, the reviewer sees why on every request.
        voucher.conflict_flag = check.doubt
        voucher.save(
            update_fields=["status", "partner", "claimed_at", "conflict_flag", "updated_at"]
        )
        event_record(
            subject="voucher",
            subject_id=voucher.pk,
            action="claimed",
            actor=user,
            from_state=before,
            to_state=voucher.status,
            data={
                "partner": partner.partner_id,
                "conflict_check": "unconfirmed" if check.doubt else "clear",
            },
        )
        _notify_customer(voucher=voucher, partner=partner, kind="voucher_claimed")
    return voucher


def voucher_decline(*, voucher_id: int, user: User, reason: str = "") -> Voucher:
    """A partner declines the engagement (capacity); the customer may forward elsewhere
    (R-VOU-5). Declining a voucher the partner claimed releases it back to the customer;
    declining one forwarded to it and not claimed answers that forward. Either way the
    customer is mailed once (R-NOT-2): a second decline, of a voucher already released or a
    forward already answered, is refused (409) and mails nothing, until the customer
    forwards it to the partner again."""
    partner = user.partner
    if partner is None:
        raise RuleViolation.of([Violation("R-VOU-4", "Only partners decline vouchers.")])
    reason = reason.strip()
    with transaction.atomic():
        voucher = (
            Voucher.objects.select_for_update(of=("self",))
            .select_related("customer", "nomination__nominated_by")
            .get(pk=voucher_id)
        )
        # R-VOU-2: nothing to hand back: the customer could not forward it again, and the
        # decline mail would tell them it is still valid.
        refuse_if_expired(voucher, "it can no longer be declined or passed to another partner.")
        before = voucher.status
        if voucher.status == Voucher.Status.CLAIMED and voucher.partner_id == partner.pk:
            if voucher.paid_total > 0 or voucher_has_requests(voucher):
                raise StateConflict(
                    "Payment requests were submitted for this voucher; "
                    "it can no longer be declined.",
                    rule="R-VOU-5",
                )
            voucher.release()
            voucher.partner = None
            voucher.claimed_at = None
            voucher.conflict_flag = ""  # the next claim runs the R-VOU-7 check afresh
            voucher.save(
                update_fields=["status", "partner", "claimed_at", "conflict_flag", "updated_at"]
            )
        elif voucher.status != Voucher.Status.ISSUED:
            raise StateConflict(
                "You have not claimed this voucher.", rule="R-VOU-5", code="not_claimed"
            )
        elif partner_declined(voucher_id=voucher.pk, partner_code=partner.partner_id):
            raise StateConflict(
                f"You already declined this voucher; {voucher.customer.name} was told and can "
                "forward it to another partner.",
                rule="R-VOU-5",
                code="already_declined",
            )
        elif not voucher.forwards.filter(partner=partner).exists():
            raise StateConflict(
                "You have not claimed this voucher.", rule="R-VOU-5", code="not_claimed"
            )
        event_record(
            subject="voucher",
            subject_id=voucher.pk,
            action="declined",
            actor=user,
            from_state=before,
            to_state=voucher.status,
            reason=reason,
            data={"partner": partner.partner_id},
        )
        _notify_customer(voucher=voucher, partner=partner, kind="voucher_declined", reason=reason)
    return voucher


def voucher_has_requests(voucher: Voucher) -> bool:
    return voucher.payment_requests.exists()
