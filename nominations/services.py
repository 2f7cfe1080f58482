"""Nominating, approving, rejecting and closing deals (R-ELIG-*, R-OFFER-*, R-VOU-1)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
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
    editing: int | None = None,
) -> Evaluation:
    """Every rule a nomination must pass, without saving anything (the live form uses it).
    `editing` names a nomination being edited: its own exclusive group does not count as
    held (R-OFFER-1)."""
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
        held_groups=held_groups(
            program_id=program.pk, customer_id=customer.pk, exclude_nomination=editing
        ),
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


def _own_pending(nomination_id: int, *, user: User, doing: str) -> Nomination:
    """The field rep's own nomination, locked, while it awaits approval (R-ELIG-9, our
    decision: once a program manager decided, it stands). Another rep's nomination is a
    missing one (404)."""
    if effective_role(user) != Role.FIELD_REP:
        raise PermissionDenied(f"Only the nominating field rep may {doing} a nomination.")
    nomination = (
        Nomination.objects.select_for_update(of=("self",))
        .select_related("program", "customer", "offer", "nominated_by")
        .filter(pk=nomination_id, nominated_by=user)
        .first()
    )
    if nomination is None:
        raise Http404("No such nomination.")
    if not nomination.pending:
        raise StateConflict(
            f"This nomination is {nomination.get_status_display().lower()}; only a nomination "
            f"awaiting approval can be {'edited' if doing == 'edit' else 'withdrawn'}.",
            rule="R-ELIG-9",
            code="not_pending",
        )
    return nomination


def nomination_withdraw(*, nomination_id: int, user: User, reason: str) -> Nomination:
    """The nominating field rep takes back a nomination awaiting approval, with a reason
    (R-ELIG-9). A withdrawn nomination holds no exclusive group, so the customer may be
    nominated again (R-OFFER-1)."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            "Say why you withdraw the nomination.",
            fields={"reason": ["This field is required."]},
            code="reason_required",
        )
    with transaction.atomic():
        nomination = _own_pending(nomination_id, user=user, doing="withdraw")
        before = nomination.status
        nomination.withdraw()
        nomination.withdrawal_reason = reason
        nomination.save(update_fields=["status", "withdrawal_reason", "updated_at"])
        event_record(
            subject="nomination",
            subject_id=nomination.pk,
            action="withdrawn",
            actor=user,
            from_state=before,
            to_state=nomination.status,
            reason=reason,
        )
    return nomination


EDITABLE_FIELDS = (
    "offer",
    "workloads",
    "deal_value",
    "expected_close_date",
    "agreement_type",
    "licensing_channel",
    "upsell_expansion",
    "migration_sources",
    "ecif_funded",
    "notes",
)


