"""Loading program data and keeping its cap tables consistent (R-CAP-3, R-CAP-4)."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar, cast

from django.db import models, transaction
from django.utils import timezone

from core.dates import add_years
from core.errors import ApplicationError
from core.money import CENT
from programs.models import (
    CapRow,
    CombinedCapRow,
    CountryList,
    Offer,
    Program,
    ProgramHoliday,
    RowStatus,
    SegmentRule,
    Workload,
)

DATA_DIR = Path(__file__).resolve().parent / "data"
SUPPORTED_SCHEMA_VERSIONS = {1}

Row = TypeVar("Row", CapRow, CombinedCapRow)


@dataclass(frozen=True)
class Overlap:
    """Two rows with the same key whose windows overlap; one is kept effective."""

    table: str
    effective: str
    superseded: str

    def __str__(self) -> str:
        return (
            f"{self.table}: rows '{self.effective}' and '{self.superseded}' overlap; "
            f"'{self.effective}' is effective, '{self.superseded}' is superseded."
        )


@dataclass
class LoadReport:
    program: str
    changed: bool
    created: int = 0
    updated: int = 0
    deleted: int = 0
    overlaps: list[Overlap] = field(default_factory=list)


def program_data_path(name: str) -> Path:
    """`fy24` -> programs/data/fy24.toml; a path to a .toml file is used as it is."""
    candidate = Path(name)
    if candidate.suffix == ".toml" and candidate.exists():
        return candidate
    path = DATA_DIR / f"{name.lower()}.toml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in DATA_DIR.glob("*.toml")))
        raise ApplicationError(
            f"No program data named {name!r}; known: {known}.", code="unknown_program"
        )
    return path


_YEAR = re.compile(r"\b(20\d{2})\b")


def _shift_dates(value: Any, years: int) -> Any:
    """Moves dates, and the years written in labels ("deals closed Jul-Dec 2023"), by N years."""
    if isinstance(value, date):
        return add_years(value, years)
    if isinstance(value, str):
        return _YEAR.sub(lambda m: str(int(m.group(1)) + years), value)
    if isinstance(value, dict):
        return {k: _shift_dates(v, years) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift_dates(v, years) for v in value]
    return value


def _resolve_extends(data: dict[str, Any]) -> dict[str, Any]:
    """`extends = "fy24"` takes another file's tables; `shift_years = N` moves every date
    by N years; the file's own `[program]` keys override the base's."""
    base_name = data.get("extends")
    if not base_name:
        return data
    base = _resolve_extends(tomllib.loads(program_data_path(base_name).read_text("utf-8")))
    merged = _shift_dates(base, int(data.get("shift_years", 0)))
    for key, value in data.items():
        if key == "program":
            merged["program"] = {**merged["program"], **value}
        elif key not in ("extends", "shift_years"):
            merged[key] = value
    return cast(dict[str, Any], merged)


def find_overlaps(
    rows: Sequence[Row], *, amount: Callable[[Row], Decimal], policy: str
) -> list[tuple[Row, Row]]:
    """Pairs (kept, superseded) of rows with one key and overlapping windows.

    Within a group of mutually overlapping rows the policy keeps one row (the lower or
    higher amount; ties go to the earlier key) and supersedes the others.
    """
    groups: dict[tuple[object, ...], list[Row]] = defaultdict(list)
    for row in rows:
        groups[row.overlap_key()].append(row)
    pairs: list[tuple[Row, Row]] = []
    for members in groups.values():
        ordered = sorted(members, key=lambda r: (r.window_start, r.key))
        for i, first in enumerate(ordered):
            for second in ordered[i + 1 :]:
                if second.window_start > first.window_end:
                    continue
                pick_lower = policy == Program.OverlapPolicy.KEEP_LOWER
                a, b = amount(first), amount(second)
                keep_first = (a <= b) if pick_lower else (a >= b)
                pairs.append((first, second) if keep_first else (second, first))
    return pairs


def _apply_overlaps(
    rows: Sequence[Row], *, table: str, amount: Callable[[Row], Decimal], policy: str
) -> list[Overlap]:
    pairs = find_overlaps(rows, amount=amount, policy=policy)
    superseded = {loser.pk: winner for winner, loser in pairs}
    for row in rows:
        winner = superseded.get(row.pk)
        status = RowStatus.SUPERSEDED if winner else RowStatus.EFFECTIVE
        winner_pk = winner.pk if winner else None
        if row.status != status or row.superseded_by_id != winner_pk:
            row.status = status
            row.superseded_by_id = winner_pk
            row.save(update_fields=["status", "superseded_by"])
    return [Overlap(table, w.key, loser.key) for w, loser in pairs]


def program_apply_overlap_policy(*, program: Program) -> list[Overlap]:
    """Detects overlapping cap rows and marks all but the kept one superseded."""
    policy = program.cap_overlap_policy
    overlaps = _apply_overlaps(
        list(program.cap_rows.order_by("key")),
        table="cap rows",
        amount=lambda r: r.cap,
        policy=policy,
    )
    overlaps += _apply_overlaps(
        list(program.combined_cap_rows.order_by("key")),
        table="combined caps",
        amount=lambda r: r.combined_cap,
        policy=policy,
    )
    return overlaps


class _Upserter:
    def __init__(self) -> None:
        self.created = 0
        self.updated = 0
        self._new: set[tuple[type, Any]] = set()

    def __call__(
        self, model: type[models.Model], lookup: dict[str, Any], values: dict[str, Any]
    ) -> Any:
        obj = model._default_manager.filter(**lookup).first()
        if obj is None:
            self.created += 1
            obj = model._default_manager.create(**lookup, **values)
            self._new.add((model, obj.pk))
            return obj
        changed = [name for name, value in values.items() if getattr(obj, name) != value]
        if changed:
            for name in changed:
                setattr(obj, name, values[name])
            obj.save(update_fields=changed)
            self.updated += 1
        return obj

    def set_m2m(self, manager: Any, targets: Iterable[models.Model]) -> None:
        wanted = {t.pk for t in targets}
        if set(manager.values_list("pk", flat=True)) != wanted:
            manager.set(wanted)
            if (type(manager.instance), manager.instance.pk) not in self._new:
                self.updated += 1


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(CENT)


def _delete_missing(
    model: type[models.Model], program: Program, keep: set[Any], field_name: str
) -> int:
    stale = model._default_manager.filter(program=program).exclude(**{f"{field_name}__in": keep})
    count = stale.count()
    stale.delete()
    return count


def program_load(*, name: str) -> LoadReport:
    """Loads program data from a versioned TOML file. Idempotent: a file already
    loaded (same SHA-256) changes nothing, so program managers' edits survive reruns."""
    path = program_data_path(name)
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    data = _resolve_extends(tomllib.loads(raw.decode("utf-8")))
    if data.get("schema_version") not in SUPPORTED_SCHEMA_VERSIONS:
        raise ApplicationError(f"{path.name}: unsupported schema_version.", code="bad_program_data")
    spec = data["program"]

    existing = Program.objects.filter(code=spec["code"]).first()
    if existing is not None and existing.source_sha256 == digest:
        return LoadReport(
            program=existing.code, changed=False, overlaps=_current_overlaps(existing)
        )

    with transaction.atomic():
        up = _Upserter()
        program_values = {k: v for k, v in spec.items() if k != "code"}
        program_values["value_rate"] = Decimal(str(spec["value_rate"]))
        program = up(Program, {"code": spec["code"]}, program_values)
        Program.objects.filter(pk=program.pk).update(
            source_file=path.name, source_sha256=digest, loaded_at=timezone.now()
        )

        deleted = 0
        for seg in data.get("segments", []):
            up(
                SegmentRule,
                {"program": program, "segment": seg["segment"]},
                {"max_prior_e3_licences": seg["max_prior_e3_licences"]},
            )
        deleted += _delete_missing(
            SegmentRule, program, {s["segment"] for s in data.get("segments", [])}, "segment"
        )

        lists = {}
        for cl in data.get("country_lists", []):
            lists[cl["code"]] = up(
                CountryList,
                {"program": program, "code": cl["code"]},
                {"name": cl["name"], "countries": list(cl["countries"])},
            )

        workloads = {}
        for wl in data.get("workloads", []):
            obj = up(
                Workload,
                {"program": program, "code": wl["code"]},
                {
                    "name": wl["name"],
                    "requires_any_of": list(wl.get("requires_any_of", [])),
                    "segments": list(wl.get("segments", [])),
                    "available_from": wl.get("available_from"),
                    "available_until": wl.get("available_until"),
                },
            )
            up.set_m2m(obj.country_lists, [lists[c] for c in wl.get("country_lists", [])])
            workloads[wl["code"]] = obj

        offers = {}
        for of in data.get("offers", []):
            obj = up(
                Offer,
                {"program": program, "code": of["code"]},
                {
                    "name": of["name"],
                    "exclusive_group": of["exclusive_group"],
                    "requires_migration": of.get("requires_migration", False),
                    "qualifying_migration_sources": list(
                        of.get("qualifying_migration_sources", [])
                    ),
                    "cap_source": of.get("cap_source", Offer.CapSource.ROWS),
                    "prior_licence_threshold": of.get("prior_licence_threshold", True),
                },
            )
            up.set_m2m(obj.workloads, [workloads[w] for w in of["workloads"]])
            offers[of["code"]] = obj

        for row in data.get("cap_rows", []):
            up(
                CapRow,
                {"program": program, "key": row["key"]},
                {
                    "label": row["label"],
                    "offer": offers[row["offer"]],
                    "segment": row.get("segment", ""),
                    "basis": row.get("basis", CapRow.Basis.DEAL_CLOSE),
                    "window_start": row["window_start"],
                    "window_end": row["window_end"],
                    "deal_closed_by": row.get("deal_closed_by"),
                    "deal_above": _money(row.get("deal_above")),
                    "required_workload": workloads[row["required_workload"]]
                    if row.get("required_workload")
                    else None,
                    "cap": _money(row["cap"]),
                    "max_deal": _money(row.get("max_deal")),
                    "priority": row.get("priority", 0),
                },
            )
        for row in data.get("combined_caps", []):
            up(
                CombinedCapRow,
                {"program": program, "key": row["key"]},
                {
                    "label": row["label"],
                    "segment": row["segment"],
                    "window_start": row["window_start"],
                    "window_end": row["window_end"],
                    "part_caps": {g: str(_money(v)) for g, v in row["part_caps"].items()},
                    "combined_cap": _money(row["combined_cap"]),
                    "note": row.get("note", ""),
                },
            )
        for hol in data.get("holidays", []):
            up(ProgramHoliday, {"program": program, "date": hol["date"]}, {"name": hol["name"]})

        deleted += _delete_missing(
            CapRow, program, {r["key"] for r in data.get("cap_rows", [])}, "key"
        )
        deleted += _delete_missing(
            CombinedCapRow, program, {r["key"] for r in data.get("combined_caps", [])}, "key"
        )
        deleted += _delete_missing(Offer, program, set(offers), "code")
        deleted += _delete_missing(Workload, program, set(workloads), "code")
        deleted += _delete_missing(CountryList, program, set(lists), "code")
        deleted += _delete_missing(
            ProgramHoliday, program, {h["date"] for h in data.get("holidays", [])}, "date"
        )

        overlaps = program_apply_overlap_policy(program=program)

    return LoadReport(
        program=program.code,
        changed=True,
        created=up.created,
        updated=up.updated,
        deleted=deleted,
        overlaps=overlaps,
    )


def _current_overlaps(program: Program) -> list[Overlap]:
    out: list[Overlap] = []
    for table, qs in (("cap rows", program.cap_rows), ("combined caps", program.combined_cap_rows)):
        for row in (
            qs.filter(status=RowStatus.SUPERSEDED).select_related("superseded_by").order_by("key")
        ):
            if row.superseded_by is not None:
                out.append(Overlap(table, row.superseded_by.key, row.key))
    return out
