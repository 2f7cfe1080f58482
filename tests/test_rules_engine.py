"""The FY24 rules engine (nominations/rules.py) against program-rules.md.

Every test reads the FY24 program data from programs/data/fy24.toml (the `fy24` fixture)
and asserts the rule IDs the engine reports, at each boundary the rules name.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.dates import add_months
from nominations.rules import CustomerFacts, DealFacts, Evaluation, ProgramRules
from programs.models import Program

pytestmark = pytest.mark.django_db

TODAY = date(2024, 6, 30)
AFTER_WINDOW = date(2024, 12, 31)  # a "today" after every FY24 date, so R-VOU-1 stays quiet
PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture
def rules(fy24: Program) -> ProgramRules:
    """The engine, built once per test (it does a fixed number of queries)."""
    return ProgramRules(fy24)


def evaluate(
    rules: ProgramRules,
    *,
    category: str = "commercial",
    segment: str = "enterprise",
    country: str = "US",
    licences: int = 100,
    public_institution: bool = False,
    offer: str = "DEPLOY",
    workloads: Sequence[str] = ("M365_E3",),
    amount: str | Decimal = "100000.00",
    deal_date: date = date(2024, 3, 1),
    issue_date: date | None = None,
    agreement: str = "new",
    upsell: bool = False,
    migration: Sequence[str] = (),
    ecif: bool = False,
    channel: str = "ea",
    stage: str = "close",
    today: date = TODAY,
    held: Sequence[str] = (),
) -> Evaluation:
    customer = CustomerFacts(
        category=category,
        segment=segment,
        country=country,
        e3_licenses=licences,
        public_institution=public_institution,
    )
    deal = DealFacts(
        offer=offer,
        workloads=tuple(workloads),
        amount=Decimal(amount),
        deal_date=deal_date,
        issue_date=issue_date or deal_date,
        agreement_type=agreement,
        upsell_expansion=upsell,
        migration_sources=tuple(migration),
        ecif_funded=ecif,
        licensing_channel=channel,
    )
    return rules.evaluate(
        customer=customer, deal=deal, stage=stage, today=today, held_groups=list(held)
    )


def rule_ids(evaluation: Evaluation) -> set[str]:
    return {v.rule for v in evaluation.violations}


def assert_ok(evaluation: Evaluation) -> None:
    assert evaluation.ok, evaluation.violations
    assert evaluation.violations == []


def smc(**kwargs: Any) -> dict[str, Any]:
    """An SMC-C customer (category SMC Corporate, segment SMC-C)."""
    return {"category": "smc_corporate", "segment": "smc_c", **kwargs}


def e1plus(**kwargs: Any) -> dict[str, Any]:
    """An SMC-C customer in India buying Office 365 E1+ inside its availability window."""
    return smc(country="IN", workloads=("O365_E1_PLUS",), deal_date=date(2024, 5, 20), **kwargs)


def migrate(**kwargs: Any) -> dict[str, Any]:
    return {"offer": "MIGRATE", "migration": ("office_on_prem",), **kwargs}


def copilot(**kwargs: Any) -> dict[str, Any]:
    return {"offer": "COPILOT", "workloads": ("M365_COPILOT",), **kwargs}


# -- the baseline -------------------------------------------------------------------------


def test_the_default_deal_is_eligible(rules: ProgramRules) -> None:
    result = evaluate(rules)
    assert_ok(result)
    assert result.cap is not None and result.cap.row_key == "deploy-ent-h2"
    assert result.suggested_value == Decimal("10000.00")
    assert result.exclusive_group == "m365"


def test_evaluate_runs_no_queries(rules: ProgramRules, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        evaluate(rules, **migrate(workloads=("M365_E3", "FLW_F3", "O365_E1_PLUS")))
        evaluate(rules, **e1plus())
        evaluate(rules, **copilot())


def test_building_the_engine_takes_a_fixed_number_of_queries(
    fy24: Program, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(10):
        ProgramRules(fy24)


# -- R-ELIG-1 / R-ELIG-2: categories ------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "segment"),
    [
        ("commercial", "enterprise"),
        ("smc_corporate", "smc_c"),
        ("public_sector", "enterprise"),
        ("public_sector", "smc_c"),
        ("education", "enterprise"),
        ("education", "smc_c"),
    ],
)
def test_r_elig_1_eligible_categories(rules: ProgramRules, category: str, segment: str) -> None:
    assert_ok(evaluate(rules, category=category, segment=segment))


@pytest.mark.parametrize("category", ["non_profit", "us_federal", "gpp", "csp"])
def test_r_elig_2_ineligible_categories(rules: ProgramRules, category: str) -> None:
    result = evaluate(rules, category=category)
    assert rule_ids(result) == {"R-ELIG-2"}
    assert not result.ok


@pytest.mark.parametrize("category", ["commercial", "smc_corporate", "public_sector", "education"])
def test_r_elig_2_a_csp_deal_is_refused_whatever_the_category(
    rules: ProgramRules, category: str
) -> None:
    segment = "smc_c" if category == "smc_corporate" else "enterprise"
    result = evaluate(rules, category=category, segment=segment, channel="csp")
    assert rule_ids(result) == {"R-ELIG-2"}
    assert "Cloud Solution Provider (CSP)" in result.violations[0].message


@pytest.mark.parametrize("channel", ["ea", "mca_e", "mpsa", "other"])
def test_r_elig_2_other_licensing_channels_are_eligible(rules: ProgramRules, channel: str) -> None:
    assert_ok(evaluate(rules, channel=channel))


def test_r_elig_1_a_category_the_program_does_not_name_is_refused(rules: ProgramRules) -> None:
    result = evaluate(rules, category="consumer")
    assert rule_ids(result) == {"R-ELIG-1"}
    assert "consumer" in result.violations[0].message


# -- R-ELIG-3: prior M365 E3 licences -----------------------------------------------------


@pytest.mark.parametrize(
    ("segment", "licences", "expected"),
    [
        ("enterprise", 0, set()),
        ("enterprise", 999, set()),
        ("enterprise", 1000, {"R-ELIG-3"}),
        ("enterprise", 5000, {"R-ELIG-3"}),
        ("smc_c", 299, set()),
        ("smc_c", 300, {"R-ELIG-3"}),
    ],
)
def test_r_elig_3_licence_limits(
    rules: ProgramRules, segment: str, licences: int, expected: set[str]
) -> None:
    category = "commercial" if segment == "enterprise" else "smc_corporate"
    result = evaluate(rules, category=category, segment=segment, licences=licences)
    assert rule_ids(result) == expected


@pytest.mark.parametrize(
    ("segment", "licences"), [("enterprise", 5000), ("enterprise", 1000), ("smc_c", 300)]
)
def test_r_elig_3_the_copilot_offer_has_no_licence_threshold(
    rules: ProgramRules, segment: str, licences: int
) -> None:
    """R-ELIG-3 (round 2): the threshold answers a question about the M365 offers."""
    category = "commercial" if segment == "enterprise" else "smc_corporate"
    facts: dict[str, Any] = {"category": category, "segment": segment, "licences": licences}
    assert_ok(evaluate(rules, **facts, **copilot()))
    assert rule_ids(evaluate(rules, **facts)) == {"R-ELIG-3"}
    assert rule_ids(evaluate(rules, **facts, **migrate())) == {"R-ELIG-3"}


def test_r_elig_3_message_names_the_limit_and_the_count(rules: ProgramRules) -> None:
    (violation,) = evaluate(rules, licences=1234).violations
    assert "1,000" in violation.message and "1,234" in violation.message


# -- R-ELIG-4: nominated before the deal closes --------------------------------------------


def test_r_elig_4_expected_close_yesterday_is_refused_at_nomination(rules: ProgramRules) -> None:
    today = date(2024, 3, 1)
    result = evaluate(rules, stage="nomination", today=today, deal_date=today - timedelta(days=1))
    assert rule_ids(result) == {"R-ELIG-4"}


def test_r_elig_4_expected_close_today_is_accepted_at_nomination(rules: ProgramRules) -> None:
    today = date(2024, 3, 1)
    assert_ok(evaluate(rules, stage="nomination", today=today, deal_date=today))


def test_r_elig_4_future_close_is_accepted_at_nomination(rules: ProgramRules) -> None:
    assert_ok(evaluate(rules, stage="nomination", today=date(2024, 1, 15)))


def test_r_elig_4_is_a_nomination_check_only(rules: ProgramRules) -> None:
    assert_ok(evaluate(rules, stage="close", today=date(2024, 3, 2), deal_date=date(2024, 3, 1)))


def test_r_vou_1_a_deal_cannot_be_recorded_closed_before_its_date(rules: ProgramRules) -> None:
    result = evaluate(rules, stage="close", today=date(2024, 2, 29), deal_date=date(2024, 3, 1))
    assert rule_ids(result) == {"R-VOU-1"}
    assert_ok(evaluate(rules, stage="close", today=date(2024, 3, 1), deal_date=date(2024, 3, 1)))


# -- R-ELIG-6: ECIF -----------------------------------------------------------------------


def test_r_elig_6_ecif_funded_is_refused(rules: ProgramRules) -> None:
    assert rule_ids(evaluate(rules, ecif=True)) == {"R-ELIG-6"}


# -- R-ELIG-7: window and agreement type --------------------------------------------------


@pytest.mark.parametrize(
    ("deal_date", "in_window"),
    [
        (date(2023, 6, 30), False),
        (date(2023, 7, 1), True),
        (date(2024, 6, 30), True),
        (date(2024, 7, 1), False),
    ],
)
def test_r_elig_7_program_window(rules: ProgramRules, deal_date: date, in_window: bool) -> None:
    result = evaluate(rules, deal_date=deal_date, today=AFTER_WINDOW)
    if in_window:
        assert_ok(result)
    else:
        assert "R-ELIG-7" in rule_ids(result)
        assert "2023-07-01" in result.violations[0].message


def test_r_elig_7_window_message_at_nomination_says_expected(rules: ProgramRules) -> None:
    result = evaluate(rules, stage="nomination", today=date(2024, 6, 1), deal_date=date(2024, 7, 1))
    assert "R-ELIG-7" in rule_ids(result)
    assert any("expected to close" in v.message for v in result.violations)


@pytest.mark.parametrize("agreement", ["renewal", "mid_term"])
def test_r_elig_7_renewal_or_mid_term_needs_upsell(rules: ProgramRules, agreement: str) -> None:
    assert rule_ids(evaluate(rules, agreement=agreement)) == {"R-ELIG-7"}
    assert_ok(evaluate(rules, agreement=agreement, upsell=True))


def test_r_elig_7_a_new_purchase_needs_no_upsell(rules: ProgramRules) -> None:
    assert_ok(evaluate(rules, agreement="new", upsell=False))


# -- R-OFFER-1: one voucher per exclusive group --------------------------------------------


@pytest.mark.parametrize(
    "deal",
    [
        {"offer": "DEPLOY"},
        migrate(),
    ],
    ids=["DEPLOY", "MIGRATE"],
)
def test_r_offer_1_m365_group_already_held(rules: ProgramRules, deal: dict[str, Any]) -> None:
    assert_ok(evaluate(rules, **deal))
    result = evaluate(rules, held=["m365"], **deal)
    assert rule_ids(result) == {"R-OFFER-1"}
    assert "COPILOT" in result.violations[0].message  # tells the rep what still combines


def test_r_offer_1_copilot_combines_with_m365(rules: ProgramRules) -> None:
    assert_ok(evaluate(rules, held=["m365"], **copilot()))


def test_r_offer_1_copilot_group_already_held(rules: ProgramRules) -> None:
    assert rule_ids(evaluate(rules, held=["copilot"], **copilot())) == {"R-OFFER-1"}
    assert_ok(evaluate(rules, held=["copilot"]))  # DEPLOY with a Copilot voucher held


def test_r_offer_1_unknown_offer(rules: ProgramRules) -> None:
    result = evaluate(rules, offer="TRAINING")
    assert rule_ids(result) == {"R-OFFER-1"}
    assert result.cap is None and result.suggested_value is None


# -- R-OFFER-2: migration -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sources", "ok"),
    [
        ((), False),
        (("tenant_to_tenant",), False),
        (("office_on_prem",), True),
        (("competitor",), True),
        (("office_on_prem", "competitor"), True),
        (("tenant_to_tenant", "competitor"), True),
        (("tenant_to_tenant", "office_on_prem"), True),
    ],
)
def test_r_offer_2_migration_sources(
    rules: ProgramRules, sources: tuple[str, ...], ok: bool
) -> None:
    result = evaluate(rules, offer="MIGRATE", migration=sources)
    if ok:
        assert_ok(result)
    else:
        assert rule_ids(result) == {"R-OFFER-2"}


def test_r_offer_2_tenant_to_tenant_is_named_in_the_reason(rules: ProgramRules) -> None:
    (violation,) = evaluate(rules, offer="MIGRATE", migration=["tenant_to_tenant"]).violations
    assert violation.rule == "R-OFFER-2"
    assert "tenant-to-tenant" in violation.message.lower()


def test_r_offer_2_deploy_needs_no_migration(rules: ProgramRules) -> None:
    assert_ok(evaluate(rules, offer="DEPLOY", migration=()))


# -- R-WL-1: workloads --------------------------------------------------------------------


@pytest.mark.parametrize("workload", ["M365_E3", "M365_E5", "COMPLIANCE", "TEAMS_PHONE"])
def test_r_wl_1_standalone_workloads(rules: ProgramRules, workload: str) -> None:
    assert_ok(evaluate(rules, workloads=[workload]))
    assert_ok(evaluate(rules, workloads=[workload], **migrate()))


@pytest.mark.parametrize("frontline", ["FLW_F3", "FLW_F5"])
def test_r_wl_1_frontline_needs_new_e3_or_e5(rules: ProgramRules, frontline: str) -> None:
    assert rule_ids(evaluate(rules, workloads=[frontline])) == {"R-WL-1"}
    assert rule_ids(evaluate(rules, workloads=[frontline, "COMPLIANCE"])) == {"R-WL-1"}
    assert_ok(evaluate(rules, workloads=[frontline, "M365_E3"]))
    assert_ok(evaluate(rules, workloads=["M365_E5", frontline]))


def test_r_wl_1_no_workloads(rules: ProgramRules) -> None:
    assert rule_ids(evaluate(rules, workloads=[])) == {"R-WL-1"}


def test_r_wl_1_unknown_workload(rules: ProgramRules) -> None:
    assert rule_ids(evaluate(rules, workloads=["VISIO_PLAN_2"])) == {"R-WL-1"}
    result = evaluate(rules, workloads=["M365_E3", "VISIO_PLAN_2"])
    assert rule_ids(result) == {"R-WL-1"}
    assert "VISIO_PLAN_2" in result.violations[0].message


def test_r_wl_1_duplicate_workloads_count_once(rules: ProgramRules) -> None:
    assert_ok(evaluate(rules, workloads=["M365_E3", "M365_E3"]))
    assert len(evaluate(rules, workloads=["FLW_F3", "FLW_F3"]).violations) == 1


# -- R-WL-3: Copilot's workload -----------------------------------------------------------


def test_r_wl_3_copilot_workload_on_deploy(rules: ProgramRules) -> None:
    assert "R-WL-3" in rule_ids(evaluate(rules, workloads=["M365_COPILOT"]))
    assert rule_ids(evaluate(rules, workloads=["M365_E3", "M365_COPILOT"])) == {"R-WL-3"}


def test_r_wl_3_copilot_workload_on_migrate(rules: ProgramRules) -> None:
    result = evaluate(rules, **migrate(workloads=["M365_E3", "M365_COPILOT"]))
    assert rule_ids(result) == {"R-WL-3"}


def test_r_wl_3_m365_workload_on_copilot(rules: ProgramRules) -> None:
    assert "R-WL-3" in rule_ids(evaluate(rules, offer="COPILOT", workloads=["M365_E3"]))
    result = evaluate(rules, offer="COPILOT", workloads=["M365_COPILOT", "M365_E3"])
    assert rule_ids(result) == {"R-WL-3"}


def test_r_wl_3_copilot_with_its_workload(rules: ProgramRules) -> None:
    result = evaluate(rules, **copilot())
    assert_ok(result)
    assert result.exclusive_group == "copilot"


# -- R-WL-2: Office 365 E1+ ---------------------------------------------------------------


def test_r_wl_2_e1plus_first_day(rules: ProgramRules) -> None:
    assert_ok(
        evaluate(rules, **smc(country="IN", workloads=["O365_E1_PLUS"]), deal_date=date(2024, 5, 7))
    )


def test_r_wl_2_e1plus_day_before(rules: ProgramRules) -> None:
    result = evaluate(
        rules, **smc(country="IN", workloads=["O365_E1_PLUS"]), deal_date=date(2024, 5, 6)
    )
    assert rule_ids(result) == {"R-WL-2"}
    assert "2024-05-07" in result.violations[0].message


def test_r_wl_2_e1plus_last_day(rules: ProgramRules) -> None:
    assert_ok(evaluate(rules, **smc(country="IN", workloads=["O365_E1_PLUS"]), deal_date=TODAY))


def test_r_wl_2_e1plus_outside_the_listed_countries(rules: ProgramRules) -> None:
    result = evaluate(
        rules, **smc(country="US", workloads=["O365_E1_PLUS"]), deal_date=date(2024, 5, 20)
    )
    assert rule_ids(result) == {"R-WL-2"}
    assert "US" in result.violations[0].message


def test_r_wl_2_e1plus_enterprise(rules: ProgramRules) -> None:
    result = evaluate(
        rules,
        category="commercial",
        segment="enterprise",
        country="IN",
        workloads=["O365_E1_PLUS"],
        deal_date=date(2024, 5, 20),
    )
    assert rule_ids(result) == {"R-WL-2"}
    assert "SMC-C" in result.violations[0].message


@pytest.mark.parametrize(
    ("country", "ok"),
    [
        ("IN", True),  # India
        ("VN", True),  # ASEAN
        ("BR", True),  # LATAM
        ("TC", True),  # LATAM list (Turks and Caicos)
        ("AG", True),  # Caribbean New Markets
        ("TT", True),  # Caribbean New Markets
        ("CU", False),  # Caribbean, excluded by name
        ("US", False),
        ("GB", False),
        ("in", False),  # codes are upper-case ISO 3166
    ],
)
def test_r_wl_2_e1plus_countries(rules: ProgramRules, country: str, ok: bool) -> None:
    result = evaluate(
        rules, **smc(country=country, workloads=["O365_E1_PLUS"]), deal_date=date(2024, 5, 20)
    )
    if ok:
        assert_ok(result)
    else:
        assert rule_ids(result) == {"R-WL-2"}


def test_r_wl_2_e1plus_fails_every_restriction_at_once(rules: ProgramRules) -> None:
    result = evaluate(rules, country="CU", workloads=["O365_E1_PLUS"], deal_date=date(2024, 5, 6))
    assert [v.rule for v in result.violations] == ["R-WL-2", "R-WL-2", "R-WL-2"]


def test_r_wl_2_other_workloads_have_no_country_limit(rules: ProgramRules) -> None:
    assert_ok(evaluate(rules, **smc(country="CU")))


# -- R-CAP-1..3: the cap table ------------------------------------------------------------


def cap_of(result: Evaluation) -> tuple[Decimal, str]:
    assert result.cap is not None, result.violations
    return result.cap.cap, result.cap.row_key


@pytest.mark.parametrize(
    ("amount", "cap", "row"),
    [
        ("100000.00", "25000", "deploy-smc"),
        ("750000.00", "25000", "deploy-smc"),
        ("750000.01", "50000", "deploy-smc-large"),
        ("2000000.00", "50000", "deploy-smc-large"),  # SMC-C has no deal-size limit
    ],
)
def test_r_cap_1_deploy_smc(rules: ProgramRules, amount: str, cap: str, row: str) -> None:
    result = evaluate(rules, **smc(amount=amount))
    assert_ok(result)
    assert cap_of(result) == (Decimal(cap), row)
    assert result.suggested_value == min(Decimal(amount) / 10, Decimal(cap))


def test_r_cap_2_enterprise_no_limit_for_deals_closed_in_2023(rules: ProgramRules) -> None:
    result = evaluate(rules, amount="800000.00", deal_date=date(2023, 12, 31))
    assert_ok(result)
    assert cap_of(result) == (Decimal("75000"), "deploy-ent-h1")
    assert result.cap is not None and result.cap.max_deal is None
    assert result.suggested_value == Decimal("75000.00")


def test_r_cap_2_enterprise_limit_from_2024(rules: ProgramRules) -> None:
    at_limit = evaluate(rules, amount="750000.00", deal_date=date(2024, 1, 1))
    assert_ok(at_limit)
    assert cap_of(at_limit) == (Decimal("75000"), "deploy-ent-h2")
    assert at_limit.suggested_value == Decimal("75000.00")

    above = evaluate(rules, amount="750000.01", deal_date=date(2024, 1, 1))
    assert rule_ids(above) == {"R-CAP-2"}
    assert above.suggested_value is None
    assert cap_of(above) == (Decimal("75000"), "deploy-ent-h2")
    message = above.violations[0].message
    assert "$750,000.00" in message and "$750,000.01" in message


def test_r_cap_3_q4_issued_row_wins_for_large_deals(rules: ProgramRules) -> None:
    result = evaluate(
        rules, amount="800000.00", deal_date=date(2024, 4, 10), issue_date=date(2024, 4, 15)
    )
    assert_ok(result)
    assert cap_of(result) == (Decimal("95000"), "deploy-q4-large")
    assert result.suggested_value == Decimal("80000.00")


@pytest.mark.parametrize("segment", ["enterprise", "smc_c"])
def test_r_cap_2_q4_limit(rules: ProgramRules, segment: str) -> None:
    q4: dict[str, Any] = {
        "segment": segment,
        "deal_date": date(2024, 4, 10),
        "issue_date": date(2024, 4, 15),
    }
    at_limit = evaluate(rules, amount="950000.00", **q4)
    assert_ok(at_limit)
    assert cap_of(at_limit) == (Decimal("95000"), "deploy-q4-large")
    assert at_limit.suggested_value == Decimal("95000.00")


def test_r_cap_2_q4_limit_refuses_when_the_standing_row_refuses_too(rules: ProgramRules) -> None:
    """Enterprise deals from 2024 above 750K are excluded by the standing row as well, so
    the Q4 row's 950K limit refuses them (R-CAP-2) and the sentence names both limits."""
    q4: dict[str, Any] = {"deal_date": date(2024, 4, 10), "issue_date": date(2024, 4, 15)}
    above = evaluate(rules, amount="950000.01", **q4)
    assert rule_ids(above) == {"R-CAP-2"}
    assert cap_of(above) == (Decimal("95000"), "deploy-q4-large")
    (violation,) = above.violations
    assert "$950,000.00" in violation.message
    assert "standing row" in violation.message and "$750,000.00" in violation.message


