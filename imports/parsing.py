"""Reading an uploaded nomination file (CSV or XLSX) into rows of strings, and turning one
row's strings into typed values with per-field format errors.

File-level problems (too large, too many rows, unreadable, missing columns) raise
`ApplicationError`; a row's problems are `Violation`s with rule "FORMAT" (the program
rules are checked later, by the rules engine).

An upload is untrusted: everything it makes the web process read is bounded before the
work is done, and each bound refuses the file with a sentence naming it (docs/security.md):

- the upload: `MAX_BYTES`;
- rows: every row read counts, blank or not, and reading stops at the first row past
  `MAX_ROWS` below the header (a file of 200,000 blank lines is refused, not skimmed);
- cells: a row holds at most `MAX_CELLS_PER_ROW` cells and values only in its first
  `MAX_COLUMNS` columns; a cell at most `MAX_CELL_CHARS` characters and no NUL (nor any
  character a database cannot store); all kept cells together at most `MAX_TEXT_CHARS`;
- an .xlsx is checked before openpyxl opens it (`_check_xlsx`): at most `MAX_PARTS` zip
  members, none unpacking to more than `MAX_UNPACKED` bytes or at a ratio above
  `MAX_RATIO`, together at most `MAX_UNPACKED` bytes, counted as they are unpacked; its
  XML at most `MAX_XML_ELEMENTS` elements, with no DOCTYPE, every sheet within the row
  and cell bounds above;
- anything else that goes wrong while reading (a truncated or damaged zip, XML that is
  not a workbook, a CSV that is not UTF-8) is the refusal "cannot be read", never a 500.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.parsers import expat

from django.core.files import File
from django.db.models import TextChoices

from core.choices import LicensingChannel
from core.csvsafe import csv_restored
from core.errors import ApplicationError, Violation
from core.money import CENT
from nominations.models import AgreementType, MigrationSource

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000  # below the header row; blank rows count
MAX_COLUMNS = 64  # values only in columns A to BL
MAX_CELLS_PER_ROW = 16_384  # Excel's own width: cells of one row, blank ones included
MAX_CELL_CHARS = 10_000
MAX_TEXT_CHARS = MAX_BYTES  # the kept cells together: no more text than a CSV can carry
# .xlsx only: the zip and the XML inside it.
MAX_PARTS = 1_000
MAX_UNPACKED = 50 * 1024 * 1024
MAX_RATIO = 100  # uncompressed / compressed, judged on parts larger than RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024
MAX_XML_ELEMENTS = 1_000_000
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
# The columns an error report adds in front of a refused row's own (imports/pages.py):
# read back, they are left out, so a corrected report imports as it is.
REPORT_COLUMNS = ("source_row", "error_rules", "errors")

_TRUE = {"yes", "y", "true", "1"}
_FALSE = {"no", "n", "false", "0", ""}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
_SPLIT = re.compile(r"[;|]")
_NOTES_MAX = 2000
_DEAL_MAX = Decimal("999999999999.99")  # MoneyField: 14 digits, 2 decimals
# NUL and lone surrogates: PostgreSQL stores neither in text or jsonb.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_CHUNK = 64 * 1024


@dataclass
class Table:
    """The data rows of a file: each row's number as a spreadsheet shows it (the header is
    row 1) and its cells by normalised column name; blank rows are left out.

    `header` is the header row as written (blank and report columns left out), so an error
    report can give a refused row back with every column of the file; `extras[i]` holds
    row i's cells of the columns the import does not read (`extra_columns`), in order."""

    columns: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    extras: list[list[str]] = field(default_factory=list)


def column_key(header: object) -> str:
    return re.sub(r"[\s\-]+", "_", str(header or "").strip().lower())


