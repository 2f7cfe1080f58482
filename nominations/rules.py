"""The FY24 rules engine: one place that decides eligibility, caps and voucher value.

`evaluate()` checks a nomination (stage "nomination") or a closed deal (stage "close")
against the program data and returns *every* failed rule with its ID from
program-rules.md and a sentence a field rep understands, plus the cap row that applies
(R-CAP-3: most specific wins) and the suggested value. It reads no FY24 number from
Python: every threshold comes from the program's rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from core.choices import Category, LicensingChannel, Segment
from core.errors import Violation
from core.money import cents_down
from programs.models import CapRow, CombinedCapRow, Offer, Program, RowStatus, Workload

INELIGIBLE_CATEGORIES = {
    Category.NON_PROFIT,
    Category.US_FEDERAL,
    Category.GPP,
    Category.CSP,  # held for customers stored before CSP became a licensing channel
}  # R-ELIG-2 names them; R-ELIG-1 covers any other category a program leaves out.


@dataclass(frozen=True)
class CustomerFacts:
    category: str
    segment: str
    country: str
    e3_licenses: int
    public_institution: bool = False
    name: str = "The customer"


@dataclass(frozen=True)
class DealFacts:
    offer: str
    workloads: Sequence[str]
    amount: Decimal
    deal_date: date  # expected close date at nomination, the real one at close
    issue_date: date  # the voucher's issue date; at nomination the expected close stands in
    agreement_type: str = "new"
    upsell_expansion: bool = False
    migration_sources: Sequence[str] = ()
    ecif_funded: bool = False
    licensing_channel: str = LicensingChannel.EA


@dataclass(frozen=True)
class CapResolution:
    cap: Decimal
    max_deal: Decimal | None
    row_key: str
    row_label: str
    # Why this row applies (R-CAP-3), in a sentence for the close-deal screen.
    reason: str = ""
    # When the deal is refused: what the standing row would admit instead.
    standing_hint: str = ""


@dataclass
class Evaluation:
    violations: list[Violation] = field(default_factory=list)
    cap: CapResolution | None = None
    suggested_value: Decimal | None = None
    scheme: str = "commercial"
    exclusive_group: str = ""

    @property
    def ok(self) -> bool:
        return not self.violations

    def fail(self, rule: str, message: str) -> None:
        self.violations.append(Violation(rule, message))


def _segment_label(code: str) -> str:
    return Segment(code).label if code in Segment.values else code


def _money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def _admits(row: CapRow, amount: Decimal) -> bool:
    """R-CAP-2: the row's deal-size limit lets the deal in."""
    return row.max_deal is None or amount <= row.max_deal


