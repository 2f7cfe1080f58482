"""Program data, not code: the FY24 file loads, reloads as a no-op, and
its overlapping R-CAP-4 rows are detected with the lower one kept effective."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any, cast

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.forms.models import model_to_dict

from programs.models import CapRow, CombinedCapRow, CountryList, Offer, Program, RowStatus, Workload
from programs.services import find_overlaps, program_apply_overlap_policy, program_load

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def _snapshot() -> dict[str, list[dict[str, Any]]]:
    out = {}
    for model in (Program, CapRow, CombinedCapRow, Offer, Workload, CountryList):
        out[model.__name__] = [model_to_dict(o) for o in model.objects.order_by("pk")]
    return out


def test_load_fy24_creates_the_faq_tables(fy24: Program) -> None:
    assert fy24.name.startswith("FY24")
    assert set(fy24.offers.values_list("code", flat=True)) == {"DEPLOY", "MIGRATE", "COPILOT"}
    groups = dict(fy24.offers.values_list("code", "exclusive_group"))
    assert groups["DEPLOY"] == groups["MIGRATE"] != groups["COPILOT"]  # R-OFFER-1
    assert fy24.cap_rows.count() == 12
    assert fy24.combined_cap_rows.count() == 8
    assert fy24.reminder_days == [90, 30, 7]
    e1plus = fy24.workloads.get(code="O365_E1_PLUS")
    countries = {c for cl in e1plus.country_lists.all() for c in cl.countries}
    assert {"IN", "BR", "VN", "TC", "AG"} <= countries and "CU" not in countries  # R-WL-2
    assert fy24.segment_rules.get(segment="enterprise").max_prior_e3_licences == 1000


def test_overlapping_copilot_rows_keep_the_lower_cap_effective(fy24: Program) -> None:
    superseded = CombinedCapRow.objects.filter(status=RowStatus.SUPERSEDED).select_related(
        "superseded_by"
    )
    assert {(r.key, cast(CombinedCapRow, r.superseded_by).key) for r in superseded} == {
        ("ent-feb5-mar31-b", "ent-feb5-mar31-a"),
        ("smc-feb5-mar31-b", "smc-feb5-mar31-a"),
    }
    effective = CombinedCapRow.objects.get(key="ent-feb5-mar31-a")
    assert effective.status == RowStatus.EFFECTIVE and effective.combined_cap == Decimal(
        "150000.00"
    )
    assert CombinedCapRow.objects.get(key="smc-feb5-mar31-a").combined_cap == Decimal("125000.00")
    assert not CapRow.objects.filter(status=RowStatus.SUPERSEDED).exists()


def test_second_load_changes_nothing(fy24: Program) -> None:
    before = _snapshot()
    report = program_load(name="fy24")
    assert report.changed is False
    assert len(report.overlaps) == 2
    assert _snapshot() == before


def test_reload_after_edit_keeps_program_managers_edit(fy24: Program) -> None:
    Program.objects.filter(pk=fy24.pk).update(reminder_days=[60, 14])
    program_load(name="fy24")
    assert Program.objects.get(pk=fy24.pk).reminder_days == [60, 14]


def test_changed_file_updates_rows_in_place(fy24: Program, tmp_path: Path) -> None:
    text = (ROOT / "programs/data/fy24.toml").read_text()
    edited = text.replace(
        'key = "deploy-smc"\nlabel = "M365 Deployment, SMC-C"',
        'key = "deploy-smc"\nlabel = "Edited"',
    )
    assert edited != text
    path = tmp_path / "fy24-edit.toml"
    path.write_text(edited)
    row_pk = CapRow.objects.get(key="deploy-smc").pk
    report = program_load(name=str(path))
    assert report.changed and report.created == 0 and report.updated == 1 and report.deleted == 0
    assert CapRow.objects.get(pk=row_pk).label == "Edited"


def test_policy_keep_higher_flips_the_effective_row(fy24: Program) -> None:
    fy24.cap_overlap_policy = Program.OverlapPolicy.KEEP_HIGHER
    fy24.save()
    program_apply_overlap_policy(program=fy24)
    assert CombinedCapRow.objects.get(key="ent-feb5-mar31-b").status == RowStatus.EFFECTIVE
    assert CombinedCapRow.objects.get(key="ent-feb5-mar31-a").status == RowStatus.SUPERSEDED


def test_overlap_detection_ignores_adjacent_windows_and_other_keys(fy24: Program) -> None:
    rows = list(CombinedCapRow.objects.filter(segment="enterprise"))
    pairs = find_overlaps(rows, amount=lambda r: r.combined_cap, policy="keep_lower")
    assert [(a.key, b.key) for a, b in pairs] == [("ent-feb5-mar31-a", "ent-feb5-mar31-b")]
    smc_and_ent = list(CombinedCapRow.objects.filter(key__in=["ent-from-apr1", "smc-from-apr1"]))
    assert find_overlaps(smc_and_ent, amount=lambda r: r.combined_cap, policy="keep_lower") == []


def test_overlapping_cap_rows_are_detected_too(fy24: Program) -> None:
    row = CapRow.objects.get(key="deploy-smc")
    row.pk = None
    row.key = "deploy-smc-duplicate"
    row.cap = Decimal("20000.00")
    row.save()
    overlaps = program_apply_overlap_policy(program=fy24)
    assert any(
        o.superseded == "deploy-smc" and o.effective == "deploy-smc-duplicate" for o in overlaps
    )
    assert CapRow.objects.get(key="deploy-smc").status == RowStatus.SUPERSEDED


def test_command_reports_load_and_overlaps() -> None:
    out = StringIO()
    call_command("load_program", "fy24", stdout=out)
    assert "loaded" in out.getvalue() and "superseded" in out.getvalue()
    out = StringIO()
    call_command("load_program", "fy24", stdout=out)
    assert "nothing changed" in out.getvalue()


def test_unknown_program_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match="No program data named 'fy99'"):
        call_command("load_program", "fy99")


# No FY24 number, date or country list appears in Python (program-rules.md).
FY24_LITERALS = re.compile(
    r"""(20(23|24)[-, ]\s*0?\d)"""
    r"""|(?<![\d.])(75_?000|95_?000|750_?000|950_?000|635_?000|125_?000|150_?000|190_?000)\b"""
    r"""|["'](BD|KH|LA|MV|MM|NP|LK|AQ|BZ|BT|TC)["']"""
)