def column_letter(number: int) -> str:
    """1 -> A, 27 -> AA, as a spreadsheet names its columns."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


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


def _too_many_rows(what: str = "The file") -> ApplicationError:
    return ApplicationError(
        f"{what} has more than {MAX_ROWS:,} rows below the header row (blank or formatted "
        f"rows count too: only rows 1 to {MAX_ROWS + 1:,} are read). Delete the empty rows "
        "below your data, or split the file into several imports.",
        code="too_many_rows",
    )


def _too_many_cells(where: str) -> ApplicationError:
    return ApplicationError(
        f"{where} has more than {MAX_CELLS_PER_ROW:,} cells; a row may hold at most "
        f"{MAX_CELLS_PER_ROW:,}, blank ones included.",
        code="too_many_cells",
    )


def _beyond_columns(row: int, column: int) -> ApplicationError:
    return ApplicationError(
        f"Row {row} has a value in column {column_letter(column)}; only the first "
        f"{MAX_COLUMNS} columns (A to {column_letter(MAX_COLUMNS)}) are read. Delete the "
        "columns to the right of your data and upload the file again.",
        code="too_many_columns",
    )


def _unreadable_xlsx() -> ApplicationError:
    return ApplicationError(
        "The file cannot be read as an Excel .xlsx workbook: it is damaged, truncated or "
        "not a workbook. Save it again from Excel (or as CSV) and upload it again.",
        code="file_format",
    )


# -- CSV --------------------------------------------------------------------------------------


def _csv_records(data: bytes) -> Iterator[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApplicationError(
            "The CSV file is not UTF-8 text; save it as “CSV UTF-8” and upload it again.",
            code="file_encoding",
        ) from exc
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise ApplicationError(
            f"Line {line} of the CSV file contains a NUL character, which cannot be stored; "
            "remove it and upload the file again.",
            code="nul_character",
        )
    first_line = text[: text.find("\n")] if "\n" in text else text
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(_csv_lines(text, delimiter), delimiter=delimiter)
    try:
        yield from reader
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise ApplicationError(
                f"A cell near line {reader.line_num} of the CSV file is longer than "
                f"{MAX_CELL_CHARS:,} characters; cells of at most {MAX_CELL_CHARS:,} "
                "characters are read.",
                code="cell_too_long",
            ) from exc
        raise ApplicationError(
            f"The CSV file cannot be read near line {reader.line_num}: {exc}.", code="file_format"
        ) from exc


def _csv_lines(text: str, delimiter: str) -> Iterator[str]:
    """The physical lines of a CSV text, as `csv.reader` reads them, refusing a record of
    more than `MAX_CELLS_PER_ROW` cells before the reader builds it: one 10 MB line of
    commas would otherwise become a list of ten million cells. Delimiters inside quotes
    are not counted; a quoted cell may span lines."""
    quoted = False
    cells = 1
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):
        parts = line.split('"')
        for index, part in enumerate(parts):
            if (index % 2 == 0) != quoted:  # outside quotes
                cells += part.count(delimiter)
        if len(parts) % 2 == 0:
            quoted = not quoted
        if cells > MAX_CELLS_PER_ROW:
            raise _too_many_cells(f"Line {number} of the CSV file")
        if not quoted:
            cells = 1
        yield line


# -- XLSX -------------------------------------------------------------------------------------


def _xlsx_records(data: bytes) -> Iterator[list[str]]:
    """The first sheet's rows, at most `MAX_ROWS` + 2 of them and `MAX_COLUMNS` cells each,
    once `_check_xlsx` has bounded what openpyxl will unpack and parse. openpyxl raises
    almost anything on a crafted file, while opening it or while reading rows: every such
    error is the refusal "cannot be read"."""
    import openpyxl

    try:
        _check_xlsx(data)
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ApplicationError:
        raise
    except Exception as exc:  # a damaged workbook: whatever openpyxl or zipfile raised
        raise _unreadable_xlsx() from exc
    try:
        if not workbook.worksheets:
            return
        sheet = workbook.worksheets[0]
        # Both bounds given: openpyxl would otherwise take them from the sheet's own
        # <dimension>, and pad missing rows up to it.
        rows = sheet.iter_rows(
            min_row=1, max_row=MAX_ROWS + 2, max_col=MAX_COLUMNS, values_only=True
        )
        for values in rows:
            yield [_cell_text(v) for v in values]
    except ApplicationError:
        raise
    except Exception as exc:  # damage found while reading rows (truncated XML, bad CRC)
        raise _unreadable_xlsx() from exc
    finally:
        workbook.close()


def _check_xlsx(data: bytes) -> None:
    """Bounds an .xlsx before openpyxl reads it: the zip's members by their declared sizes
    and ratios, then every member as it is unpacked (its actual size), and every XML
    member by a streaming parse that keeps nothing (`_XmlScan`). openpyxl reads through
    `zipfile`, which never unpacks more than a member's declared size (a member that
    would is refused there for its CRC), so the bounds hold for what openpyxl reads."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_PARTS:
            raise ApplicationError(
                f"The workbook holds {len(members):,} parts; at most {MAX_PARTS:,} are read.",
                code="xlsx_too_large",
            )
        declared = 0
        for member in members:
            _check_member(member)
            declared += member.file_size
        if declared > MAX_UNPACKED:
            raise _unpacks_to(declared)
        scan = _XmlScan()
        unpacked = 0
        for member in members:
            parser = scan.parser()
            with archive.open(member) as stream:
                while chunk := stream.read(_CHUNK):
                    unpacked += len(chunk)
                    if unpacked > MAX_UNPACKED:
                        raise _unpacks_to(unpacked)
                    if parser is not None:
                        try:
                            parser.Parse(chunk, False)
                        except expat.ExpatError:
                            # Not XML (a picture), or broken XML: openpyxl parses none of
                            # it, or stops where this did (without lxml installed it parses
                            # with the same expat). Read on for the CRC.
                            parser = None
            if parser is not None:
                with contextlib.suppress(expat.ExpatError):
                    parser.Parse(b"", True)


