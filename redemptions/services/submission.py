"""Partners submit and amend payment requests (R-RED-*, R-PUB-*, R-DOC-*, R-VOU-2)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.calendar import BusinessCalendar
from core.choices import Role
from core.errors import ApplicationError, StateConflict, refusals_joined
from core.events import event_record
from core.models import Event
from core.words import date_text
from notifications.services import mail_enqueue
from redemptions.documents import CheckedDocument, check_document, signature_party
from redemptions.models import PaymentRequest, RequestDocument
from redemptions.template_pdfs import template_id
from vouchers.expiry import refuse_if_expired
from vouchers.models import Voucher

KIND_TEMPLATE: dict[str, str] = {
    PaymentRequest.Kind.INITIAL: "sow",
    PaymentRequest.Kind.FINAL: "poe",
}


def _check_signers(
    *,
    voucher: Voucher,
    customer_signer: str,
    customer_signed_on: date,
    partner_signer: str,
    partner_signed_on: date,
    today: date,
) -> None:
    """R-DOC-1: both signatures attested with names and dates."""
    fields: dict[str, list[str]] = {}
    for name, value in (("customer_signer", customer_signer), ("partner_signer", partner_signer)):
        if not (value or "").strip():
            fields[name] = ["Enter the name of the person who signed."]
    for name, day in (
        ("customer_signed_on", customer_signed_on),
        ("partner_signed_on", partner_signed_on),
    ):
        if day > today:
            fields[name] = ["A signature date cannot be in the future."]
        elif day < voucher.issued_on:
            fields[name] = [
                "The document was signed before the voucher was issued "
                f"({date_text(voucher.issued_on)})."
            ]
    if fields:
        raise ApplicationError(
            "Both signatures must be attested with the signer's name and date.",
            rule="R-DOC-1",
            fields=fields,
        )


def document_refusal(*, voucher: Voucher, kind: str, upload: Any) -> ApplicationError | None:
    """What R-DOC-1 says of an upload on its own, for a form whose fields were refused
    before the service ran: both are then shown in one round."""
    if kind not in KIND_TEMPLATE:
        return None
    try:
        check_document(
            upload=upload, voucher_code=voucher.code, template_id=template_id(KIND_TEMPLATE[kind])
        )
    except ApplicationError as exc:
        return exc
    return None


def _check_fields(
    *,
    voucher: Voucher,
    kind: str,
    sow_value: Decimal | None,
    customer_signer: str,
    customer_signed_on: date,
    partner_signer: str,
    partner_signed_on: date,
    today: date,
) -> None:
    if kind == PaymentRequest.Kind.INITIAL:
        if sow_value is None or sow_value <= 0:
            raise ApplicationError(
                "Enter the SOW value in USD.",
                rule="R-RED-1",
                fields={"sow_value": ["Enter the SOW value, more than zero."]},
            )
    elif sow_value is not None:
        raise ApplicationError(
            "The SOW value belongs to the initial request only.",
            fields={"sow_value": ["Leave empty for the final request."]},
        )
    _check_signers(
        voucher=voucher,
        customer_signer=customer_signer,
        customer_signed_on=customer_signed_on,
        partner_signer=partner_signer,
        partner_signed_on=partner_signed_on,
        today=today,
    )


def _require_redeemable(voucher: Voucher, user: User, today: date) -> None:
    # R-VOU-2 first: a request must be submitted on or before the expiry date, and an
    # expired voucher says so whether or not the nightly job has marked it expired.
    refuse_if_expired(
        voucher, "payment requests must be submitted on or before that date.", today=today
    )
    if voucher.partner_id != user.partner_id or voucher.status not in (
        Voucher.Status.CLAIMED,
        Voucher.Status.FULLY_REDEEMED,
    ):
        raise StateConflict(
            "Claim the voucher before submitting payment requests.",
            rule="R-VOU-5",
            code="not_claimed",
        )
    if voucher.status == Voucher.Status.FULLY_REDEEMED:
        raise StateConflict(
            "This voucher is fully redeemed.", rule="R-RED-4", code="fully_redeemed"
        )


def _attempt_for(voucher: Voucher, kind: str) -> int:
    """1, or 2 for the one corrected request after a rejection (R-DOC-2)."""
    existing = list(voucher.payment_requests.filter(kind=kind).values_list("status", flat=True))
    label = "SOW" if kind == PaymentRequest.Kind.INITIAL else "POE"
    live = [s for s in existing if s != PaymentRequest.Status.REJECTED]
    if live:
        raise StateConflict(
            f"A {label} was already submitted for this voucher; only one is accepted.",
            rule="R-DOC-2",
            code="already_submitted",
        )
    if len(existing) >= 2:
        raise StateConflict(
            f"The corrected {label} was rejected too; no further {label} can be submitted.",
            rule="R-DOC-2",
            code="no_more_attempts",
        )
    return len(existing) + 1


def _require_sequence(voucher: Voucher, kind: str) -> None:
    if (
        kind == PaymentRequest.Kind.FINAL
        and not voucher.payment_requests.filter(
            kind=PaymentRequest.Kind.INITIAL, status=PaymentRequest.Status.APPROVED
        ).exists()
    ):
        rule = "R-PUB-2" if voucher.scheme == Voucher.Scheme.PUBLIC_SECTOR else "R-RED-3"
        raise StateConflict(
            "The final payment request (POE) can be submitted once the SOW is approved.",
            rule=rule,
            code="sow_not_approved",
        )


def request_submit(
    *,
    voucher_id: int,
    user: User,
    kind: str,
    upload: Any,
    customer_signer: str,
    customer_signed_on: date,
    partner_signer: str,
    partner_signed_on: date,
    sow_value: Decimal | None = None,
) -> PaymentRequest:
    """Checks everything, then stores the signed PDF and the request (R-RED-1, R-RED-3)."""
    today = timezone.localdate()
    voucher = Voucher.objects.select_related("program").get(pk=voucher_id)
    # Cheap refusals first: state, sequence, fields; then the document itself.
    _require_redeemable(voucher, user, today)
    _require_sequence(voucher, kind)
    _attempt_for(voucher, kind)
    # The fields and the document are refused together, in one answer: someone who must
    # correct a date should also hear now that the file is not the signed template.
    field_refusal: ApplicationError | None = None
    try:
        _check_fields(
            voucher=voucher,
            kind=kind,
            sow_value=sow_value,
            customer_signer=customer_signer,
            customer_signed_on=customer_signed_on,
            partner_signer=partner_signer,
            partner_signed_on=partner_signed_on,
            today=today,
        )
    except ApplicationError as exc:
        field_refusal = exc
    try:
        checked = check_document(
            upload=upload, voucher_code=voucher.code, template_id=template_id(KIND_TEMPLATE[kind])
        )
    except ApplicationError as exc:
        raise exc if field_refusal is None else refusals_joined(field_refusal, exc) from None
    if field_refusal is not None:
        raise field_refusal

    calendar = BusinessCalendar.for_program(voucher.program)
    stored: RequestDocument | None = None
    try:
        with transaction.atomic():
            voucher = (
                Voucher.objects.select_for_update(of=("self",))
                .select_related("program")
                .get(pk=voucher_id)
            )
            _require_redeemable(voucher, user, today)
            _require_sequence(voucher, kind)
            attempt = _attempt_for(voucher, kind)
            try:
                with transaction.atomic():
                    request = PaymentRequest.objects.create(
                        voucher=voucher,
                        kind=kind,
                        attempt=attempt,
                        sow_value=sow_value,
                        customer_signer=customer_signer.strip(),
                        customer_signed_on=customer_signed_on,
                        partner_signer=partner_signer.strip(),
                        partner_signed_on=partner_signed_on,
                        submitted_by=user,
                        submitted_at=timezone.now(),
                        due_by=calendar.add(today, voucher.program.review_sla_business_days),
                    )
            except IntegrityError as exc:
                raise StateConflict(
                    "This request was already submitted.", rule="R-DOC-2", code="already_submitted"
                ) from exc
            stored = _store_document(
                request=request,
                checked=checked,
                original_name=getattr(upload, "name", ""),
                user=user,
            )
            event_record(
                subject="request",
                subject_id=request.pk,
                action="submitted",
                actor=user,
                to_state=request.status,
                data={
                    "kind": kind,
                    "voucher": voucher.code,
                    "document": stored.sha256,
                    "sow_value": str(sow_value) if sow_value is not None else None,
                },
            )
            _notify_reviewers(request)
    except Exception:
        _discard(stored)
        raise
    return request


_FIELD_NAMES = {
    "customer_signer": "customer signer",
    "customer_signed_on": "customer signature date",
    "partner_signer": "partner signer",
    "partner_signed_on": "partner signature date",
    "sow_value": "SOW value",
    "document": "a corrected document",
}


def _notify_reviewers(request: PaymentRequest, *, changed: list[str] | None = None) -> None:
    """QTM hears of each new request, and of each answer to a question: the answer goes to
    the reviewer who asked while that reviewer is active, else to every reviewer. One link,
    the review screen (R-REV-1)."""
    amended = changed is not None
    reviewers = User.objects.filter(is_active=True, role=Role.REVIEWER).exclude(email="")
    if amended:
        asked = (
            Event.objects.filter(subject="request", subject_id=request.pk, action="info_requested")
            .order_by("-at", "-pk")
            .values_list("actor_id", flat=True)
            .first()
        )
        if asked is not None and reviewers.filter(pk=asked).exists():
            reviewers = reviewers.filter(pk=asked)
    emails = list(reviewers.values_list("email", flat=True))
    if not emails:
        return
    voucher = request.voucher
    what = request.get_kind_display()
    mail_enqueue(
        kind="request_amended" if amended else "request_submitted",
        to=emails,
        subject=(
            f"Answered: {what} for voucher {voucher.code}"
            if amended
            else f"To review by {date_text(request.due_by)}: {what} for voucher {voucher.code}"
        ),
        template="mail/request_to_review",
        context={
            "req": request,
            "voucher": voucher,
            "amended": amended,
            "changed": [_FIELD_NAMES[c] for c in changed or []],
            "review_url": settings.SITE_URL + reverse("review-detail", args=[request.pk]),
            "site_url": settings.SITE_URL,
        },
        dedupe_key=None if amended else f"request_submitted:{request.pk}",
        related_object=f"request:{request.pk}",
    )


def _discard(stored: RequestDocument | None) -> None:
    """Removes a stored file whose transaction failed: nothing is kept for a refusal."""
    name = stored.file.name if stored is not None else None
    if stored is not None and name and stored.file.storage.exists(name):
        stored.file.storage.delete(name)


def _store_document(
    *, request: PaymentRequest, checked: CheckedDocument, original_name: str, user: User
) -> RequestDocument:
    """Stores the accepted bytes unchanged under a server-chosen name (R-DOC-1)."""
    document = RequestDocument(
        request=request,
        version=request.documents.count() + 1,
        sha256=checked.sha256,
        size=checked.size,
        pages=checked.pages,
        original_name=(original_name or "").replace("\\", "/").rsplit("/", 1)[-1][:200],
        uploaded_by=user,
        signatures=_with_typed_names(checked.signatures, request=request),
        scan_boxes=checked.scan["boxes"] if checked.scan is not None else None,
    )
    document.file.save("upload.pdf", ContentFile(checked.content), save=False)
    document.save()
    return document


def _with_typed_names(
    signatures: list[dict[str, Any]], *, request: PaymentRequest
) -> list[dict[str, Any]]:
    """Each signature with the party its field belongs to and the name typed for that party;
    a scan's wet-ink signature is named by what was typed (R-DOC-1)."""
    typed = {"customer": request.customer_signer, "partner": request.partner_signer}
    out = []
    for signature in signatures:
        party = signature_party(signature.get("field") or "")
        entry = {**signature, "party": party, "typed_name": typed.get(party or "", "")}
        if signature["kind"] == "scan":
            entry["name"] = entry["typed_name"] or None
        out.append(entry)
    return out