def _as_data(value: object) -> object:
    """A field's value as the event's JSON keeps it."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _differs(old: object, new: object) -> bool:
    """Lists (workloads, migration sources) are sets: another order is no change."""
    if isinstance(old, list) and isinstance(new, list):
        return set(old) != set(new)
    return old != new


def nomination_update(
    *,
    nomination_id: int,
    user: User,
    offer: str | None = None,
    workloads: Sequence[str] | None = None,
    deal_value: Decimal | None = None,
    expected_close_date: date | None = None,
    agreement_type: str | None = None,
    licensing_channel: str | None = None,
    upsell_expansion: bool | None = None,
    migration_sources: Sequence[str] | None = None,
    ecif_funded: bool | None = None,
    notes: str | None = None,
) -> Nomination:
    """The nominating field rep changes a nomination awaiting approval (R-ELIG-9); None
    leaves a field as it is. The result is checked against every rule a new nomination
    must pass (R-ELIG-*, R-OFFER-*, R-WL-*, R-CAP-*), its own exclusive group aside, and
    the estimate is worked out again. One `edited` event records each changed field's old
    and new value; a change that changes nothing records nothing."""
    given: dict[str, Any] = {
        "offer": offer,
        "workloads": None if workloads is None else list(dict.fromkeys(workloads)),
        "deal_value": deal_value,
        "expected_close_date": expected_close_date,
        "agreement_type": agreement_type,
        "licensing_channel": licensing_channel,
        "upsell_expansion": upsell_expansion,
        "migration_sources": (
            None if migration_sources is None else list(dict.fromkeys(migration_sources))
        ),
        "ecif_funded": ecif_funded,
        "notes": notes,
    }
    with transaction.atomic():
        nomination = _own_pending(nomination_id, user=user, doing="edit")
        # Serialise with nominations of the same customer, as nomination_create does.
        customer = Customer.objects.select_for_update().get(pk=nomination.customer_id)
        current: dict[str, Any] = {
            name: nomination.offer.code if name == "offer" else getattr(nomination, name)
            for name in EDITABLE_FIELDS
        }
        wanted: dict[str, Any] = {
            name: current[name] if given[name] is None else given[name] for name in EDITABLE_FIELDS
        }
        changed = {
            name: {"from": _as_data(current[name]), "to": _as_data(wanted[name])}
            for name in EDITABLE_FIELDS
            if _differs(current[name], wanted[name])
        }
        if not changed:
            return nomination
        evaluation = nomination_check(
            program=nomination.program,
            customer=customer,
            editing=nomination.pk,
            **{k: v for k, v in wanted.items() if k != "notes"},
        )
        if not evaluation.ok:
            raise RuleViolation.of(evaluation.violations)
        for name, value in wanted.items():
            if name != "offer":
                setattr(nomination, name, value)
        nomination.offer = nomination.program.offers.get(code=wanted["offer"])
        nomination.exclusive_group = evaluation.exclusive_group
        nomination.estimated_value = evaluation.suggested_value
        nomination.estimated_cap = evaluation.cap.cap if evaluation.cap else None
        try:
            with transaction.atomic():
                nomination.save(
                    update_fields=[
                        *(name for name in EDITABLE_FIELDS if name != "offer"),
                        "offer",
                        "exclusive_group",
                        "estimated_value",
                        "estimated_cap",
                        "updated_at",
                    ]
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
            action="edited",
            actor=user,
            from_state=nomination.status,
            to_state=nomination.status,
            data={
                "changed": changed,
                "estimated_value": _as_data(evaluation.suggested_value),
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


BULK_LIMIT = 100


def nominations_decide(
    *, nomination_ids: list[int], user: User, decision: str, reason: str = ""
) -> tuple[list[Nomination], list[tuple[int, ApplicationError]]]:
    """A program manager's decision on many nominations at once, with one reason for a
    rejection. Each is decided on its own, exactly as one by one (its own transaction,
    event and mail), so one refusal (an unverified customer, R-ELIG-8) stops no other.
    Returns the decided nominations and each refusal by nomination ID."""
    if decision not in ("approve", "reject"):
        raise ApplicationError("Choose approve or reject.", fields={"decision": ["Unknown."]})
    ids = list(dict.fromkeys(nomination_ids))
    if not ids:
        raise ApplicationError(
            "Select the nominations to decide.", fields={"ids": ["Nothing was selected."]}
        )
    if len(ids) > BULK_LIMIT:
        raise ApplicationError(
            f"Decide at most {BULK_LIMIT} nominations at a time.",
            fields={"ids": [f"At most {BULK_LIMIT}."]},
        )
    if decision == "reject" and not (reason or "").strip():
        raise ApplicationError(
            "Give the field reps one reason for the rejection.",
            fields={"reason": ["This field is required."]},
        )
    decided: list[Nomination] = []
    refused: list[tuple[int, ApplicationError]] = []
    for nomination_id in ids:
        try:
            if decision == "approve":
                decided.append(nomination_approve(nomination_id=nomination_id, user=user))
            else:
                decided.append(
                    nomination_reject(nomination_id=nomination_id, user=user, reason=reason)
                )
        except ApplicationError as exc:
            refused.append((nomination_id, exc))
    return decided, refused


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