def test_no_fy24_numbers_in_python() -> None:
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in {"tests", ".venv", "bench"} or "migrations" in rel.parts:
            continue
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            if FY24_LITERALS.search(line):
                offenders.append(f"{rel}:{lineno}: {line.strip()}")
    assert offenders == []


def test_demo_program_extends_fy24_with_dates_moved() -> None:
    report = program_load(name="demo")
    assert report.changed and len(report.overlaps) == 2
    demo = Program.objects.get(code="DEMO-FY27")
    fy24 = (
        Program.objects.get(code="FY24-MWSDO")
        if Program.objects.filter(code="FY24-MWSDO")
        else None
    )
    assert fy24 is None  # extends reads the file, it does not need FY24 loaded
    assert (demo.window_start.year, demo.window_end.year) == (2026, 2027)
    row = demo.cap_rows.get(key="deploy-q4-large")
    assert (row.window_start.isoformat(), cast(date, row.deal_closed_by).isoformat()) == (
        "2027-04-01",
        "2027-06-30",
    )
    assert row.cap == Decimal("95000.00") and demo.offers.count() == 3
    assert demo.cap_rows.get(key="deploy-ent-h1").label.endswith("Jul-Dec 2026")
    assert (
        demo.combined_cap_rows.get(key="ent-before-feb5").label
        == "Enterprise, deals before 2027-02-05"
    )
    assert program_load(name="demo").changed is False