@pytest.mark.parametrize(
    ("offer", "row", "cap"),
    [("DEPLOY", "deploy-smc-large", "50000"), ("MIGRATE", "migrate-smc-large", "65000")],
)
@pytest.mark.parametrize("issued", [date(2024, 3, 31), date(2024, 4, 1), date(2024, 6, 30)])
def test_r_cap_3_a_limited_time_row_never_takes_away(
    rules: ProgramRules, offer: str, row: str, cap: str, issued: date
) -> None:
    """R-CAP-3 (round 2): an SMC-C $1M deal is admitted by the standing full-year row;
    the Q4 row's "deals > 950K not eligible" does not take that away."""
    deal: dict[str, Any] = smc(amount="1000000.00", deal_date=date(2024, 3, 1), offer=offer)
    if offer == "MIGRATE":
        deal["migration"] = ("office_on_prem",)
    result = evaluate(rules, **deal, issue_date=issued)
    assert_ok(result)
    assert cap_of(result) == (Decimal(cap), row)
    assert result.suggested_value == Decimal(cap)
    assert result.cap is not None
    if issued >= date(2024, 4, 1):
        assert "never takes it away" in result.cap.reason
        assert "Q4" in result.cap.reason and "$950,000.00" in result.cap.reason
    else:
        assert "most specific" in result.cap.reason


