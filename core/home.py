"""What each person has to do next: the cards of their home page, per role.

Each function returns `Task`s; features add theirs here as they land.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from accounts.models import User
from core.choices import Role
from core.scopes import effective_role
from notifications.models import OutboundMail
from partners.models import Partner
from payments.models import FxRate
from programs.models import CapRow, CombinedCapRow, Program, RowStatus


@dataclass(frozen=True)
class Task:
    title: str
    detail: str
    url: str = ""
    tone: str = "info"  # info | action | warning | done


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
        window = f"{program.window_start:%d %b %Y} to {program.window_end:%d %b %Y}"
        detail = f"{program.name}: purchases {window}."
        if superseded:
            detail += f" {superseded} overlapping cap row(s) superseded by the loader: check them."
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
    failed = OutboundMail.objects.filter(status=OutboundMail.Status.FAILED).count()
    if failed:
        tasks.append(
            Task(
                "Mail failing",
                f"{failed} message(s) could not be delivered yet; they are retried.",
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
    return [
        Task(
            "Claim a voucher",
            "When a customer hands you a voucher code, claim it to start the engagement.",
            tone="action",
        )
    ]


def _customer(user: User) -> list[Task]:
    if user.customer is None:
        return []
    return [
        Task(
            "Your organisation",
            f"{user.customer.name} (TPID {user.customer.tpid}). Vouchers issued to "
            "you will appear here; forward one to a FastTrack Ready Partner to start.",
        )
    ]


def _field_rep(user: User) -> list[Task]:
    return [
        Task(
            "Nominate customers before the deal closes",
            "Nominations must be approved before the deal closes (R-ELIG-4).",
            tone="action",
        )
    ]


def _reviewer(user: User) -> list[Task]:
    return [
        Task("Review queue", "Payment requests are due within the program's review SLA (R-REV-1).")
    ]


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
