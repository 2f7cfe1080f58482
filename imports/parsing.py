"""Reading an uploaded nomination file (CSV or XLSX) into rows of strings, and turning one
row's strings into typed values with per-field format errors.

File-level problems (too large, too many rows, unreadable, missing columns) raise
`ApplicationError`; a row's problems are `Violation`s with rule "FORMAT" (the program
rules are checked later, by the rules engine)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files import File
from django.db.models import TextChoices

from core.choices import LicensingChannel
from core.errors import ApplicationError, Violation
from core.money import CENT
from nominations.models import AgreementType, MigrationSource

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 64
FORMAT = "FORMAT"

REQUIRED_COLUMNS = ("customer_tpid", "offer", "workloads", "deal_value", "expected_close_date")
OPTIONAL_COLUMNS = (
    "agreement_type",
    "licensing_channel",
    "upsell_expansion",
    "migration_sources",
    "ecif_funded",
    "notes",
    "nominated_by",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

_TRUE = {"yes", "y", "true", "1"}
_FALSE = {"no", "n", "false", "0", ""}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
_SPLIT = re.compile(r"[;|]")
_NOTES_MAX = 2000
_DEAL_MAX = Decimal("999999999999.99")  # MoneyField: 14 digits, 2 decimals


@dataclass
class Table:
    """The data rows of a file: each row's number as a spreadsheet shows it (the header is
    row 1) and its cells by normalised column name; blank rows are left out."""

    columns: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


def column_key(header: object) -> str:
    return re.sub(r"[\s\-]+", "_", str(header or "").strip().lower())


def read_table(upload: File[Any], *, required: Sequence[str] = REQUIRED_COLUMNS) -> Table:
    name = (upload.name or "").lower()
    if upload.size is not None and upload.size > MAX_BYTES:
        raise ApplicationError(_too_large(upload.size), code="file_too_large")
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ApplicationError(_too_large(len(data)), code="file_too_large")
    if not data.strip():
        raise ApplicationError("The file is empty.", code="file_empty")
    if name.endswith(".xls"):
        raise ApplicationError(
            "Old Excel .xls files are not read; save the sheet as .xlsx or CSV.",
            code="file_format",
        )
    if data[:4] == b"PK\x03\x04" or name.endswith(".xlsx"):
        records = _xlsx_records(data)
    else:
        records = _csv_records(data)
    return _table(records, required=required)


def _too_large(size: int) -> str:
    return (
        f"The file is {size / 1024 / 1024:.1f} MB; files up to "
        f"{MAX_BYTES // 1024 // 1024} MB are accepted. Split it into several imports."
    )


def _csv_records(data: bytes) -> Iterator[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApplicationError(
            "The CSV file is not UTF-8 text; save it as “CSV UTF-8” and upload it again.",
            code="file_encoding",
        ) from exc
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from reader
    except csv.Error as exc:
        raise ApplicationError(
            f"The CSV file cannot be read near line {reader.line_num}: {exc}.", code="file_format"
        ) from exc


def _xlsx_records(data: bytes) -> Iterator[list[str]]:
    from zipfile import BadZipFile

    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ApplicationError(
            "The file cannot be read as an Excel .xlsx workbook.", code="file_format"
        ) from exc
    try:
        if not workbook.worksheets:
            return
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
            yield [_cell_text(v) for v in values]
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _table(records: Iterable[list[str]], *, required: Sequence[str]) -> Table:
    iterator = iter(records)
    header: list[str] | None = None
    number = 0
    for record in iterator:
        number += 1
        if any(cell.strip() for cell in record):
            header = [column_key(h) for h in record]
            break
    if header is None:
        raise ApplicationError("The file has no header row.", code="file_empty")
    seen = [h for h in header if h]
    duplicates = sorted({h for h in seen if seen.count(h) > 1 and h in COLUMNS})
    if duplicates:
        raise ApplicationError(
            "These columns appear more than once: " + ", ".join(duplicates) + ".",
            code="duplicate_columns",
        )
    missing = [c for c in required if c not in header]
    if missing:
        raise ApplicationError(
            "Required columns are missing: "
            + ", ".join(missing)
            + ". The header row must name: "
            + ", ".join(required)
            + " (optional: "
            + ", ".join(c for c in COLUMNS if c not in required)
            + ").",
            code="missing_columns",
        )
    positions = {name: i for i, name in enumerate(header) if name in COLUMNS}
    table = Table(columns=[c for c in COLUMNS if c in positions])
    for record in iterator:
        number += 1
        if not any(cell.strip() for cell in record):
            continue
        if len(table.rows) >= MAX_ROWS:
            raise ApplicationError(
                f"The file has more than {MAX_ROWS:,} rows; split it into several imports.",
                code="too_many_rows",
            )
        cells = {
            name: (record[i].strip() if i < len(record) else "") for name, i in positions.items()
        }
        table.rows.append((number, cells))
    if not table.rows:
        raise ApplicationError("The file has a header row but no data rows.", code="file_empty")
    return table


# -- one row ----------------------------------------------------------------------------------


@dataclass
class RowValues:
    """A row's cells as typed values; a field that could not be read is None."""

    customer_tpid: str
    offer: str
    workloads: list[str]
    deal_value: Decimal | None
    expected_close_date: date | None
    agreement_type: str
    licensing_channel: str
    upsell_expansion: bool
    migration_sources: list[str]
    ecif_funded: bool
    notes: str
    nominated_by: str
    errors: list[Violation] = field(default_factory=list)

    def fail(self, column: str, message: str) -> None:
        self.errors.append(Violation(FORMAT, f"{column}: {message}"))