def test_r_cap_3_the_row_that_applied_says_why(rules: ProgramRules) -> None:
    result = evaluate(
        rules, amount="800000.00", deal_date=date(2024, 4, 10), issue_date=date(2024, 4, 15)
    )
    assert result.cap is not None and result.cap.row_key == "deploy-q4-large"
    assert result.cap.reason.startswith("The most specific of 2 rows")
    assert "deploy" not in result.cap.reason  # labels, not keys


def test_r_cap_3_q4_row_is_keyed_on_the_issue_date(rules: ProgramRules) -> None:
    result = evaluate(
        rules, amount="800000.00", deal_date=date(2024, 3, 20), issue_date=date(2024, 3, 31)
    )
    assert rule_ids(result) == {"R-CAP-2"}
    assert cap_of(result) == (Decimal("75000"), "deploy-ent-h2")

    issued_in_q4 = evaluate(
        rules, amount="800000.00", deal_date=date(2024, 3, 20), issue_date=date(2024, 4, 1)
    )
    assert_ok(issued_in_q4)
    assert cap_of(issued_in_q4) == (Decimal("95000"), "deploy-q4-large")


def test_r_cap_3_q4_row_ends_with_the_quarter(rules: ProgramRules) -> None:
    result = evaluate(
        rules, amount="800000.00", deal_date=date(2024, 6, 30), issue_date=date(2024, 7, 1)
    )
    assert cap_of(result) == (Decimal("75000"), "deploy-ent-h2")
    assert rule_ids(result) == {"R-CAP-2"}


