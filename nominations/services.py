"""Nominating, approving, rejecting and closing deals (R-ELIG-*, R-OFFER-*, R-VOU-1)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.choices import LicensingChannel, Role
from core.dates import add_months
from core.errors import ApplicationError, RuleViolation, StateConflict, Violation
from core.events import event_record
from core.scopes import effective_role
from customers.models import Customer
from nominations.models import Nomination
from nominations.rules import CustomerFacts, DealFacts, Evaluation, ProgramRules
from nominations.selectors import held_groups
from notifications.services import mail_enqueue
from programs.models import Program
from vouchers.models import Voucher
from vouchers.services import voucher_issue


def customer_facts(customer: Customer) -> CustomerFacts:
    return CustomerFacts(
        category=customer.category,
        segment=customer.segment,
        country=str(customer.country),
        e3_licenses=customer.e3_licenses,
        public_institution=customer.public_institution,
        name=customer.name,
    )


def nomination_check(
    *,
    program: Program,
    customer: Customer,
    offer: str,
    workloads: Sequence[str],
    deal_value: Decimal,
    expected_close_date: date,
    agreement_type: str = "new",
    upsell_expansion: bool = False,
    migration_sources: Sequence[str] = (),
    ecif_funded: bool = False,
    licensing_channel: str = LicensingChannel.EA,
    today: date | None = None,
) -> Evaluation:
    """Every rule a nomination must pass, without saving anything (the live form uses it)."""
    deal = DealFacts(
        offer=offer,
        workloads=list(workloads),
        amount=deal_value,
        deal_date=expected_close_date,
        issue_date=expected_close_date,  # R-CAP-3: the expected close stands in for issue
        agreement_type=agreement_type,
        upsell_expansion=upsell_expansion,
        migration_sources=list(migration_sources),
        ecif_funded=ecif_funded,
        licensing_channel=licensing_channel,
    )
    return ProgramRules(program).evaluate(
        customer=customer_facts(customer),
        deal=deal,
        stage="nomination",
        today=today or timezone.localdate(),
        held_groups=held_groups(program_id=program.pk, customer_id=customer.pk),
    )


def nomination_create(
    *,
    user: User,
    program: Program,
    customer: Customer,
    offer: str,
    workloads: Sequence[str],
    deal_value: Decimal,
    expected_close_date: date,
    agreement_type: str = "new",
    upsell_expansion: bool = False,
    migration_sources: Sequence[str] = (),
    ecif_funded: bool = False,
    licensing_channel: str = LicensingChannel.EA,
    notes: str = "",
) -> Nomination:
    if effective_role(user) != Role.FIELD_REP:
        raise RuleViolation.of(
            [
                Violation(
                    "R-ELIG-5", "Only Microsoft field reps nominate customers; partners cannot."
                )
            ]
        )
    with transaction.atomic():
        # Serialise nominations of one customer so R-OFFER-1 sees every open one.
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        evaluation = nomination_check(
            program=program,
            customer=customer,
            offer=offer,
            workloads=workloads,
            deal_value=deal_value,
            expected_close_date=expected_close_date,
            agreement_type=agreement_type,
            upsell_expansion=upsell_expansion,
            migration_sources=migration_sources,
            ecif_funded=ecif_funded,
            licensing_channel=licensing_channel,
        )
        if not evaluation.ok:
            raise RuleViolation.of(evaluation.violations)
        try:
            with transaction.atomic():
                nomination = Nomination.objects.create(
                    program=program,
                    customer=customer,
                    offer=program.offers.get(code=offer),
                    exclusive_group=evaluation.exclusive_group,
                    workloads=list(dict.fromkeys(workloads)),
                    deal_value=deal_value,
                    expected_close_date=expected_close_date,
                    agreement_type=agreement_type,
                    upsell_expansion=upsell_expansion,
                    migration_sources=list(dict.fromkeys(migration_sources)),
                    ecif_funded=ecif_funded,
                    licensing_channel=licensing_channel,
                    notes=notes,
                    nominated_by=user,
                    estimated_value=evaluation.suggested_value,
                    estimated_cap=evaluation.cap.cap if evaluation.cap else None,
                )
        except IntegrityError as exc:
            raise RuleViolation.of(
                [
                    Violation(
                        "R-OFFER-1", "This customer already has an open nomination in this group."
                    )
                ]
            ) from exc
        event_record(
            subject="nomination",
            subject_id=nomination.pk,
            action="submitted",
            actor=user,
            to_state=nomination.status,
            data={
                "estimated_value": str(evaluation.suggested_value),
                "cap_row": evaluation.cap.row_key if evaluation.cap else "",
            },
        )
    return nomination


def _lock(nomination_id: int) -> Nomination:
    return (
        Nomination.objects.select_for_update(of=("self",))
        .select_related("program", "customer", "offer", "nominated_by")
        .get(pk=nomination_id)
    )


def nomination_approve(*, nomination_id: int, user: User) -> Nomination:
    with transaction.atomic():
        nomination = _lock(nomination_id)
        if nomination.status != Nomination.Status.SUBMITTED:
            raise StateConflict(
                f"This nomination is {nomination.get_status_display().lower()}; only one awaiting "
                "approval can be approved.",
                code="not_submitted",
            )
        if not nomination.customer.is_verified:
            # R-ELIG-8 (our decision, docs/decisions.md): the facts the rules checked came
            # from the field rep who added the customer; a program manager confirms them
            # before anything is approved on them.
            raise StateConflict(
                f"{nomination.customer.name} (TPID {nomination.customer.tpid}) was added by a "
                "field rep and is not verified yet: verify the customer first, then approve "
                "the nomination.",
                rule="R-ELIG-8",
                code="customer_unverified",
            )
        before = nomination.status
        nomination.approve()
        nomination.decided_by = user
        nomination.decided_at = timezone.now()
        nomination.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
        event_record(
            subject="nomination",
            subject_id=nomination.pk,
            action="approved",
            actor=user,
            from_state=before,
            to_state=nomination.status,
        )
        _notify_rep(nomination, decision="approved")
    return nomination


def nomination_reject(*, nomination_id: int, user: User, reason: str) -> Nomination:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            "Give the field rep a reason for the rejection.",
            fields={"reason": ["This field is required."]},
        )
    with transaction.atomic():
        nomination = _lock(nomination_id)
        if nomination.status not in (Nomination.Status.SUBMITTED, Nomination.Status.APPROVED):
            raise StateConflict(
                f"This nomination is {nomination.get_status_display().lower()} and can no "
                "longer be rejected.",
                code="not_open",
            )
        before = nomination.status
        nomination.reject()
        nomination.rejection_reason = reason
        nomination.decided_by = user
        nomination.decided_at = timezone.now()
        nomination.save(
            update_fields=["status", "rejection_reason", "decided_by", "decided_at", "updated_at"]
        )
        event_record(
            subject="nomination",
            subject_id=nomination.pk,
            action="rejected",
            actor=user,
            from_state=before,
            to_state=nomination.status,
            reason=reason,
        )
        _notify_rep(nomination, decision="rejected")
    return nomination


def _notify_rep(nomination: Nomination, *, decision: str) -> None:
    """The field rep who nominated hears of the program manager's decision, once per
    decision: an approval says what comes next, a rejection why."""
    rep = nomination.nominated_by
    if not rep.email:
        return
    customer = nomination.customer.name
    mail_enqueue(
        kind=f"nomination_{decision}",
        to=[rep.email],
        subject=(
            f"Nomination approved: {customer}"
            if decision == "approved"
            else f"Nomination rejected: {customer}"
        ),
        template="mail/nomination_decided",
        context={
            "nomination": nomination,
            "decision": decision,
            "nomination_url": settings.SITE_URL
            + reverse("nomination-detail", args=[nomination.pk]),
            "site_url": settings.SITE_URL,
        },
        dedupe_key=f"nomination_{decision}:{nomination.pk}",
        related_object=f"nomination:{nomination.pk}",
    )


def deal_evaluate(
    *, nomination: Nomination, closed_on: date, purchase_amount: Decimal, today: date
) -> Evaluation:
    """The closed deal against every rule, issued today (R-VOU-1, R-CAP-*)."""
    deal = DealFacts(
        offer=nomination.offer.code,
        workloads=nomination.workloads,
        amount=purchase_amount,
        deal_date=closed_on,
        issue_date=today,
        agreement_type=nomination.agreement_type,
        upsell_expansion=nomination.upsell_expansion,
        migration_sources=nomination.migration_sources,
        ecif_funded=nomination.ecif_funded,
        licensing_channel=nomination.licensing_channel,
    )
    evaluation = ProgramRules(nomination.program).evaluate(
        customer=customer_facts(nomination.customer),
        deal=deal,
        stage="close",
        today=today,
        held_groups=held_groups(
            program_id=nomination.program_id,
            customer_id=nomination.customer_id,
            exclude_nomination=nomination.pk,
        ),
    )
    if nomination.decided_at and closed_on < timezone.localdate(nomination.decided_at):
        evaluation.fail(
            "R-ELIG-4",
            f"The deal closed on {closed_on:%Y-%m-%d}, before the nomination was approved on "
            f"{timezone.localdate(nomination.decided_at):%Y-%m-%d}: no voucher can be issued.",
        )
    return evaluation


def nomination_close_deal(
    *,
    nomination_id: int,
    user: User,
    closed_on: date,
    purchase_amount: Decimal,
    value: Decimal | None = None,
) -> Voucher:
    """Records the closed deal and issues the voucher today with its value fixed (R-VOU-1)."""
    today = timezone.localdate()
    with transaction.atomic():
        nomination = _lock(nomination_id)
        if nomination.status == Nomination.Status.SUBMITTED:
            raise StateConflict(
                "The nomination must be approved before the deal closes; a deal closed before "
                "approval gets no voucher.",
                rule="R-ELIG-4",
            )
        if nomination.status != Nomination.Status.APPROVED:
            raise StateConflict(
                f"This nomination is {nomination.get_status_display().lower()}; a voucher is "
                "issued only for an approved nomination.",
                rule="R-VOU-1",
            )
        evaluation = deal_evaluate(
            nomination=nomination, closed_on=closed_on, purchase_amount=purchase_amount, today=today
        )
        if not evaluation.ok or evaluation.cap is None or evaluation.suggested_value is None:
            raise RuleViolation.of(evaluation.violations)
        suggested = evaluation.suggested_value
        final = suggested if value is None else value
        if final <= 0:
            raise RuleViolation.of(
                [Violation("R-CAP-1", "The voucher value must be more than zero.")]
            )
        if final > suggested:
            raise RuleViolation.of(
                [
                    Violation(
                        "R-CAP-1",
                        f"The value may only be lowered: the suggested value is ${suggested:,.2f} "
                        f"(cap ${evaluation.cap.cap:,.2f} from “{evaluation.cap.row_label}”).",
                    )
                ]
            )
        program = nomination.program
        before = nomination.status
        nomination.issue()
        nomination.closed_on = closed_on
        nomination.purchase_amount = purchase_amount
        nomination.save(update_fields=["status", "closed_on", "purchase_amount", "updated_at"])
        voucher = voucher_issue(
            nomination=nomination,
            user=user,
            value=final,
            cap=evaluation.cap.cap,
            cap_row=evaluation.cap.row_label,
            cap_reason=evaluation.cap.reason,
            suggested_value=suggested,
            scheme=evaluation.scheme,
            issued_on=today,
            expires_on=add_months(today, program.voucher_validity_months),
        )
        event_record(
            subject="nomination",
            subject_id=nomination.pk,
            action="deal_closed",
            actor=user,
            from_state=before,
            to_state=nomination.status,
            data={
                "closed_on": closed_on.isoformat(),
                "purchase_amount": str(purchase_amount),
                "voucher": voucher.code,
            },
        )
    return voucher