def _check_member(member: zipfile.ZipInfo) -> None:
    if member.file_size > MAX_UNPACKED:
        raise ApplicationError(
            f"A part of the workbook ({member.filename[:80]}) unpacks to "
            f"{member.file_size / 1024 / 1024:,.0f} MB; a workbook may unpack to at most "
            f"{MAX_UNPACKED // 1024 // 1024} MB.",
            code="xlsx_too_large",
        )
    ratio = member.file_size // max(member.compress_size, 1)
    if member.file_size > RATIO_FLOOR and ratio > MAX_RATIO:
        raise ApplicationError(
            f"A part of the workbook ({member.filename[:80]}) is compressed "
            f"{ratio:,} to 1; parts compressed "
            f"more than {MAX_RATIO} to 1 are refused (it looks like a zip bomb).",
            code="xlsx_compression_ratio",
        )


def _unpacks_to(size: int) -> ApplicationError:
    return ApplicationError(
        f"The workbook unpacks to more than {size / 1024 / 1024:,.0f} MB; a workbook may "
        f"unpack to at most {MAX_UNPACKED // 1024 // 1024} MB.",
        code="xlsx_too_large",
    )


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main "
_ROW, _CELL, _VALUE, _INLINE = (_MAIN + tag for tag in ("row", "c", "v", "is"))


class _XmlScan:
    """Counts what openpyxl would build from a workbook's XML, keeping nothing: elements
    over all members, and for every sheet (openpyxl sizes each one on opening) its rows,
    the cells of each row and the columns that hold values. Refuses a DOCTYPE: a
    workbook has none, and entities are how XML multiplies itself."""

    def __init__(self) -> None:
        self.elements = 0

    def parser(self) -> Any:
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        row = cells = column = 0

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal row, cells, column
            self.elements += 1
            if self.elements > MAX_XML_ELEMENTS:
                raise ApplicationError(
                    f"The workbook holds more than {MAX_XML_ELEMENTS:,} XML elements (cells, "
                    "rows, formatting); save the nominations alone in a new workbook.",
                    code="xlsx_too_large",
                )
            if name == _ROW:
                row = _position(attrs.get("r"), row)
                if row > MAX_ROWS + 1:
                    # Any sheet: openpyxl sizes every one when it opens the workbook.
                    raise _too_many_rows("A sheet of the workbook")
                cells = column = 0
            elif name == _CELL:
                cells += 1
                if cells > MAX_CELLS_PER_ROW:
                    raise _too_many_cells(f"Row {row} of a sheet")
                reference = attrs.get("r")
                if reference and reference[1:2].isdigit():  # A to Z: the common case, fast
                    column = ord(reference[0]) - 64
                else:
                    column = _reference_column(reference, column)
            elif name in (_VALUE, _INLINE) and column > MAX_COLUMNS:
                raise _beyond_columns(row, column)

        def doctype(*args: object) -> None:
            raise _unreadable_xlsx()

        parser.StartElementHandler = start
        parser.StartDoctypeDeclHandler = doctype
        parser.EntityDeclHandler = doctype
        return parser


