"""What each person has to do next: the cards of their home page, per role.

Each function returns `Task`s; features add theirs here as they land.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Exists, Min, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from accounts.models import User
from core.choices import Role
from core.scopes import effective_role
from core.words import counted, date_text
from nominations.models import Nomination
from nominations.selectors import nominations_visible_to
from notifications.models import OutboundMail
from partners.models import Partner
from payments.models import FxRate
from programs.models import CapRow, CombinedCapRow, Program, RowStatus
from redemptions.models import PaymentRequest
from redemptions.selectors import correctable_rejections, next_step
from vouchers.expiry import not_expired
from vouchers.models import Voucher
from vouchers.selectors import vouchers_visible_to


@dataclass(frozen=True)
class Task:
    title: str
    detail: str
    url: str = ""
    tone: str = "info"  # info | action | warning | done
    due: date | None = None  # the date by which the person must act, when there is one

    @property
    def days_left(self) -> int | None:
        return None if self.due is None else (self.due - timezone.localdate()).days

    @property
    def when(self) -> str:
        """The deadline in words, counted from today."""
        days = self.days_left
        if days is None:
            return ""
        if days < 0:
            return f"{counted(-days, 'day')} overdue"
        return {0: "today", 1: "tomorrow"}.get(days, f"{days} days left")


def _by_deadline(tasks: list[Task]) -> list[Task]:
    """The order to act in: the nearest deadline first; tasks without one after them, in
    the order given."""
    return sorted(tasks, key=lambda t: (t.due is None, t.due or date.max))


def _program_manager(user: User) -> list[Task]:
    tasks: list[Task] = []
    programs = list(Program.objects.filter(is_active=True).order_by("-window_start"))
    if not programs:
        tasks.append(
            Task(
                "Load a program",
                "No active program: run `python manage.py load_program fy24`.",
                tone="warning",
            )
        )
    for program in programs:
        superseded = (
            CapRow.objects.filter(program=program, status=RowStatus.SUPERSEDED).count()
            + CombinedCapRow.objects.filter(program=program, status=RowStatus.SUPERSEDED).count()
        )
        window = f"{date_text(program.window_start)} to {date_text(program.window_end)}"
        detail = f"{program.name}: purchases {window}."
        if superseded:
            detail += (
                f" {counted(superseded, 'overlapping cap row')} superseded by the loader: "
                "check them."
            )
        tasks.append(
            Task(
                f"Program {program.code}",
                detail,
                reverse("program-detail", args=[program.code]),
                "warning" if superseded else "info",
            )
        )
    currencies = set(Partner.objects.values_list("currency", flat=True)) - {"USD"}
    missing = sorted(currencies - set(FxRate.objects.values_list("currency", flat=True)))
    if missing:
        tasks.append(
            Task(
                "Add FX rates",
                f"Partners are paid in {', '.join(missing)}, which have no FX rate yet (R-PAY-1).",
                reverse("admin:payments_fxrate_add"),
                "action",
            )
        )
    submitted = Nomination.objects.filter(status=Nomination.Status.SUBMITTED)
    waiting = submitted.count()
    if waiting:
        tasks.insert(
            0,
            Task(
                f"{counted(waiting, 'nomination')} to decide",
                "Approve or reject them before their deals close (R-ELIG-4); the date is "
                "the earliest expected close.",
                reverse("nomination-list") + "?status=submitted",
                "action",
                due=submitted.aggregate(first=Min("expected_close_date"))["first"],
            ),
        )
    approved = Nomination.objects.filter(status=Nomination.Status.APPROVED).count()
    if approved:
        tasks.insert(
            1 if waiting else 0,
            Task(
                f"{approved} approved, deal not recorded",
                "Record the closed deal to issue the voucher.",
                reverse("nomination-list") + "?status=approved",
                "action",
            ),
        )
    failed = OutboundMail.objects.filter(status=OutboundMail.Status.FAILED).count()
    if failed:
        tasks.append(
            Task(
                "Mail failing",
                f"{counted(failed, 'message')} could not be delivered yet; they are retried.",
                reverse("mail-list") + "?status=failed",
                "warning",
            )
        )
    return tasks


def _partner(user: User) -> list[Task]:
    partner = user.partner
    if partner is None:
        return []
    if not partner.frp_approved:
        return [
            Task(
                "Not on the FastTrack Ready list",
                f"{partner.name} is not an approved FastTrack Ready "
                "Partner, so it cannot redeem vouchers yet (R-VOU-4).",
                tone="warning",
            )
        ]
    # R-VOU-2: an expired voucher, marked by the nightly job or not yet, asks nothing more;
    # every deadline below is the voucher's expiry date.
    live = vouchers_visible_to(user).filter(not_expired(timezone.localdate()))
    claimed = live.filter(status=Voucher.Status.CLAIMED)
    tasks: list[Task] = []
    asked = PaymentRequest.objects.filter(
        voucher__in=claimed, status=PaymentRequest.Status.INFO_REQUESTED
    ).select_related("voucher", "voucher__customer")
    for req in asked:
        tasks.append(
            Task(
                f"Answer the reviewer: {req.voucher.customer.name}",
                f"{req.voucher.code}, {req.get_kind_display()}: "
                f"\u201c{Truncator(req.question).chars(140)}\u201d "
                "The review is paused until you answer (R-REV-1).",
                reverse("request-detail", args=[req.pk]) + "#amend",
                "warning",
                due=req.voucher.expires_on,
            )
        )
    corrections = list(correctable_rejections(claimed))
    for req in corrections:
        label = req.template_kind.upper()
        tasks.append(
            Task(
                f"Correct the rejected {label}: {req.voucher.customer.name}",
                f"{req.voucher.code}: \u201c{Truncator(req.rejection_reason).chars(140)}\u201d "
                f"One corrected {label} is allowed (R-DOC-2).",
                reverse("request-detail", args=[req.pk]) + "#rejected",
                "warning",
                due=req.voucher.expires_on,
            )
        )
    for voucher in live.filter(status=Voucher.Status.ISSUED).order_by("expires_on")[:5]:
        tasks.append(
            Task(
                f"{voucher.customer.name} sent you a voucher",
                f"{voucher.code}: ${voucher.value:,.2f}, {voucher.offer.name}. "
                "Claim or decline it.",
                reverse("voucher-detail", args=[voucher.code]),
                "action",
                due=voucher.expires_on,
            )
        )
    # Claimed vouchers waiting for the partner's next document, soonest expiry first.
    waiting_on_you = claimed.exclude(
        Exists(
            PaymentRequest.objects.filter(
                voucher=OuterRef("pk"),
                status__in=[PaymentRequest.Status.SUBMITTED, PaymentRequest.Status.INFO_REQUESTED],
            )
        )
    ).exclude(
        # Fully redeemed, or a correction rejected too: nothing more to submit (R-DOC-2).
        Exists(
            PaymentRequest.objects.filter(voucher=OuterRef("pk")).filter(
                Q(kind=PaymentRequest.Kind.FINAL, status=PaymentRequest.Status.APPROVED)
                | Q(attempt=2, status=PaymentRequest.Status.REJECTED)
            )
        )
    )
    corrected = {req.voucher_id for req in corrections}
    shown = 0
    for voucher in (
        waiting_on_you.select_related("customer")
        .prefetch_related("payment_requests")
        .order_by("expires_on")[:20]
    ):
        step, _ = next_step(voucher)
        if step not in ("initial", "final") or voucher.pk in corrected:
            continue
        if shown == 5:
            break
        shown += 1
        tasks.append(
            Task(
                f"Submit the signed {'SOW' if step == 'initial' else 'POE'}: "
                f"{voucher.customer.name}",
                f"{voucher.code}, ${voucher.value:,.2f}. Download the pre-filled template, "
                "have it signed by both parties and upload it (R-DOC-1).",
                reverse("voucher-detail", args=[voucher.code]) + "#redeem",
                "action",
                due=voucher.expires_on,
            )
        )
    more = waiting_on_you.count() - shown - len(corrected)
    tasks = _by_deadline(tasks)
    if more > 0:
        tasks.append(
            Task(
                f"{counted(more, 'more voucher')} waiting for your SOW or POE",
                "Each must be redeemed before it expires (R-VOU-2).",
                reverse("voucher-list") + "?status=claimed",
                "action",
            )
        )
    in_review = PaymentRequest.objects.filter(
        voucher__in=claimed, status=PaymentRequest.Status.SUBMITTED
    ).count()
    if in_review:
        tasks.append(
            Task(
                f"{counted(in_review, 'request')} under review",
                "QTM reviews each within 3 business days (R-REV-1); you are mailed the decision.",
                reverse("voucher-list") + "?status=claimed",
            )
        )
    tasks.append(
        Task(
            "Claim a voucher",
            "When a customer hands you a voucher code, claim it to start the engagement.",
            reverse("voucher-claim"),
            "action" if not tasks else "info",
        )
    )
    return tasks


def _customer(user: User) -> list[Task]:
    if user.customer is None:
        return []
    tasks = []
    today = timezone.localdate()
    # R-VOU-2: an expired voucher, marked by the nightly job or not yet, asks nothing more.
    live = vouchers_visible_to(user).filter(not_expired(today))
    for voucher in live.filter(status=Voucher.Status.ISSUED).order_by("expires_on")[:5]:
        days = (voucher.expires_on - today).days
        tasks.append(
            Task(
                f"Choose a partner for {voucher.code}",
                f"${voucher.value:,.2f} {voucher.offer.name}; {days} days left to redeem. "
                "Forward it "
                "to a FastTrack Ready Partner.",
                reverse("voucher-detail", args=[voucher.code]),
                "warning" if days <= 30 else "action",
                due=voucher.expires_on,
            )
        )
    claimed = live.filter(status=Voucher.Status.CLAIMED).count()
    if claimed:
        tasks.append(
            Task(
                f"{counted(claimed, 'voucher')} with a partner",
                "Your partner is deploying; follow progress on the voucher page.",
                reverse("voucher-list") + "?status=claimed",
            )
        )
    if not tasks:
        tasks.append(
            Task(
                "Your organisation",
                f"{user.customer.name} (TPID {user.customer.tpid}). Vouchers "
                "issued to you will appear here; your Microsoft account team nominates you.",
            )
        )
    return tasks


def _field_rep(user: User) -> list[Task]:
    mine = nominations_visible_to(user)
    tasks = [
        Task(
            "Nominate a customer",
            "Nominations must be approved before the deal closes (R-ELIG-4).",
            reverse("nomination-new"),
            "action",
        )
    ]
    waiting = mine.filter(status=Nomination.Status.SUBMITTED).count()
    if waiting:
        tasks.append(
            Task(
                f"{counted(waiting, 'nomination')} awaiting approval",
                "A program manager decides them.",
                reverse("nomination-list") + "?status=submitted",
            )
        )
    approved = mine.filter(status=Nomination.Status.APPROVED).count()
    if approved:
        tasks.append(
            Task(
                f"{counted(approved, 'approved nomination')}",
                "The voucher is issued once the deal closes.",
                reverse("nomination-list") + "?status=approved",
            )
        )
    rejected = mine.filter(
        status=Nomination.Status.REJECTED, decided_at__gte=timezone.now() - timedelta(days=14)
    )
    for nomination in rejected[:3]:
        tasks.append(
            Task(
                f"Rejected: {nomination.customer.name}",
                nomination.rejection_reason,
                reverse("nomination-detail", args=[nomination.pk]),
                "warning",
            )
        )
    return tasks


def _reviewer(user: User) -> list[Task]:
    from payments.models import Dispute
    from vouchers.models import Extension

    today = timezone.localdate()
    waiting = PaymentRequest.objects.filter(status=PaymentRequest.Status.SUBMITTED)
    overdue = waiting.filter(due_by__lt=today).count()
    tasks = [
        Task(
            f"{counted(waiting.count(), 'request')} to review",
            (f"{overdue} overdue. " if overdue else "")
            + "The target is 3 business days (R-REV-1).",
            reverse("review-queue"),
            "warning" if overdue else "action",
            due=waiting.aggregate(first=Min("due_by"))["first"],
        )
    ]
    disputes = Dispute.objects.filter(status=Dispute.Status.OPEN).count()
    if disputes:
        tasks.append(
            Task(
                f"{counted(disputes, 'open dispute')}",
                "Partners dispute decisions or payments (R-PAY-5).",
                reverse("dispute-list"),
                "action",
            )
        )
    extensions = Extension.objects.filter(status=Extension.Status.PENDING).count()
    if extensions:
        tasks.append(
            Task(
                f"{counted(extensions, 'extension request')}",
                "Customers ask for more time (R-VOU-9).",
                reverse("extension-list"),
                "action",
            )
        )
    return tasks


_BY_ROLE = {
    Role.PROGRAM_MANAGER: _program_manager,
    Role.FIELD_REP: _field_rep,
    Role.REVIEWER: _reviewer,
    Role.CUSTOMER: _customer,
    Role.PARTNER: _partner,
}


def home_tasks(user: User) -> list[Task]:
    handler = _BY_ROLE.get(effective_role(user))  # type: ignore[call-overload]
    return handler(user) if handler else []
