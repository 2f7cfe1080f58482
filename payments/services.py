"""Payment batches for Payment Central, statements and disputes (R-PAY-2, R-PAY-3, R-PAY-5)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.calendar import BusinessCalendar
from core.csvsafe import csv_safe
from core.errors import ApplicationError, StateConflict
from core.events import event_record
from core.money import to_local
from core.words import date_text
from notifications.services import mail_enqueue
from partners.models import Partner
from payments.models import Dispute, Payment, PaymentBatch
from payments.selectors import fx_rate_on
from vouchers.models import Voucher

if TYPE_CHECKING:
    from redemptions.models import PaymentRequest

# How a statement names the payout of each kind of payment request (R-PAY-3).
PAYOUT_LINES = {"initial": "Initial payment (SOW)", "final": "Final payment (POE)"}
BATCH_COLUMNS = [
    "payment_id",
    "payment_profile",
    "partner_id",
    "partner_name",
    "voucher",
    "request",
    "kind",
    "approved_on",
    "amount_usd",
    "currency",
    "fx_rate",
    "amount_local",
]


def payment_record(
    *,
    voucher: Voucher,
    partner: Partner,
    amount_usd: Decimal,
    day: date,
    request: PaymentRequest | None = None,
    dispute: Dispute | None = None,
) -> Payment:
    """The one place a payment is written: an approved request's payout (`request`) or an
    upheld dispute's adjustment (`dispute`). The amount of record is USD; the local amount
    uses the program FX rate for the partner's currency in force on `day`, half up to the
    cent (R-PAY-1). A request is paid at most once (R-PAY-4, a unique constraint), and the
    voucher's paid total grows by the USD amount in the same transaction."""
    if (request is None) == (dispute is None):
        raise TypeError("A payment pays either one request or one dispute.")
    rate = fx_rate_on(currency=partner.currency, day=day)
    if rate is None:
        raise StateConflict(
            f"There is no FX rate for {partner.currency} in force on {date_text(day)}; "
            "a program manager must add one first.",
            rule="R-PAY-1",
            code="no_fx_rate",
        )
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                kind=Payment.Kind.PAYOUT if request is not None else Payment.Kind.ADJUSTMENT,
                request=request,
                dispute=dispute,
                voucher=voucher,
                partner=partner,
                amount_usd=amount_usd,
                currency=partner.currency,
                fx_rate=rate,
                amount_local=to_local(amount_usd, rate),
                approved_on=day,
                expected_on=BusinessCalendar.for_program(voucher.program).add(
                    day, settings.PAYMENT_RUN_BUSINESS_DAYS
                ),
            )
    except IntegrityError as exc:
        what = "request was already paid" if request else "dispute's adjustment was already paid"
        raise StateConflict(f"This {what}.", rule="R-PAY-4", code="already_paid") from exc
    Voucher.objects.filter(pk=voucher.pk).update(paid_total=F("paid_total") + amount_usd)
    return payment