def split_list(text: str) -> list[str]:
    return [part.strip() for part in _SPLIT.split(text) if part.strip()]


def parse_row(cells: dict[str, str]) -> RowValues:
    get = cells.get
    values = RowValues(
        customer_tpid=get("customer_tpid", ""),
        offer=get("offer", "").upper(),
        workloads=list(dict.fromkeys(w.upper() for w in split_list(get("workloads", "")))),
        deal_value=None,
        expected_close_date=None,
        agreement_type=AgreementType.NEW,
        licensing_channel=LicensingChannel.EA,
        upsell_expansion=False,
        migration_sources=[],
        ecif_funded=False,
        notes=get("notes", ""),
        nominated_by=get("nominated_by", ""),
    )
    if not values.customer_tpid:
        values.fail("customer_tpid", "the customer's TPID is required.")
    if not values.offer:
        values.fail("offer", "the offer code is required (e.g. DEPLOY).")
    values.deal_value = _decimal(values, get("deal_value", ""))
    values.expected_close_date = _date(values, get("expected_close_date", ""))
    values.agreement_type = _choice(
        values, "agreement_type", get("agreement_type", ""), AgreementType, AgreementType.NEW
    )
    values.licensing_channel = _choice(
        values,
        "licensing_channel",
        get("licensing_channel", ""),
        LicensingChannel,
        LicensingChannel.EA,
    )
    values.upsell_expansion = _boolean(values, "upsell_expansion", get("upsell_expansion", ""))
    values.ecif_funded = _boolean(values, "ecif_funded", get("ecif_funded", ""))
    values.migration_sources = _migration_sources(values, get("migration_sources", ""))
    if len(values.notes) > _NOTES_MAX:
        values.fail("notes", f"at most {_NOTES_MAX:,} characters ({len(values.notes):,} given).")
    return values


def _decimal(values: RowValues, text: str) -> Decimal | None:
    cleaned = text.replace("$", "").replace("USD", "").replace(" ", "").replace("\u00a0", "")
    if _THOUSANDS.match(cleaned):
        cleaned = cleaned.replace(",", "")
    if not cleaned:
        values.fail("deal_value", "the expected deal value in USD is required.")
        return None
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        values.fail("deal_value", f"{text!r} is not a number (write 250000.00, in USD).")
        return None
    if amount != amount.quantize(CENT):
        values.fail("deal_value", f"{text!r} has more than 2 decimals.")
        return None
    if abs(amount) > _DEAL_MAX:
        values.fail("deal_value", f"{text!r} is too large.")
        return None
    return amount.quantize(CENT)


def _date(values: RowValues, text: str) -> date | None:
    if not text:
        values.fail("expected_close_date", "the expected close date is required (YYYY-MM-DD).")
        return None
    if _DATE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    values.fail("expected_close_date", f"{text!r} is not a date written YYYY-MM-DD.")
    return None


def _choice(
    values: RowValues, column: str, text: str, choices: type[TextChoices], default: str
) -> str:
    """An optional code column: blank is the default, anything else must be a code."""
    key = column_key(text)
    if not key:
        return default
    if key in choices.values:
        return key
    values.fail(column, f"{text!r} is not one of {', '.join(choices.values)}.")
    return default


def _boolean(values: RowValues, column: str, text: str) -> bool:
    key = text.strip().lower()
    if key in _TRUE:
        return True
    if key not in _FALSE:
        values.fail(column, f"{text!r} is not yes or no.")
    return False


def _migration_sources(values: RowValues, text: str) -> list[str]:
    sources = []
    for part in split_list(text):
        key = column_key(part)
        if key in MigrationSource.values:
            sources.append(key)
        else:
            values.fail(
                "migration_sources",
                f"{part!r} is not one of {', '.join(MigrationSource.values)}.",
            )
    return list(dict.fromkeys(sources))