class ProgramRules:
    """The program's data loaded once (a fixed number of queries), then pure checks."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.offers: dict[str, Offer] = {
            o.code: o for o in program.offers.prefetch_related("workloads")
        }
        self.offer_workloads = {
            code: {w.code for w in o.workloads.all()} for code, o in self.offers.items()
        }
        self.workloads: dict[str, Workload] = {
            w.code: w for w in program.workloads.prefetch_related("country_lists")
        }
        self.workload_countries = {
            code: {c for cl in w.country_lists.all() for c in cl.countries}
            for code, w in self.workloads.items()
        }
        self.licence_limits = dict(
            program.segment_rules.values_list("segment", "max_prior_e3_licences")
        )
        self.cap_rows: list[CapRow] = list(
            program.cap_rows.filter(status=RowStatus.EFFECTIVE).select_related(
                "offer", "required_workload"
            )
        )
        self.combined_rows: list[CombinedCapRow] = list(
            program.combined_cap_rows.filter(status=RowStatus.EFFECTIVE)
        )

    # -- scheme ---------------------------------------------------------------------------
    def scheme_for(self, customer: CustomerFacts) -> str:
        """Public-sector scheme: a public-sector category, or a public institution in a
        category the program names (Decision, "Redemption: public sector customers")."""
        p = self.program
        if customer.category in p.public_sector_categories:
            return "public_sector"
        if customer.public_institution and customer.category in p.public_institution_categories:
            return "public_sector"
        return "commercial"

    # -- caps -----------------------------------------------------------------------------
    def resolve_cap(
        self, *, customer: CustomerFacts, deal: DealFacts, offer: Offer
    ) -> CapResolution | None:
        """The applying row, most specific first (R-CAP-3)."""
        if offer.cap_source == Offer.CapSource.COMBINED:
            return self._combined_part(customer=customer, deal=deal, group=offer.exclusive_group)
        candidates = sorted(
            (
                row
                for row in self.cap_rows
                if row.offer_id == offer.pk and self._row_applies(row, customer=customer, deal=deal)
            ),
            key=self._specificity,
            reverse=True,
        )
        if not candidates:
            return None
        best, *others = candidates
        if _admits(best, deal.amount):
            reason = "The most specific row that applies to this deal (R-CAP-3)."
            if others:
                reason = (
                    f"The most specific of {len(candidates)} rows that apply to this deal "
                    f"(R-CAP-3); it is chosen over “{others[0].label}”."
                )
            return CapResolution(best.cap, best.max_deal, best.key, best.label, reason)
        # R-CAP-3 (round 2): a more specific row's deal limit never takes away what a
        # standing row for the same offer, segment and workloads admits.
        covered = [row for row in others if self._covers(row, offer=offer, deal=deal)]
        for row in covered:
            if _admits(row, deal.amount):
                reason = (
                    f"“{best.label}” excludes deals above {_money(best.max_deal or Decimal(0))}; "
                    "a limited-time row adds opportunity and never takes it away, so the "
                    "standing row applies (R-CAP-3)."
                )
                return CapResolution(row.cap, row.max_deal, row.key, row.label, reason)
        return CapResolution(
            best.cap,
            best.max_deal,
            best.key,
            best.label,
            standing_hint=self._standing_hint(best, others, covered, offer=offer, deal=deal),
        )

    def _gated_workloads(self, offer: Offer) -> set[str]:
        """Workloads of `offer` that only a row requiring them covers (Office 365 E1+)."""
        return {
            row.required_workload.code
            for row in self.cap_rows
            if row.offer_id == offer.pk and row.required_workload is not None
        }

    def _covered_workloads(self, row: CapRow, *, offer: Offer) -> set[str]:
        if row.required_workload is not None:
            return set(self.offer_workloads[offer.code])
        return set(self.offer_workloads[offer.code]) - self._gated_workloads(offer)

    def _covers(self, row: CapRow, *, offer: Offer, deal: DealFacts) -> bool:
        return set(deal.workloads) <= self._covered_workloads(row, offer=offer)

    def _standing_hint(
        self,
        best: CapRow,
        others: list[CapRow],
        covered: list[CapRow],
        *,
        offer: Offer,
        deal: DealFacts,
    ) -> str:
        """The sentence that follows an R-CAP-2 refusal: the standing row's own limit, or
        which workloads would qualify under it when only `best` covers the deal's."""
        if covered:
            row = covered[0]
            return (
                f" The standing row “{row.label}” does not admit it either (deals above "
                f"{_money(row.max_deal or Decimal(0))})."
            )
        admitting = [row for row in others if _admits(row, deal.amount)]
        if not admitting:
            return ""
        # The standing row: the most specific of the least prioritised (not limited-time).
        lowest = min(r.priority for r in admitting)
        row = next(r for r in admitting if r.priority == lowest)
        names = [
            self.workloads[code].name
            for code in self.offer_workloads[offer.code]
            if code in self._covered_workloads(row, offer=offer)
        ]
        only = [
            self.workloads[code].name
            for code in dict.fromkeys(deal.workloads)
            if code in self.workloads and code not in self._covered_workloads(row, offer=offer)
        ]
        return (
            f" {', '.join(only)} qualifies only under “{best.label}”; under the standing row "
            f"“{row.label}” these workloads would qualify: {', '.join(sorted(names))}."
        )

    @staticmethod
    def _specificity(row: CapRow) -> tuple[object, ...]:
        span = (row.window_end - row.window_start).days
        return (
            row.priority,
            row.required_workload_id is not None,
            row.deal_above is not None,
            row.deal_above or Decimal(0),
            row.segment != "",
            -span,
            row.key,
        )

    @staticmethod
    def _row_applies(row: CapRow, *, customer: CustomerFacts, deal: DealFacts) -> bool:
        if row.segment and row.segment != customer.segment:
            return False
        day = deal.issue_date if row.basis == CapRow.Basis.ISSUED else deal.deal_date
        if not row.covers(day):
            return False
        if row.deal_closed_by and deal.deal_date > row.deal_closed_by:
            return False
        if row.deal_above is not None and not deal.amount > row.deal_above:
            return False
        return not (
            row.required_workload is not None and row.required_workload.code not in deal.workloads
        )

    def _combined_part(
        self, *, customer: CustomerFacts, deal: DealFacts, group: str
    ) -> CapResolution | None:
        for row in sorted(self.combined_rows, key=lambda r: (r.window_start, r.key)):
            if row.segment == customer.segment and row.covers(deal.deal_date):
                part = row.part_cap(group)
                if part is not None:
                    return CapResolution(part, None, row.key, f"{row.label} ({group} part)")
        return None

    def value_for(self, amount: Decimal, cap: Decimal) -> Decimal:
        """The program's value rate of the purchase, rounded down to the cent, capped."""
        raw = cents_down(amount * self.program.value_rate)
        return max(Decimal("0.00"), min(raw, cap))

    # -- the checks -----------------------------------------------------------------------
    def evaluate(
        self,
        *,
        customer: CustomerFacts,
        deal: DealFacts,
        stage: str,
        today: date,
        held_groups: Iterable[str] = (),
    ) -> Evaluation:
        if stage not in ("nomination", "close"):
            raise ValueError(f"stage must be 'nomination' or 'close', not {stage!r}")
        result = Evaluation(scheme=self.scheme_for(customer))
        offer = self.offers.get(deal.offer)
        self._check_customer(result, customer)
        if offer is None or offer.prior_licence_threshold:
            self._check_licences(result, customer)
        self._check_channel(result, deal)
        self._check_dates(result, deal, stage=stage, today=today)
        if deal.ecif_funded:
            result.fail(
                "R-ELIG-6",
                "The offer cannot be combined with ECIF-funded deployment activity.",
            )
        if deal.agreement_type != "new" and not deal.upsell_expansion:
            result.fail(
                "R-ELIG-7",
                "EA renewals and mid-term purchases qualify only when they drive upsell or "
                "expansion; confirm the upsell or expansion.",
            )
        if deal.amount <= 0:
            result.fail("R-CAP-2", "The deal value must be more than zero.")

        if offer is None:
            known = ", ".join(sorted(self.offers))
            result.fail("R-OFFER-1", f"{deal.offer!r} is not an offer of this program ({known}).")
            return result
        result.exclusive_group = offer.exclusive_group
        if offer.exclusive_group in set(held_groups):
            result.fail(
                "R-OFFER-1",
                f"{customer.name} already has a nomination or voucher in the "
                f"'{offer.exclusive_group}' group of this program; " + self._group_hint(offer),
            )
        self._check_migration(result, offer, deal)
        self._check_workloads(result, offer, customer, deal)

        cap = self.resolve_cap(customer=customer, deal=deal, offer=offer)
        if cap is None:
            result.fail(
                "R-CAP-1",
                f"No cap row of {self.program.code} applies to {offer.code} for "
                f"{_segment_label(customer.segment)} deals on {deal.deal_date:%Y-%m-%d}.",
            )
            return result
        result.cap = cap
        if cap.max_deal is not None and deal.amount > cap.max_deal:
            result.fail(
                "R-CAP-2",
                f"Deals above {_money(cap.max_deal)} are not eligible under “{cap.row_label}”; "
                f"this deal is {_money(deal.amount)}.{cap.standing_hint}",
            )
            return result
        if deal.amount > 0:
            result.suggested_value = self.value_for(deal.amount, cap.cap)
        return result

    def _group_hint(self, offer: Offer) -> str:
        others = sorted(
            code for code, o in self.offers.items() if o.exclusive_group != offer.exclusive_group
        )
        combinable = f" It can still be combined with {', '.join(others)}." if others else ""
        return f"offers of one group cannot be combined.{combinable}"

    def _check_customer(self, result: Evaluation, customer: CustomerFacts) -> None:
        if customer.category not in self.program.eligible_categories:
            rule = "R-ELIG-2" if customer.category in INELIGIBLE_CATEGORIES else "R-ELIG-1"
            label = (
                Category(customer.category).label
                if customer.category in Category.values
                else customer.category
            )
            result.fail(rule, f"{label} customers are not eligible for this program.")

    def _check_licences(self, result: Evaluation, customer: CustomerFacts) -> None:
        """R-ELIG-3, for the offers whose data says the threshold applies (the M365 offers;
        the Copilot offer has none)."""
        limit = self.licence_limits.get(customer.segment)
        if limit is None:
            result.fail(
                "R-ELIG-3", f"The program sets no licence rule for the {customer.segment} segment."
            )
        elif customer.e3_licenses >= limit:
            result.fail(
                "R-ELIG-3",
                f"{_segment_label(customer.segment)} customers must own fewer than {limit:,} "
                f"M365 E3 licences before the promotion; {customer.name} owns "
                f"{customer.e3_licenses:,}.",
            )

    def _check_channel(self, result: Evaluation, deal: DealFacts) -> None:
        """R-ELIG-2: a deal licensed through an ineligible channel (CSP), whatever the
        customer's category."""
        if deal.licensing_channel in self.program.ineligible_licensing_channels:
            label = (
                LicensingChannel(deal.licensing_channel).label
                if deal.licensing_channel in LicensingChannel.values
                else deal.licensing_channel
            )
            result.fail(
                "R-ELIG-2",
                f"Deals licensed through {label} are not eligible for this program, whatever "
                "the customer's category.",
            )

    def _check_dates(self, result: Evaluation, deal: DealFacts, *, stage: str, today: date) -> None:
        p = self.program
        if not p.window_start <= deal.deal_date <= p.window_end:
            what = "expected to close" if stage == "nomination" else "closed"
            result.fail(
                "R-ELIG-7",
                f"The deal is {what} on {deal.deal_date:%Y-%m-%d}, outside the program's "
                f"qualifying purchase window {p.window_start:%Y-%m-%d} to {p.window_end:%Y-%m-%d}.",
            )
        if stage == "nomination" and deal.deal_date < today:
            result.fail(
                "R-ELIG-4",
                "Customers must be nominated and approved before the deal closes; the expected "
                f"close date {deal.deal_date:%Y-%m-%d} has passed.",
            )
        if stage == "close" and deal.deal_date > today:
            result.fail(
                "R-VOU-1", "A deal can be recorded as closed only on or after its close date."
            )

    def _check_migration(self, result: Evaluation, offer: Offer, deal: DealFacts) -> None:
        if not offer.requires_migration:
            return
        qualifying = set(offer.qualifying_migration_sources) & set(deal.migration_sources)
        if qualifying:
            return
        if "tenant_to_tenant" in deal.migration_sources:
            result.fail(
                "R-OFFER-2",
                f"A tenant-to-tenant migration does not qualify for {offer.name}; it needs a "
                "migration from Office on-premises and/or a competitor.",
            )
        else:
            result.fail(
                "R-OFFER-2",
                f"{offer.name} requires a migration from Office on-premises and/or one or more "
                "competitors.",
            )

    def _check_workloads(
        self, result: Evaluation, offer: Offer, customer: CustomerFacts, deal: DealFacts
    ) -> None:
        chosen = list(dict.fromkeys(deal.workloads))
        if not chosen:
            result.fail("R-WL-1", "Choose at least one qualifying workload.")
            return
        allowed = self.offer_workloads[offer.code]
        for code in chosen:
            workload = self.workloads.get(code)
            if workload is None:
                result.fail("R-WL-1", f"{code!r} is not a workload of this program.")
                continue
            if code not in allowed:
                result.fail(
                    self._mismatch_rule(workload, offer),
                    f"{workload.name} does not qualify for {offer.name}.",
                )
                continue
            if workload.requires_any_of and not set(workload.requires_any_of) & set(chosen):
                needed = " or ".join(workload.requires_any_of)
                result.fail(
                    "R-WL-1",
                    f"{workload.name} qualifies only when attached to a new {needed} purchase.",
                )
            self._check_restricted(result, workload, customer, deal)
        if allowed and not set(chosen) & allowed:
            result.fail("R-WL-1", f"None of the chosen workloads qualifies for {offer.name}.")

    def _mismatch_rule(self, workload: Workload, offer: Offer) -> str:
        """R-WL-3 when an offer with one dedicated workload is involved (Copilot), else R-WL-1."""
        dedicated = {c for c, wl in self.offer_workloads.items() if len(wl) == 1}
        dedicated_workloads = {w for c in dedicated for w in self.offer_workloads[c]}
        if offer.code in dedicated or workload.code in dedicated_workloads:
            return "R-WL-3"
        return "R-WL-1"

    def _check_restricted(
        self, result: Evaluation, workload: Workload, customer: CustomerFacts, deal: DealFacts
    ) -> None:
        if workload.segments and customer.segment not in workload.segments:
            allowed = ", ".join(_segment_label(s) for s in workload.segments)
            result.fail("R-WL-2", f"{workload.name} is only for {allowed} customers.")
        countries = self.workload_countries.get(workload.code)
        if countries and customer.country not in countries:
            result.fail(
                "R-WL-2",
                f"{workload.name} is only offered in the program's listed emerging-market "
                f"countries; {customer.country} is not one of them.",
            )
        start, end = workload.available_from, workload.available_until
        if (start and deal.deal_date < start) or (end and deal.deal_date > end):
            span = f"{start:%Y-%m-%d}" if start else "the start"
            span += f" to {end:%Y-%m-%d}" if end else " onwards"
            result.fail("R-WL-2", f"{workload.name} is only available for deals from {span}.")