def _position(text: str | None, previous: int) -> int:
    """A row's number as openpyxl reads it: its `r`, or the one after the previous row."""
    if text and text.isdigit():
        return int(text)
    return previous + 1


def _reference_column(reference: str | None, previous: int) -> int:
    """The column of a cell reference ("BZ12" -> 78), or the one after the previous cell."""
    letters = (reference or "").rstrip("0123456789").upper()
    if not letters or not letters.isalpha() or not letters.isascii():
        return previous + 1
    number = 0
    for letter in letters[:4]:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


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


# -- the table --------------------------------------------------------------------------------


def _table(records: Iterable[list[str]], *, required: Sequence[str]) -> Table:
    """Every record counts toward `MAX_ROWS`, blank or not, and reading stops at the
    first one past it; each is checked for its cells before it is kept."""
    table: Table | None = None
    positions: dict[str, int] = {}
    extra: list[int] = []
    header: list[str] = []
    text = 0
    for number, record in enumerate(records, start=1):
        if number > MAX_ROWS + 1:
            raise _too_many_rows()
        _check_cells(number, record, header)
        if not any(cell.strip() for cell in record):
            continue
        if table is None:
            header = [column_key(h) for h in record]
            table = _start(header, required)
            positions = {name: i for i, name in enumerate(header) if name in COLUMNS}
            extra = [
                i
                for i, name in enumerate(header)
                if name and name not in COLUMNS and name not in REPORT_COLUMNS
            ]
            table.header = [_cell(record, i) for i in sorted([*positions.values(), *extra])]
            table.extra_columns = [_cell(record, i) for i in extra]
            continue
        cells = {name: _cell(record, i) for name, i in positions.items()}
        kept = [_cell(record, i) for i in extra]
        text += sum(len(value) for value in cells.values()) + sum(len(v) for v in kept)
        if text > MAX_TEXT_CHARS:
            raise ApplicationError(
                f"The file holds more than {MAX_TEXT_CHARS:,} characters of text in its "
                f"columns (by row {number}); split it into several imports.",
                code="too_much_text",
            )
        table.rows.append((number, cells))
        table.extras.append(kept)
    if table is None:
        raise ApplicationError("The file has no header row.", code="file_empty")
    if not table.rows:
        raise ApplicationError("The file has a header row but no data rows.", code="file_empty")
    return table


def _cell(record: list[str], index: int) -> str:
    """A cell's text, stripped; a formula the portal's own error report neutralised
    (core.csvsafe) comes back as it was written."""
    return csv_restored(record[index].strip()) if index < len(record) else ""


def _check_cells(number: int, record: list[str], header: list[str]) -> None:
    if len(record) > MAX_CELLS_PER_ROW:
        raise _too_many_cells(f"Row {number}")
    if len(record) > MAX_COLUMNS:
        for index in range(MAX_COLUMNS, len(record)):
            if record[index].strip():
                raise _beyond_columns(number, index + 1)
    for index, cell in enumerate(record[:MAX_COLUMNS]):
        if len(cell) <= MAX_CELL_CHARS and not _UNSTORABLE.search(cell):
            continue
        where = f"Row {number}, column {column_letter(index + 1)}"
        if index < len(header) and header[index]:
            where += f" ({header[index][:40]})"
        if len(cell) > MAX_CELL_CHARS:
            raise ApplicationError(
                f"{where} holds {len(cell):,} characters; cells of at most "
                f"{MAX_CELL_CHARS:,} characters are read.",
                code="cell_too_long",
            )
        raise ApplicationError(
            f"{where} contains a NUL character (or another character that cannot be "
            "stored); remove it and upload the file again.",
            code="nul_character",
        )


def _start(header: list[str], required: Sequence[str]) -> Table:
    """The table of a header row, once its columns are known to be usable."""
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
    return Table(columns=[c for c in COLUMNS if c in header])


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
