"""Expiry reminders, POE-due reminders and expiry itself (R-VOU-2, R-VOU-8, R-NOT-1, R-RED-5).

Exactly once: each batch locks its vouchers (SKIP LOCKED, so workers share the work),
writes a ReminderMarker per threshold and the outbox mail in one transaction, and hands
the mail to the workers after commit. A re-run, a second worker or a worker killed
mid-batch can neither send twice (the marker is unique) nor skip (an uncommitted batch
leaves no marker, so the next run does it). Selections are one query per threshold
window on (status, expires_on).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.models import Event
from notifications.models import OutboundMail
from notifications.services import mail_dispatch_on_commit, mail_render
from programs.models import Program
from redemptions.models import PaymentRequest
from vouchers.models import ReminderMarker, Voucher

BATCH = 500
Candidates = Callable[[Program, "Window", date], QuerySet[Voucher]]
Builder = Callable[[Voucher, int, date], OutboundMail]


@dataclass(frozen=True)
class Window:
    """Vouchers expiring in [first, last] days whose nearest passed threshold is `days`."""

    days: int
    first: int
    last: int
    older: tuple[int, ...]  # thresholds already passed, counted as passed if never sent


def windows(thresholds: list[int]) -> list[Window]:
    """[90, 30, 7] -> 0..7 (7; older 30, 90), 8..30 (30; older 90), 31..90 (90)."""
    ordered = sorted(set(thresholds))
    out = []
    for i, days in enumerate(ordered):
        first = ordered[i - 1] + 1 if i else 0
        out.append(Window(days, first, days, tuple(ordered[i + 1 :])))
    return out


def _due(program: Program, kind: str, window: Window, today: date) -> QuerySet[Voucher]:
    marked = ReminderMarker.objects.filter(
        voucher=OuterRef("pk"), kind=kind, days_before=window.days
    )
    return (
        Voucher.objects.filter(
            program=program,
            expires_on__gte=today + timedelta(days=window.first),
            expires_on__lte=today + timedelta(days=window.last),
        )
        .exclude(Exists(marked))
        .order_by("expires_on", "pk")
    )


def _expiry_candidates(program: Program, window: Window, today: date) -> QuerySet[Voucher]:
    """R-VOU-8: only while no payment request was submitted."""
    any_request = PaymentRequest.objects.filter(voucher=OuterRef("pk"))
    return (
        _due(program, ReminderMarker.Kind.EXPIRY, window, today)
        .filter(status__in=[Voucher.Status.ISSUED, Voucher.Status.CLAIMED])
        .exclude(Exists(any_request))
    )


def _poe_candidates(program: Program, window: Window, today: date) -> QuerySet[Voucher]:
    """Claimed vouchers whose SOW is approved and whose POE is not yet submitted."""
    sow_approved = PaymentRequest.objects.filter(
        voucher=OuterRef("pk"),
        kind=PaymentRequest.Kind.INITIAL,
        status=PaymentRequest.Status.APPROVED,
    )
    final_live = PaymentRequest.objects.filter(
        voucher=OuterRef("pk"), kind=PaymentRequest.Kind.FINAL
    ).exclude(status=PaymentRequest.Status.REJECTED)
    return (
        _due(program, ReminderMarker.Kind.POE, window, today)
        .filter(status=Voucher.Status.CLAIMED)
        .filter(Exists(sow_approved))
        .exclude(Exists(final_live))
    )


def _days(count: int) -> str:
    return f"{count} day" + ("" if count == 1 else "s")


def _expiry_mail(voucher: Voucher, days: int, today: date) -> OutboundMail:
    contacts = [u.email for u in voucher.customer.contacts.all() if u.is_active and u.email]
    rep = voucher.nomination.nominated_by
    left = (voucher.expires_on - today).days
    return mail_render(
        kind="expiry_reminder",
        to=contacts or [rep.email],
        cc=[rep.email],  # R-NOT-1: the account team is cc'd
        subject=f"Your FastTrack voucher {voucher.code} expires in {_days(left)}",
        template="mail/expiry_reminder",
        context={
            "voucher": voucher,
            "days_left": left,
            "threshold": days,
            "voucher_url": settings.SITE_URL + reverse("voucher-detail", args=[voucher.code]),
        },
        dedupe_key=f"reminder:expiry:{voucher.pk}:{days}",
        related_object=f"voucher:{voucher.code}",
    )


def _poe_mail(voucher: Voucher, days: int, today: date) -> OutboundMail:
    assert voucher.partner is not None
    emails = [u.email for u in voucher.partner.users.all() if u.is_active and u.email]
    left = (voucher.expires_on - today).days
    return mail_render(
        kind="poe_reminder",
        to=emails,
        subject=f"Submit the POE for voucher {voucher.code}: {_days(left)} left",
        template="mail/poe_reminder",
        context={
            "voucher": voucher,
            "days_left": left,
            "voucher_url": settings.SITE_URL + reverse("voucher-detail", args=[voucher.code]),
        },
        dedupe_key=f"reminder:poe:{voucher.pk}:{days}",
        related_object=f"voucher:{voucher.code}",
    )


def _run(kind: str, *, today: date | None, candidates: Candidates, build: Builder) -> int:
    today = today or timezone.localdate()
    total = 0
    for program in Program.objects.filter(is_active=True):
        thresholds = (
            program.reminder_days
            if kind == ReminderMarker.Kind.EXPIRY
            else program.poe_reminder_days
        )
        for window in windows(thresholds):
            while True:
                done = _batch(kind, candidates(program, window, today), window, today, build)
                total += done
                if done < BATCH:
                    break
    return total


def _batch(kind: str, qs: QuerySet[Voucher], window: Window, today: date, build: Builder) -> int:
    with transaction.atomic():
        ids = list(
            qs.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True)[
                :BATCH
            ]
        )
        if not ids:
            return 0
        vouchers = list(
            Voucher.objects.filter(pk__in=ids)
            .select_related("customer", "nomination__nominated_by", "partner", "offer", "program")
            .prefetch_related(
                Prefetch("customer__contacts", queryset=User.objects.filter(is_active=True)),
                Prefetch("partner__users", queryset=User.objects.filter(is_active=True)),
            )
            .order_by("pk")
        )
        mails = OutboundMail.objects.bulk_create([build(v, window.days, today) for v in vouchers])
        ReminderMarker.objects.bulk_create(
            ReminderMarker(
                voucher=v,
                kind=kind,
                days_before=window.days,
                outcome=ReminderMarker.Outcome.SENT,
                mail=m,
            )
            for v, m in zip(vouchers, mails, strict=True)
        )
        if (
            window.older
        ):  # R-VOU-8: a run that finds several thresholds passed sends only the nearest
            ReminderMarker.objects.bulk_create(
                [
                    ReminderMarker(
                        voucher=v, kind=kind, days_before=d, outcome=ReminderMarker.Outcome.PASSED
                    )
                    for v in vouchers
                    for d in window.older
                ],
                ignore_conflicts=True,
            )
        mail_dispatch_on_commit([m.pk for m in mails])
    return len(ids)


def send_expiry_reminders(*, today: date | None = None) -> int:
    """R-VOU-8: to the customer's contacts, the account team cc'd, while nothing was redeemed."""
    return _run(
        ReminderMarker.Kind.EXPIRY, today=today, candidates=_expiry_candidates, build=_expiry_mail
    )


def send_poe_reminders(*, today: date | None = None) -> int:
    """Partners hear that the POE is due before the voucher expires."""
    return _run(ReminderMarker.Kind.POE, today=today, candidates=_poe_candidates, build=_poe_mail)


def expire_vouchers(*, today: date | None = None) -> int:
    """R-VOU-2: vouchers past their expiry date expire, in bulk UPDATEs of a batch each,
    with one event row per voucher (R-RED-5: approved payments stay paid)."""
    today = today or timezone.localdate()
    total = 0
    while True:
        with transaction.atomic():
            rows = list(
                Voucher.objects.select_for_update(skip_locked=True)
                .filter(
                    status__in=[Voucher.Status.ISSUED, Voucher.Status.CLAIMED], expires_on__lt=today
                )
                .order_by("pk")
                .values_list("pk", "status")[: BATCH * 10]
            )
            if not rows:
                break
            now = timezone.now()
            Voucher.objects.filter(pk__in=[pk for pk, _ in rows]).update(
                status=Voucher.Status.EXPIRED, updated_at=now
            )
            Event.objects.bulk_create(
                Event(
                    subject="voucher",
                    subject_id=pk,
                    action="expired",
                    from_state=status,
                    to_state=Voucher.Status.EXPIRED,
                    at=now,
                )
                for pk, status in rows
            )
        total += len(rows)
        if len(rows) < BATCH * 10:
            break
    return total