def test_r_cap_3_q4_row_only_for_deals_above_750k(rules: ProgramRules) -> None:
    q4: dict[str, Any] = {"deal_date": date(2024, 4, 10), "issue_date": date(2024, 4, 15)}
    assert cap_of(evaluate(rules, amount="750000.00", **q4)) == (Decimal("75000"), "deploy-ent-h2")
    assert cap_of(evaluate(rules, **smc(amount="750000.00"), **q4)) == (
        Decimal("25000"),
        "deploy-smc",
    )
    assert cap_of(evaluate(rules, **smc(amount="750000.01"), **q4)) == (
        Decimal("95000"),
        "deploy-q4-large",
    )


def test_r_cap_3_e1plus_row_wins(rules: ProgramRules) -> None:
    at_limit = evaluate(rules, **e1plus(amount="635000.00"))
    assert_ok(at_limit)
    assert cap_of(at_limit) == (Decimal("95000"), "deploy-e1plus")
    assert at_limit.suggested_value == Decimal("63500.00")  # not capped at 25,000 (deploy-smc)

    above = evaluate(rules, **e1plus(amount="635000.01"))
    assert rule_ids(above) == {"R-CAP-2"}
    assert cap_of(above) == (Decimal("95000"), "deploy-e1plus")


def test_r_cap_3_e1plus_row_wins_over_the_q4_row(rules: ProgramRules) -> None:
    result = evaluate(rules, **e1plus(amount="800000.00", issue_date=date(2024, 5, 25)))
    assert rule_ids(result) == {"R-CAP-2"}
    assert cap_of(result) == (Decimal("95000"), "deploy-e1plus")


