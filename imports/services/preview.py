"""Reading and checking an import file: the preview (R-ELIG-*, R-OFFER-1, R-WL-*, R-CAP-*)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.files import File
from django.utils import timezone

from accounts.models import User
from core.choices import LicensingChannel, Role
from core.errors import RuleViolation, Violation
from core.scopes import effective_role
from customers.models import Customer
from customers.selectors import customers_visible_to
from imports.models import ImportJob
from imports.parsing import FORMAT, REQUIRED_COLUMNS, RowValues, parse_row, read_table
from nominations.models import Nomination
from nominations.rules import DealFacts, Evaluation, ProgramRules
from nominations.services import customer_facts
from programs.models import Program
from vouchers.models import Voucher

CHUNK = 500
ProgressCallback = Callable[[int, int], None]


def uploader_role(user: User) -> str:
    """Field reps import their own nominations; program managers import on behalf of reps.
    Anyone else is refused (R-ELIG-5)."""
    role = effective_role(user)
    if role not in (Role.FIELD_REP, Role.PROGRAM_MANAGER):
        raise RuleViolation.of(
            [
                Violation(
                    "R-ELIG-5", "Only Microsoft field reps nominate customers; partners cannot."
                )
            ]
        )
    return role


def held_groups_by_customer(
    *, program_id: int, customer_ids: Collection[int]
) -> dict[int, set[str]]:
    """`nominations.selectors.held_groups` for many customers in two queries: the groups of
    open nominations and of vouchers that are not cancelled (R-OFFER-1)."""
    held: dict[int, set[str]] = defaultdict(set)
    if not customer_ids:
        return held
    nominations = Nomination.objects.filter(
        program_id=program_id, customer_id__in=customer_ids, status__in=Nomination.OPEN_STATUSES
    ).values_list("customer_id", "exclusive_group")
    vouchers = (
        Voucher.objects.filter(program_id=program_id, customer_id__in=customer_ids)
        .exclude(status=Voucher.Status.CANCELLED)
        .values_list("customer_id", "exclusive_group")
    )
    for customer_id, group in [*nominations, *vouchers]:
        held[customer_id].add(group)
    return held


def _deal(values: RowValues) -> DealFacts:
    assert values.deal_value is not None and values.expected_close_date is not None
    return DealFacts(
        offer=values.offer,
        workloads=values.workloads,
        amount=values.deal_value,
        deal_date=values.expected_close_date,
        issue_date=values.expected_close_date,  # R-CAP-3: the expected close stands in
        agreement_type=values.agreement_type,
        upsell_expansion=values.upsell_expansion,
        migration_sources=values.migration_sources,
        ecif_funded=values.ecif_funded,
        licensing_channel=values.licensing_channel,
    )


def _stored_deal(values: dict[str, Any]) -> DealFacts:
    close = date.fromisoformat(values["expected_close_date"])
    return DealFacts(
        offer=values["offer"],
        workloads=values["workloads"],
        amount=Decimal(values["deal_value"]),
        deal_date=close,
        issue_date=close,
        agreement_type=values["agreement_type"],
        upsell_expansion=values["upsell_expansion"],
        migration_sources=values["migration_sources"],
        ecif_funded=values["ecif_funded"],
        # Previews stored before the column existed were EA deals (R-ELIG-2).
        licensing_channel=values.get("licensing_channel", LicensingChannel.EA),
    )


def _violations(items: list[Violation]) -> list[dict[str, str]]:
    return [v.as_dict() for v in items]


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@dataclass
class _Preview:
    """What checking one file needs, fetched once."""

    user: User
    manager: bool
    rules: ProgramRules
    today: date
    customers: dict[str, Customer]
    held: dict[int, set[str]]
    nominators: dict[str, User]
    in_file: dict[int, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))

    def check(self, number: int, cells: dict[str, str], extra: list[str]) -> dict[str, Any]:
        values = parse_row(cells)
        problems = list(values.errors)
        customer = self.customers.get(values.customer_tpid) if values.customer_tpid else None
        if values.customer_tpid and customer is None:
            problems.append(
                Violation(
                    FORMAT,
                    f"customer_tpid: no customer with TPID {values.customer_tpid} is known to "
                    "the portal.",
                )
            )
        nominator = self._nominator(values, problems)
        evaluation: Evaluation | None = None
        if (
            customer is not None
            and values.offer
            and values.deal_value is not None
            and values.expected_close_date is not None
        ):
            evaluation = self.rules.evaluate(
                customer=customer_facts(customer),
                deal=_deal(values),
                stage="nomination",
                today=self.today,
                held_groups=self.held[customer.pk] | set(self.in_file[customer.pk]),
            )
            problems.extend(self._explain_in_file(evaluation, customer))
        ok = not problems
        if ok and customer is not None and evaluation is not None:
            self.in_file[customer.pk][evaluation.exclusive_group] = number
        return {
            "row": number,
            "raw": cells,
            **({"extra": extra} if extra else {}),
            "values": _normalised(values, customer, nominator, evaluation),
            "violations": _violations(problems),
            "ok": ok,
            "nomination": None,
        }

    def _nominator(self, values: RowValues, problems: list[Violation]) -> User | None:
        name = values.nominated_by
        if not self.manager:
            if name and name != self.user.username:
                problems.append(
                    Violation(
                        "R-ELIG-5",
                        "The rows of a field rep's import are nominated by the rep who uploads "
                        f"them; leave nominated_by empty or write {self.user.username}.",
                    )
                )
            return self.user
        if not name:
            problems.append(
                Violation(
                    "R-ELIG-5",
                    "nominated_by: a program manager's import names the nominating field rep "
                    "(a username) on every row.",
                )
            )
            return None
        nominator = self.nominators.get(name)
        if nominator is None:
            problems.append(Violation(FORMAT, f"nominated_by: there is no user {name!r}."))
            return None
        if effective_role(nominator) != Role.FIELD_REP:
            problems.append(
                Violation(
                    "R-ELIG-5", f"Only Microsoft field reps nominate customers; {name} is not one."
                )
            )
            return None
        return nominator

    def _explain_in_file(self, evaluation: Evaluation, customer: Customer) -> list[Violation]:
        """The engine's R-OFFER-1 sentence speaks of saved nominations; when the group is
        held by an earlier row of the same file, say which row."""
        group = evaluation.exclusive_group
        earlier = self.in_file[customer.pk].get(group)
        if earlier is None or group in self.held[customer.pk]:
            return evaluation.violations
        return [
            Violation(
                v.rule,
                f"Row {earlier} of this file already nominates {customer.name} in the "
                f"'{group}' group of this program; offers of one group cannot be combined.",
            )
            if v.rule == "R-OFFER-1" and "already has" in v.message
            else v
            for v in evaluation.violations
        ]


def _normalised(
    values: RowValues,
    customer: Customer | None,
    nominator: User | None,
    evaluation: Evaluation | None,
) -> dict[str, Any]:
    return {
        "customer": customer.pk if customer else None,
        "customer_name": customer.name if customer else "",
        "tpid": values.customer_tpid,
        "offer": values.offer,
        "workloads": values.workloads,
        "deal_value": _money(values.deal_value),
        "expected_close_date": (
            values.expected_close_date.isoformat() if values.expected_close_date else None
        ),
        "agreement_type": values.agreement_type,
        "licensing_channel": values.licensing_channel,
        "upsell_expansion": values.upsell_expansion,
        "migration_sources": values.migration_sources,
        "ecif_funded": values.ecif_funded,
        "notes": values.notes,
        "nominated_by": nominator.pk if nominator else None,
        "nominated_by_username": nominator.username if nominator else values.nominated_by,
        **_estimate(evaluation),
    }


def _estimate(evaluation: Evaluation | None) -> dict[str, Any]:
    cap = evaluation.cap if evaluation else None
    return {
        "exclusive_group": evaluation.exclusive_group if evaluation else "",
        "estimated_value": _money(evaluation.suggested_value) if evaluation else None,
        "estimated_cap": _money(cap.cap) if cap else None,
        "cap_row": cap.row_key if cap else "",
    }


def import_preview(*, user: User, program: Program, upload: File[Any]) -> ImportJob:
    """Reads the file, checks every row and saves the result as a previewed job. Raises
    `ApplicationError` for a file that cannot be imported at all."""
    manager = uploader_role(user) == Role.PROGRAM_MANAGER
    required = (*REQUIRED_COLUMNS, "nominated_by") if manager else REQUIRED_COLUMNS
    table = read_table(upload, required=required)
    tpids = {cells.get("customer_tpid", "") for _, cells in table.rows} - {""}
    # A rep imports for the customers the rep may nominate: another rep's unverified
    # addition is unknown here, as in the nomination form (R-ELIG-8).
    customers = {c.tpid: c for c in customers_visible_to(user).filter(tpid__in=tpids)}
    names = {cells.get("nominated_by", "") for _, cells in table.rows} - {""}
    preview = _Preview(
        user=user,
        manager=manager,
        rules=ProgramRules(program),
        today=timezone.localdate(),
        customers=customers,
        held=held_groups_by_customer(
            program_id=program.pk, customer_ids=[c.pk for c in customers.values()]
        ),
        nominators=(
            {u.username: u for u in User.objects.filter(username__in=names)} if manager else {}
        ),
    )
    rows = [
        preview.check(number, cells, extra)
        for (number, cells), extra in zip(table.rows, table.extras, strict=True)
    ]
    good = sum(1 for r in rows if r["ok"])
    return ImportJob.objects.create(
        uploaded_by=user,
        program=program,
        file_name=(upload.name or "upload")[-255:],
        status=ImportJob.Status.PREVIEWED,
        total_rows=len(rows),
        good_rows=good,
        bad_rows=len(rows) - good,
        rows=rows,
        columns=table.header,
    )