def _batch_rows(payments: QuerySet[Payment]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(BATCH_COLUMNS)
    for p in payments.select_related("partner", "voucher", "request").order_by(
        "partner__partner_id", "id"
    ):
        writer.writerow(
            [
                csv_safe(v)
                for v in (
                    p.pk,
                    p.partner.payment_profile_ref,
                    p.partner.partner_id,
                    p.partner.name,
                    p.voucher.code,
                    p.request_id or "",
                    p.kind,
                    p.approved_on.isoformat(),
                    f"{p.amount_usd:.2f}",
                    p.currency,
                    f"{p.fx_rate:.6f}",
                    f"{p.amount_local:.2f}",
                )
            ]
        )
    return out.getvalue()


def batch_export(*, user: User | None) -> tuple[PaymentBatch, str]:
    """Puts every pending payment not yet in a batch into a new batch; returns its CSV."""
    with transaction.atomic():
        pending = Payment.objects.select_for_update(skip_locked=True).filter(
            status=Payment.Status.PENDING, batch__isnull=True
        )
        ids = list(pending.values_list("pk", flat=True))
        if not ids:
            raise StateConflict(
                "There are no pending payments to export.", rule="R-PAY-2", code="empty"
            )
        batch = PaymentBatch.objects.create(created_by=user)
        Payment.objects.filter(pk__in=ids).update(batch=batch)
    return batch, _batch_rows(batch.payments.all())


def batch_csv(batch: PaymentBatch) -> str:
    return _batch_rows(batch.payments.all())


def batch_confirm(*, batch_id: int, user: User, reference: str) -> PaymentBatch:
    """Payment Central paid the batch: its payments become paid, once, under the reference
    of the payment run, and each partner in it is mailed what it was paid (R-PAY-2)."""
    reference = " ".join((reference or "").split())
    if not reference:
        raise ApplicationError(
            "Enter Payment Central's reference of the payment run that paid this batch.",
            rule="R-PAY-2",
            code="reference_required",
            fields={"reference": ["This field is required."]},
        )
    if len(reference) > 64:
        raise ApplicationError(
            "A payment reference has at most 64 characters.",
            rule="R-PAY-2",
            code="reference_too_long",
            fields={"reference": ["At most 64 characters."]},
        )
    with transaction.atomic():
        batch = PaymentBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status == PaymentBatch.Status.CONFIRMED:
            raise StateConflict(
                "This batch was already confirmed.", rule="R-PAY-4", code="confirmed"
            )
        now = timezone.now()
        batch.status = PaymentBatch.Status.CONFIRMED
        batch.confirmed_by = user
        batch.confirmed_at = now
        batch.reference = reference
        batch.save()
        paid = list(
            batch.payments.filter(status=Payment.Status.PENDING).values_list("pk", flat=True)
        )
        Payment.objects.filter(pk__in=paid).update(status=Payment.Status.PAID, paid_at=now)
        event_record(
            subject="batch",
            subject_id=batch.pk,
            action="confirmed",
            actor=user,
            from_state=PaymentBatch.Status.EXPORTED,
            to_state=batch.status,
            data={"reference": reference, "payments": len(paid)},
        )
        _notify_paid(batch, Payment.objects.filter(pk__in=paid))
    return batch


def _notify_paid(batch: PaymentBatch, payments: QuerySet[Payment]) -> None:
    """Each partner in a confirmed batch hears once what it was paid, in its currency, with
    the reference to find the money by."""
    by_partner: dict[int, list[Payment]] = {}
    for payment in payments.select_related("partner", "voucher__customer", "request").order_by(
        "partner_id", "approved_on", "pk"
    ):
        by_partner.setdefault(payment.partner_id, []).append(payment)
    for rows in by_partner.values():
        partner = rows[0].partner
        emails = list(
            partner.users.filter(is_active=True).exclude(email="").values_list("email", flat=True)
        )
        if not emails:
            continue
        total_local = sum((p.amount_local for p in rows), Decimal("0.00"))
        mail_enqueue(
            kind="payment_paid",
            to=emails,
            subject=f"Paid: {partner.currency} {total_local:,.2f} (reference {batch.reference})",
            template="mail/payment_paid",
            context={
                "partner": partner,
                "batch": batch,
                "payments": rows,
                "total_local": total_local,
                "total_usd": sum((p.amount_usd for p in rows), Decimal("0.00")),
                "payments_url": settings.SITE_URL + reverse("payment-list"),
                "site_url": settings.SITE_URL,
            },
            dedupe_key=f"paid:{batch.pk}:{partner.pk}",
            related_object=f"batch:{batch.pk}",
        )


@dataclass(frozen=True)
class StatementLine:
    day: date
    voucher: str
    customer: str
    description: str
    amount_usd: Decimal
    currency: str
    fx_rate: Decimal
    amount_local: Decimal
    status: str


@dataclass(frozen=True)
class Statement:
    partner: Partner
    period: str
    start: date
    end: date
    lines: list[StatementLine]
    total_usd: Decimal
    total_local: Decimal


PERIOD_PATTERN = r"^20[0-9]{2}-(?:0[1-9]|1[0-2])$"


def parse_period(period: str) -> tuple[date, date]:
    """`YYYY-MM` of this century (the program's statements) -> [first day, next month)."""
    if not re.fullmatch(PERIOD_PATTERN, period or ""):
        raise ApplicationError(
            "A statement period is written YYYY-MM (2000-01 to 2099-12).",
            fields={"period": ["Use YYYY-MM."]},
        )
    year, month = (int(x) for x in period.split("-"))
    return date(year, month, 1), date(year + (month == 12), month % 12 + 1, 1)


def statement_for(*, partner: Partner, period: str) -> Statement:
    """The FastTrack statement of a partner for one month (R-PAY-3): every payment approved
    in the month, payouts and dispute adjustments, with local amounts."""
    start, end = parse_period(period)
    payments = (
        Payment.objects.filter(partner=partner, approved_on__gte=start, approved_on__lt=end)
        .select_related("voucher__customer", "request")
        .order_by("approved_on", "id")
    )
    lines = []
    for p in payments:
        if p.kind == Payment.Kind.PAYOUT and p.request is not None:
            what = PAYOUT_LINES[p.request.kind]
        else:
            what = "Dispute adjustment"
        lines.append(
            StatementLine(
                p.approved_on,
                p.voucher.code,
                p.voucher.customer.name,
                what,
                p.amount_usd,
                p.currency,
                p.fx_rate,
                p.amount_local,
                p.get_status_display(),
            )
        )
    return Statement(
        partner=partner,
        period=period,
        start=start,
        end=end,
        lines=lines,
        total_usd=sum((line.amount_usd for line in lines), Decimal("0.00")),
        total_local=sum((line.amount_local for line in lines), Decimal("0.00")),
    )


def statement_csv(statement: Statement) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "date",
            "voucher",
            "customer",
            "description",
            "amount_usd",
            "currency",
            "fx_rate",
            "amount_local",
            "status",
        ]
    )
    for line in statement.lines:
        writer.writerow(
            [
                csv_safe(v)
                for v in (
                    line.day.isoformat(),
                    line.voucher,
                    line.customer,
                    line.description,
                    f"{line.amount_usd:.2f}",
                    line.currency,
                    f"{line.fx_rate:.6f}",
                    f"{line.amount_local:.2f}",
                    line.status,
                )
            ]
        )
    writer.writerow(
        [
            "total",
            "",
            "",
            "",
            f"{statement.total_usd:.2f}",
            statement.partner.currency,
            "",
            f"{statement.total_local:.2f}",
            "",
        ]
    )
    return out.getvalue()