@pytest.mark.parametrize(
    "workloads", [("O365_E1_PLUS",), ("O365_E1_PLUS", "M365_E3")], ids=["alone", "mixed"]
)
def test_r_cap_3_only_the_e1plus_row_covers_e1plus_so_the_refusal_stays(
    rules: ProgramRules, workloads: tuple[str, ...]
) -> None:
    """R-CAP-3 (round 2): the standing SMC-C row does not cover Office 365 E1+, so a deal
    above the E1+ row's 635K limit is refused, and the sentence says which workloads would
    qualify under the standing row."""
    result = evaluate(rules, **{**e1plus(amount="700000.00"), "workloads": workloads})
    assert rule_ids(result) == {"R-CAP-2"}
    (violation,) = result.violations
    assert "$635,000.00" in violation.message
    assert "Office 365 E1+ (E1, DLP, Entra ID P1, Intune) qualifies only under" in (
        violation.message
    )
    assert "standing row “M365 Deployment, SMC-C”" in violation.message
    for name in ("Microsoft 365 E3", "Microsoft 365 E5", "Teams Phone"):
        assert name in violation.message.split("would qualify:")[1]
    assert "Office 365 E1+" not in violation.message.split("would qualify:")[1]


def test_r_cap_3_e1plus_row_needs_the_e1plus_workload(rules: ProgramRules) -> None:
    result = evaluate(rules, **smc(country="IN", deal_date=date(2024, 5, 20)))
    assert cap_of(result) == (Decimal("25000"), "deploy-smc")


def test_r_cap_3_e1plus_migrate_row(rules: ProgramRules) -> None:
    result = evaluate(rules, **e1plus(amount="635000.00"), **migrate())
    assert_ok(result)
    assert cap_of(result) == (Decimal("95000"), "migrate-e1plus")
    assert rule_ids(evaluate(rules, **e1plus(amount="635000.01"), **migrate())) == {"R-CAP-2"}