def request_amend(
    *,
    request_id: int,
    user: User,
    upload: Any = None,
    sow_value: Decimal | None = None,
    customer_signer: str | None = None,
    customer_signed_on: date | None = None,
    partner_signer: str | None = None,
    partner_signed_on: date | None = None,
    answer: str | None = None,
) -> PaymentRequest:
    """Answers an information request in words, with a new document and/or fields; the
    earlier document stays in the history and the review clock resumes (R-DOC-2, R-REV-1)."""
    today = timezone.localdate()
    request = PaymentRequest.objects.select_related("voucher", "voucher__program").get(
        pk=request_id
    )
    voucher = request.voucher
    # R-VOU-2 first, whatever the request's state.
    refuse_if_expired(voucher, "its payment requests can no longer be amended.", today=today)
    if request.status != PaymentRequest.Status.INFO_REQUESTED:
        raise StateConflict(
            "Only a request waiting for your answer can be amended.",
            rule="R-DOC-2",
            code="not_waiting",
        )
    if sow_value is not None and request.kind != PaymentRequest.Kind.INITIAL:
        raise ApplicationError(
            "The SOW value belongs to the initial request only.",
            fields={"sow_value": ["Leave empty for the final request."]},
        )
    if sow_value is not None and sow_value <= 0:
        raise ApplicationError(
            "Enter the SOW value in USD.", fields={"sow_value": ["More than zero."]}
        )
    changes = {
        "customer_signer": customer_signer,
        "customer_signed_on": customer_signed_on,
        "partner_signer": partner_signer,
        "partner_signed_on": partner_signed_on,
        "sow_value": sow_value,
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    merged = {
        f: changes.get(f, getattr(request, f))
        for f in ("customer_signer", "customer_signed_on", "partner_signer", "partner_signed_on")
    }
    _check_signers(voucher=voucher, today=today, **merged)
    answer = (answer or "").strip()
    if upload is None and not changes and not answer:
        raise ApplicationError(
            "Answer the question, upload a corrected document or change a field.",
            rule="R-DOC-2",
            code="nothing_changed",
            fields={"answer": ["Nothing was answered or changed."]},
        )
    checked = None
    if upload is not None:
        checked = check_document(
            upload=upload,
            voucher_code=voucher.code,
            template_id=template_id(KIND_TEMPLATE[request.kind]),
        )
    stored: RequestDocument | None = None
    try:
        with transaction.atomic():
            request = (
                PaymentRequest.objects.select_for_update(of=("self",))
                .select_related("voucher__program")
                .get(pk=request_id)
            )
            if request.status != PaymentRequest.Status.INFO_REQUESTED:
                raise StateConflict(
                    "Only a request waiting for your answer can be amended.",
                    rule="R-DOC-2",
                    code="not_waiting",
                )
            for field, value in changes.items():
                setattr(request, field, value.strip() if isinstance(value, str) else value)
            request.answer = answer
            if checked is not None:
                stored = _store_document(
                    request=request,
                    checked=checked,
                    original_name=getattr(upload, "name", ""),
                    user=user,
                )
            calendar = BusinessCalendar.for_program(request.voucher.program)
            remaining = request.sla_remaining_days
            if remaining is None:
                remaining = request.voucher.program.review_sla_business_days
            request.due_by = calendar.add(today, remaining)
            request.sla_remaining_days = None
            before = request.status
            request.resubmit()
            request.save()
            event_record(
                subject="request",
                subject_id=request.pk,
                action="amended",
                actor=user,
                from_state=before,
                to_state=request.status,
                reason=answer,
                data={
                    "changed": sorted(changes),
                    "document": stored.sha256 if stored else None,
                    "due_by": request.due_by.isoformat(),
                },
            )
            _notify_reviewers(request, changed=sorted(changes) + (["document"] if stored else []))
    except Exception:
        _discard(stored)
        raise
    return request