def dispute_open(*, user: User, request_id: int, text: str) -> Dispute:
    """R-PAY-5: a partner disputes a decision or a payment on one of its requests."""
    text = (text or "").strip()
    if not text:
        raise ApplicationError(
            "Explain what you dispute.", rule="R-PAY-5", fields={"text": ["Required."]}
        )
    # Looked up among the caller's own requests first: another tenant's request is a 404,
    # exactly like a missing one, before any state is revealed. Only partners hold the
    # `disputes:open` scope; payments reads the request through the dispute's relation and
    # leaves the request's own rules to redemptions.
    requests = cast("type[PaymentRequest]", Dispute._meta.get_field("request").related_model)
    request = (
        requests._default_manager.select_related("voucher__partner")
        .filter(pk=request_id, voucher__partner_id=user.partner_id)
        .first()
        if user.partner_id
        else None
    )
    if request is None:
        raise Http404("No such request.")
    if not request.is_decided:
        raise StateConflict(
            "Only a decided request of yours can be disputed.", rule="R-PAY-5", code="not_decided"
        )
    if Dispute.objects.filter(request=request, status=Dispute.Status.OPEN).exists():
        raise StateConflict(
            "A dispute on this request is already open.", rule="R-PAY-5", code="open"
        )
    partner = request.voucher.partner
    assert partner is not None  # a decided request belongs to a claimed voucher
    with transaction.atomic():
        dispute = Dispute.objects.create(
            partner=partner, request=request, text=text, opened_by=user
        )
        event_record(
            subject="request",
            subject_id=request.pk,
            action="disputed",
            actor=user,
            from_state=request.status,
            to_state=request.status,
            reason=text,
            data={"dispute": dispute.pk},
        )
    return dispute


def dispute_resolve(
    *,
    dispute_id: int,
    user: User,
    uphold: bool,
    resolution: str,
    adjustment_usd: Decimal | None = None,
) -> Dispute:
    """Records the resolution; an upheld dispute with an amount creates an adjustment
    payment, which appears on the next statement."""
    resolution = (resolution or "").strip()
    if not resolution:
        raise ApplicationError(
            "Record the resolution.", rule="R-PAY-5", fields={"resolution": ["Required."]}
        )
    with transaction.atomic():
        dispute = (
            Dispute.objects.select_for_update()
            .select_related("request__voucher", "partner")
            .get(pk=dispute_id)
        )
        if dispute.status != Dispute.Status.OPEN:
            raise StateConflict(
                "This dispute was already resolved.", rule="R-PAY-5", code="resolved"
            )
        voucher = dispute.request.voucher
        if uphold and adjustment_usd:
            room = voucher.value - voucher.paid_total
            if adjustment_usd <= 0 or adjustment_usd > room:
                raise ApplicationError(
                    f"The adjustment must be more than zero and at most ${room:,.2f}, "
                    "what is left on the "
                    "voucher (R-CAP-5).",
                    rule="R-CAP-5",
                    fields={"adjustment_usd": [f"At most {room:.2f}."]},
                )
        dispute.status = Dispute.Status.UPHELD if uphold else Dispute.Status.DISMISSED
        dispute.resolution = resolution
        dispute.resolved_by = user
        dispute.resolved_at = timezone.now()
        dispute.adjustment_usd = adjustment_usd if uphold else None
        dispute.save()
        if uphold and adjustment_usd:
            payment_record(
                voucher=voucher,
                partner=dispute.partner,
                amount_usd=adjustment_usd,
                day=timezone.localdate(),
                dispute=dispute,
            )
        event_record(
            subject="request",
            subject_id=dispute.request_id,
            action=f"dispute_{dispute.status}",
            actor=user,
            from_state=dispute.request.status,
            to_state=dispute.request.status,
            reason=resolution,
            data={
                "dispute": dispute.pk,
                "adjustment_usd": str(adjustment_usd) if uphold and adjustment_usd else None,
            },
        )
    return dispute