@pytest.mark.parametrize(
    ("segment", "amount", "deal_date", "cap", "row"),
    [
        ("enterprise", "800000.00", date(2023, 12, 31), "100000", "migrate-ent-h1"),
        ("enterprise", "750000.00", date(2024, 1, 1), "100000", "migrate-ent-h2"),
        ("smc_c", "750000.00", date(2024, 3, 1), "40000", "migrate-smc"),
        ("smc_c", "750000.01", date(2024, 3, 1), "65000", "migrate-smc-large"),
    ],
)
def test_r_cap_1_migrate(
    rules: ProgramRules, segment: str, amount: str, deal_date: date, cap: str, row: str
) -> None:
    result = evaluate(rules, segment=segment, amount=amount, deal_date=deal_date, **migrate())
    assert_ok(result)
    assert cap_of(result) == (Decimal(cap), row)
    assert result.suggested_value == min(Decimal(amount) / 10, Decimal(cap))


def test_r_cap_2_migrate_enterprise_limit(rules: ProgramRules) -> None:
    result = evaluate(rules, amount="750000.01", deal_date=date(2024, 1, 1), **migrate())
    assert rule_ids(result) == {"R-CAP-2"}
    assert cap_of(result) == (Decimal("100000"), "migrate-ent-h2")


def test_r_cap_3_migrate_q4_row(rules: ProgramRules) -> None:
    q4: dict[str, Any] = {"deal_date": date(2024, 4, 10), "issue_date": date(2024, 4, 15)}
    result = evaluate(rules, amount="950000.00", **q4, **migrate())
    assert_ok(result)
    assert cap_of(result) == (Decimal("95000"), "migrate-q4-large")
    assert rule_ids(evaluate(rules, amount="950000.01", **q4, **migrate())) == {"R-CAP-2"}


@pytest.mark.parametrize("amount", ["0.00", "-1.00"])
def test_r_cap_2_deal_value_must_be_positive(rules: ProgramRules, amount: str) -> None:
    result = evaluate(rules, amount=amount)
    assert rule_ids(result) == {"R-CAP-2"}
    assert result.suggested_value is None


def test_r_cap_1_no_row_outside_the_window(rules: ProgramRules) -> None:
    result = evaluate(rules, deal_date=date(2023, 6, 30))
    assert rule_ids(result) == {"R-ELIG-7", "R-CAP-1"}
    assert result.cap is None and result.suggested_value is None


# -- R-CAP-4: the Copilot voucher's cap ---------------------------------------------------


@pytest.mark.parametrize(
    ("segment", "deal_date", "cap", "row"),
    [
        ("enterprise", date(2023, 7, 1), "50000", "ent-before-feb5"),
        ("enterprise", date(2024, 2, 4), "50000", "ent-before-feb5"),
        ("enterprise", date(2024, 2, 5), "75000", "ent-feb5-mar31-a"),  # not the 95,000 duplicate
        ("enterprise", date(2024, 3, 31), "75000", "ent-feb5-mar31-a"),
        ("enterprise", date(2024, 4, 1), "95000", "ent-from-apr1"),
        ("enterprise", date(2024, 6, 30), "95000", "ent-from-apr1"),
        ("smc_c", date(2024, 2, 4), "50000", "smc-before-feb5"),
        ("smc_c", date(2024, 2, 5), "75000", "smc-feb5-mar31-a"),  # not the 95,000 duplicate
        ("smc_c", date(2024, 3, 31), "75000", "smc-feb5-mar31-a"),
        ("smc_c", date(2024, 4, 1), "95000", "smc-from-apr1"),
    ],
)
def test_r_cap_4_copilot_part(
    rules: ProgramRules, segment: str, deal_date: date, cap: str, row: str
) -> None:
    result = evaluate(rules, segment=segment, deal_date=deal_date, amount="2000000.00", **copilot())
    assert_ok(result)
    assert cap_of(result) == (Decimal(cap), row)
    assert result.cap is not None and result.cap.max_deal is None
    assert result.suggested_value == Decimal(cap)


def test_r_cap_4_copilot_ignores_the_issue_date(rules: ProgramRules) -> None:
    result = evaluate(rules, deal_date=date(2024, 3, 31), issue_date=date(2024, 4, 15), **copilot())
    assert cap_of(result) == (Decimal("75000"), "ent-feb5-mar31-a")


def test_r_cap_4_copilot_outside_the_window_has_no_cap(rules: ProgramRules) -> None:
    result = evaluate(rules, deal_date=date(2024, 7, 1), today=AFTER_WINDOW, **copilot())
    assert rule_ids(result) == {"R-ELIG-7", "R-CAP-1"}


# -- the voucher value --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "value"),
    [
        ("123456.78", "12345.67"),  # 12,345.678 rounded down
        ("123456.79", "12345.67"),  # 12,345.679 rounded down, never up
        ("100000.00", "10000.00"),
        ("0.01", "0.00"),
        ("0.10", "0.01"),
        ("0.19", "0.01"),
        ("749999.99", "74999.99"),
        ("750000.00", "75000.00"),  # exactly the cap
    ],
)
def test_value_is_the_rate_rounded_down(rules: ProgramRules, amount: str, value: str) -> None:
    result = evaluate(rules, amount=amount)
    assert_ok(result)
    assert result.suggested_value == Decimal(value)
    assert result.suggested_value is not None
    assert result.suggested_value.as_tuple().exponent == -2


def test_value_of_a_large_deal_is_exactly_the_cap(rules: ProgramRules) -> None:
    result = evaluate(rules, amount="800000.00", deal_date=date(2023, 9, 1))
    assert result.cap is not None
    assert result.suggested_value == result.cap.cap == Decimal("75000.00")
    smc_result = evaluate(rules, **smc(amount="2000000.00"))
    assert smc_result.suggested_value == Decimal("50000.00")


def test_value_for_never_goes_above_the_cap_or_below_zero(rules: ProgramRules) -> None:
    assert rules.value_for(Decimal("1000000.00"), Decimal("25000.00")) == Decimal("25000.00")
    assert rules.value_for(Decimal("-5.00"), Decimal("25000.00")) == Decimal("0.00")


# -- scheme (Decision, public sector) -----------------------------------------------------


@pytest.mark.parametrize(
    ("category", "public_institution", "scheme"),
    [
        ("public_sector", False, "public_sector"),
        ("public_sector", True, "public_sector"),
        ("education", True, "public_sector"),
        ("education", False, "commercial"),
        ("commercial", False, "commercial"),
        ("commercial", True, "commercial"),  # only education counts as a public institution
        ("smc_corporate", True, "commercial"),
    ],
)
def test_scheme(rules: ProgramRules, category: str, public_institution: bool, scheme: str) -> None:
    result = evaluate(rules, category=category, public_institution=public_institution)
    assert_ok(result)
    assert result.scheme == scheme


# -- every failure at once, in plain sentences --------------------------------------------


def test_all_failures_are_reported_together(rules: ProgramRules) -> None:
    result = evaluate(rules, category="non_profit", licences=5000, ecif=True, agreement="renewal")
    assert {"R-ELIG-2", "R-ELIG-3", "R-ELIG-6", "R-ELIG-7"} <= rule_ids(result)
    assert not result.ok


def test_everything_wrong_with_a_migration_nomination(rules: ProgramRules) -> None:
    result = evaluate(
        rules,
        category="us_federal",
        licences=1000,
        offer="MIGRATE",
        workloads=["FLW_F3", "M365_COPILOT"],
        migration=["tenant_to_tenant"],
        amount="800000.00",
        deal_date=date(2024, 2, 1),
        ecif=True,
        agreement="mid_term",
        stage="nomination",
        today=date(2024, 2, 2),
        held=["m365"],
    )
    assert rule_ids(result) == {
        "R-ELIG-2",
        "R-ELIG-3",
        "R-ELIG-4",
        "R-ELIG-6",
        "R-ELIG-7",
        "R-OFFER-1",
        "R-OFFER-2",
        "R-WL-1",
        "R-WL-3",
        "R-CAP-2",
    }


FAILING_CASES: list[dict[str, Any]] = [
    {"category": "non_profit"},
    {"licences": 1000},
    {"segment": "smc_c", "licences": 300},
    {"stage": "nomination", "today": date(2024, 3, 2)},
    {"ecif": True},
    {"deal_date": date(2023, 6, 30)},
    {"deal_date": date(2024, 7, 1)},
    {"agreement": "renewal"},
    {"held": ["m365"]},
    {"offer": "TRAINING"},
    {"offer": "MIGRATE"},
    {"offer": "MIGRATE", "migration": ["tenant_to_tenant"]},
    {"workloads": []},
    {"workloads": ["FLW_F3"]},
    {"workloads": ["NOPE"]},
    {"workloads": ["M365_COPILOT"]},
    {"offer": "COPILOT", "workloads": ["M365_E3"]},
    {"workloads": ["O365_E1_PLUS"], "country": "CU", "deal_date": date(2024, 5, 6)},
    {"amount": "750000.01"},
    {"amount": "0.00"},
    {"today": date(2024, 2, 1)},
]


@pytest.mark.parametrize("case", FAILING_CASES)
def test_every_violation_is_a_sentence(rules: ProgramRules, case: dict[str, Any]) -> None:
    result = evaluate(rules, **case)
    assert result.violations, case
    for violation in result.violations:
        assert violation.rule.startswith("R-")
        message = violation.message
        assert message == message.strip() and len(message) > 15
        assert message[0].isupper() or message[0] in "'$", message
        assert message.endswith("."), message
        assert " None" not in message and "{" not in message, message  # no leaked repr


# -- R-VOU-2: expiry, via add_months ------------------------------------------------------


@pytest.mark.parametrize(
    ("issued", "months", "expires"),
    [
        (date(2024, 8, 31), 6, date(2025, 2, 28)),
        (date(2023, 8, 31), 6, date(2024, 2, 29)),  # leap year
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 3, 31), 6, date(2024, 9, 30)),
        (date(2024, 6, 30), 6, date(2024, 12, 30)),
        (date(2024, 12, 15), 6, date(2025, 6, 15)),
        (date(2024, 7, 1), 6, date(2025, 1, 1)),
        (date(2024, 12, 31), 12, date(2025, 12, 31)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
    ],
)
def test_r_vou_2_add_months(issued: date, months: int, expires: date) -> None:
    assert add_months(issued, months) == expires


def test_r_vou_2_validity_is_program_data(fy24: Program) -> None:
    assert fy24.voucher_validity_months == 6
    assert add_months(date(2024, 8, 31), fy24.voucher_validity_months) == date(2025, 2, 28)


# -- properties ---------------------------------------------------------------------------

FY24_DAYS = st.dates(min_value=date(2023, 7, 1), max_value=date(2024, 6, 30))
AMOUNTS = st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal("2000000.00"), places=2, allow_nan=False
)
M365_WORKLOADS = st.lists(
    st.sampled_from(["M365_E3", "M365_E5", "COMPLIANCE", "TEAMS_PHONE"]),
    min_size=1,
    max_size=4,
    unique=True,
).flatmap(
    lambda base: st.lists(st.sampled_from(["FLW_F3", "FLW_F5", "O365_E1_PLUS"]), unique=True).map(
        lambda extra: tuple(base + extra)
    )
)


@st.composite
def deals(draw: st.DrawFn) -> dict[str, Any]:
    offer = draw(st.sampled_from(["DEPLOY", "MIGRATE", "COPILOT"]))
    deal_date = draw(FY24_DAYS)
    issue_date = draw(st.dates(min_value=deal_date, max_value=date(2024, 6, 30)))
    case: dict[str, Any] = {
        "offer": offer,
        "segment": draw(st.sampled_from(["enterprise", "smc_c"])),
        "country": draw(st.sampled_from(["US", "IN", "BR", "AG", "CU"])),
        "amount": draw(AMOUNTS),
        "deal_date": deal_date,
        "issue_date": issue_date,
    }
    if offer == "COPILOT":
        case["workloads"] = ("M365_COPILOT",)
    else:
        case["workloads"] = draw(M365_WORKLOADS)
    if offer == "MIGRATE":
        case["migration"] = tuple(
            draw(
                st.lists(
                    st.sampled_from(["office_on_prem", "competitor", "tenant_to_tenant"]),
                    min_size=1,
                    unique=True,
                ).filter(lambda s: s != ["tenant_to_tenant"])
            )
        )
    return case


@PROPERTY_SETTINGS
@given(case=deals())
def test_property_value_never_above_the_cap(rules: ProgramRules, case: dict[str, Any]) -> None:
    result = evaluate(rules, **case)
    amount: Decimal = case["amount"]
    # In the window every offer and segment has a row (R-CAP-1).
    assert result.cap is not None, result.violations
    assert "R-CAP-1" not in rule_ids(result)
    cap = result.cap
    if cap.max_deal is not None and amount > cap.max_deal:
        assert "R-CAP-2" in rule_ids(result)
        assert result.suggested_value is None
        return
    assert "R-CAP-2" not in rule_ids(result)
    value = result.suggested_value
    assert value is not None
    assert Decimal("0") <= value <= cap.cap
    assert cast(int, value.as_tuple().exponent) >= -2
    assert value == value.quantize(Decimal("0.01"))
    expected = (amount * Decimal("0.10")).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    assert value == min(expected, cap.cap)
    assert evaluate(rules, **case) == result  # deterministic


@PROPERTY_SETTINGS
@given(case=deals())
@example(  # an Enterprise deal of 2023 above the Q4 row's limit: the standing row's
    case={
        "offer": "DEPLOY",
        "segment": "enterprise",
        "country": "US",
        "amount": Decimal("950000.01"),
        "deal_date": date(2023, 12, 1),
        "issue_date": date(2024, 4, 2),
        "workloads": ("M365_E3",),
    }
)
@example(  # the same deal closed in 2024: both rows refuse it
    case={
        "offer": "DEPLOY",
        "segment": "enterprise",
        "country": "US",
        "amount": Decimal("950000.01"),
        "deal_date": date(2024, 2, 1),
        "issue_date": date(2024, 4, 2),
        "workloads": ("M365_E3",),
    }
)
@example(  # with Office 365 E1+ no standing row covers the workloads: the Q4 row refuses
    case={
        "offer": "DEPLOY",
        "segment": "smc_c",
        "country": "US",
        "amount": Decimal("950000.01"),
        "deal_date": date(2023, 12, 1),
        "issue_date": date(2024, 4, 2),
        "workloads": ("M365_E3", "O365_E1_PLUS"),
    }
)
def test_property_most_specific_row_wins(rules: ProgramRules, case: dict[str, Any]) -> None:
    result = evaluate(rules, **case)
    assert result.cap is not None
    key = result.cap.row_key
    e1plus_row = (
        case["offer"] != "COPILOT"
        and case["segment"] == "smc_c"
        and "O365_E1_PLUS" in case["workloads"]
        and case["deal_date"] >= date(2024, 5, 7)
    )
    q4_row = (
        case["offer"] != "COPILOT"
        and case["amount"] > Decimal("750000")
        and case["issue_date"] >= date(2024, 4, 1)
    )
    # The standing rows with no deal limit: SMC-C deals above 750K, Enterprise deals
    # closed in Jul-Dec 2023 (the Jan-Jun 2024 rows stop at 750K). None covers Office 365
    # E1+, which only its own row (and the Q4 row) does.
    standing = "-smc-large" if case["segment"] == "smc_c" else "-ent-h1"
    standing_admits = "O365_E1_PLUS" not in case["workloads"] and (
        case["segment"] == "smc_c" or case["deal_date"] <= date(2023, 12, 31)
    )
    if e1plus_row:
        assert key.endswith("-e1plus")
    elif q4_row and case["amount"] > Decimal("950000") and standing_admits:
        # R-CAP-3 (round 2): the standing row admits what the Q4 row's limit excludes.
        assert key.endswith(standing)
        assert "R-CAP-2" not in rule_ids(result)
    elif q4_row and case["amount"] > Decimal("950000"):
        assert "R-CAP-2" in rule_ids(result)  # both rows' limits exclude the deal
    elif q4_row:
        assert key.endswith("-q4-large")
    if case["offer"] == "COPILOT":
        assert result.cap.max_deal is None
        assert key.startswith("ent-" if case["segment"] == "enterprise" else "smc-")
        assert not key.endswith("-b")  # superseded duplicates never apply


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=date(1900, 1, 1), max_value=date(9000, 12, 31)))
def test_property_add_six_months(day: date) -> None:
    later = add_months(day, 6)
    assert later > day
    assert later.day <= day.day
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == 6
    last = calendar.monthrange(later.year, later.month)[1]
    assert later.day == min(day.day, last)


# -- pinned readings and known gaps -------------------------------------------------------


def test_r_cap_3_at_nomination_the_expected_close_stands_in_for_the_issue_date(
    rules: ProgramRules,
) -> None:
    """An SMC-C $1M nomination expected to close in Q4 is eligible at the standing row."""
    result = evaluate(
        rules,
        **smc(amount="1000000.00", deal_date=date(2024, 5, 1)),
        stage="nomination",
        today=date(2024, 4, 2),
    )
    assert_ok(result)
    assert cap_of(result) == (Decimal("50000"), "deploy-smc-large")


def test_an_unknown_segment_is_a_violation_not_a_crash(rules: ProgramRules) -> None:
    result = evaluate(rules, segment="mid_market")
    assert {"R-ELIG-3", "R-CAP-1"} <= rule_ids(result)


def test_an_unknown_stage_is_a_programming_error(rules: ProgramRules) -> None:
    with pytest.raises(ValueError, match="stage"):
        evaluate(rules, stage="closed")
