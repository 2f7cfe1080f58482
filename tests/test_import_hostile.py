"""Hostile import files: every bound of `imports.parsing` refuses with a sentence naming it,
before the rows are checked, and a damaged file is a refusal, never a 500. The files are
built here, byte by byte where Excel would never write them. "Fast" is asserted by what was
read (rows handed out by openpyxl or the CSV reader), not by the clock."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from openpyxl.worksheet import _read_only

from core.choices import Role
from core.errors import ApplicationError
from imports import parsing
from imports.models import ImportJob
from imports.services import import_preview
from tests.factories import CustomerFactory, user_for_role

pytestmark = [pytest.mark.django_db]

HEADER = ("customer_tpid", "offer", "workloads", "deal_value", "expected_close_date")
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"


@pytest.fixture
def world(fy24: Any) -> Any:
    with time_machine.travel(date(2024, 3, 1), tick=False):
        customer = CustomerFactory()
        yield {"fy24": fy24, "rep": user_for_role(Role.FIELD_REP), "tpid": customer.tpid}


def good_row(world: Any) -> tuple[str, ...]:
    return (world["tpid"], "DEPLOY", "M365_E3", "200000", "2024-05-20")


def refusal(world: Any, data: bytes, name: str = "noms.xlsx") -> ApplicationError:
    with pytest.raises(ApplicationError) as refused:
        import_preview(user=world["rep"], program=world["fy24"], upload=ContentFile(data, name))
    assert not ImportJob.objects.exists()
    return refused.value


# -- building workbooks ---------------------------------------------------------------------


def letter(number: int) -> str:
    """A spreadsheet column's name: 1 -> A, 27 -> AA."""
    name = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        name = chr(65 + rest) + name
    return name


def cells(number: int, values: Sequence[str], *, first: int = 1) -> str:
    """One <row> of inline strings, from column `first`."""
    out = []
    for offset, value in enumerate(values):
        ref = f"{letter(first + offset)}{number}"
        out.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>')
    return f'<row r="{number}">{"".join(out)}</row>'


def workbook(
    rows: str,
    *,
    dimension: str = "",
    strings: Sequence[str] = (),
    extra: Mapping[str, bytes] | None = None,
) -> bytes:
    """A minimal .xlsx openpyxl reads: one sheet holding `rows` (sheetData XML), an
    optional shared-string table and extra zip members."""
    overrides = [
        ("/xl/workbook.xml", f"{CT}.sheet.main+xml"),
        ("/xl/worksheets/sheet1.xml", f"{CT}.worksheet+xml"),
    ]
    relations = [(f"{DOC}/worksheet", "worksheets/sheet1.xml")]
    if strings:
        overrides.append(("/xl/sharedStrings.xml", f"{CT}.sharedStrings+xml"))
        relations.append((f"{DOC}/sharedStrings", "sharedStrings.xml"))
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="{RELS[:-1]}+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides)
            + "</Types>"
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" '
            f'Type="{DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="{DOC}"><sheets>'
            '<sheet name="Nominations" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{RELS}">'
            + "".join(
                f'<Relationship Id="rId{n}" Type="{t}" Target="{target}"/>'
                for n, (t, target) in enumerate(relations, start=1)
            )
            + "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": (
            f'<worksheet xmlns="{MAIN}">'
            + (f'<dimension ref="{dimension}"/>' if dimension else "")
            + f"<sheetData>{rows}</sheetData></worksheet>"
        ),
    }
    if strings:
        parts["xl/sharedStrings.xml"] = (
            f'<sst xmlns="{MAIN}">'
            + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
            + "</sst>"
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def shared_row(number: int, indexes: Sequence[int]) -> str:
    """One <row> of shared-string references, from column A."""
    refs = "".join(
        f'<c r="{letter(c)}{number}" t="s"><v>{i}</v></c>' for c, i in enumerate(indexes, start=1)
    )
    return f'<row r="{number}">{refs}</row>'


def small_workbook(world: Any, **kwargs: Any) -> bytes:
    return workbook(cells(1, HEADER) + cells(2, good_row(world)), **kwargs)


@pytest.fixture
def openpyxl_rows(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the rows openpyxl hands out (every sheet read goes through _cells_by_row)."""
    read: list[int] = []
    real = _read_only.ReadOnlyWorksheet._cells_by_row

    def counting(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for row in real(self, *args, **kwargs):
            read.append(1)
            yield row

    monkeypatch.setattr(_read_only.ReadOnlyWorksheet, "_cells_by_row", counting)
    return read


# -- rows: blank ones count ---------------------------------------------------------------


def test_an_xlsx_declaring_200000_blank_rows_is_refused_before_openpyxl_reads_a_row(
    world: Any, openpyxl_rows: list[int]
) -> None:
    small = ContentFile(small_workbook(world), "small.xlsx")
    job = import_preview(user=world["rep"], program=world["fy24"], upload=small)
    assert (job.total_rows, job.good_rows, len(openpyxl_rows)) == (1, 1, 2)  # the builder works
    job.delete()
    openpyxl_rows.clear()

    blank = "".join(f'<row r="{n}"/>' for n in range(3, 200_001))
    data = workbook(cells(1, HEADER) + cells(2, good_row(world)) + blank, dimension="A1:E200000")
    assert len(data) < 500_000  # under half a megabyte, which used to hold a worker for 14 s
    refused = refusal(world, data)
    assert refused.code == "too_many_rows" and "20,000 rows" in refused.message
    assert "blank" in refused.message
    assert openpyxl_rows == []  # refused by the scan: openpyxl was not asked for one row

    # One row far below the data: openpyxl would fill the gap with blank rows.
    far = workbook(cells(1, HEADER) + cells(2, good_row(world)) + '<row r="200000"/>')
    assert refusal(world, far).code == "too_many_rows"
    # Rows without numbers: 1.2 MB of XML in a few KB, refused for its ratio first.
    unnumbered = workbook(cells(1, HEADER) + cells(2, good_row(world)) + "<row/>" * 200_000)
    assert len(unnumbered) < 10_000
    assert refusal(world, unnumbered).code == "xlsx_compression_ratio"
    assert openpyxl_rows == []


def test_openpyxl_is_never_asked_for_more_than_the_limit(
    world: Any, openpyxl_rows: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second line: were the scan blind, openpyxl still hands out at most the header,
    `MAX_ROWS` rows and the one that proves there are more."""
    monkeypatch.setattr(parsing, "_check_xlsx", lambda data: None, raising=False)
    monkeypatch.setattr(parsing, "MAX_ROWS", 50)
    rows = "".join(cells(n, good_row(world)) for n in range(2, 2_000))
    refused = refusal(world, workbook(cells(1, HEADER) + rows))
    assert refused.code == "too_many_rows"
    assert len(openpyxl_rows) == 52

    openpyxl_rows.clear()
    gap = workbook(cells(1, HEADER) + cells(2, good_row(world)) + '<row r="200000"/>')
    assert refusal(world, gap).code == "too_many_rows"
    assert len(openpyxl_rows) == 52


def test_a_csv_of_200000_blank_lines_is_refused_after_reading_the_limit(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[int] = []
    real = parsing._csv_records

    def counting(data: bytes) -> Iterator[list[str]]:
        for record in real(data):
            read.append(1)
            yield record

    monkeypatch.setattr(parsing, "_csv_records", counting)
    line = ",".join(good_row(world))
    text = ",".join(HEADER) + "\n" + line + "\n" + "\n" * 200_000 + " , ,\n" * 5 + line + "\n"
    refused = refusal(world, text.encode(), "noms.csv")
    assert refused.code == "too_many_rows" and "more than 20,000 rows" in refused.message
    assert len(read) == parsing.MAX_ROWS + 2  # the header, the limit, and one more


# -- zip bombs -----------------------------------------------------------------------------


def test_an_xlsx_that_unpacks_to_too_much_is_refused_before_openpyxl_opens_it(
    world: Any, openpyxl_rows: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[int] = []
    monkeypatch.setattr("openpyxl.load_workbook", lambda *a, **k: opened.append(1))

    huge = small_workbook(world, extra={"xl/media/image1.png": b"\0" * (60 * 1024 * 1024)})
    assert len(huge) < 200_000
    refused = refusal(world, huge)
    assert refused.code == "xlsx_too_large" and "50 MB" in refused.message

    dense = small_workbook(world, extra={"xl/media/image1.png": b"\0" * (5 * 1024 * 1024)})
    refused = refusal(world, dense)
    assert refused.code == "xlsx_compression_ratio" and "100 to 1" in refused.message

    # Many parts, each under every single bound, together past the total.
    monkeypatch.setattr(parsing, "MAX_UNPACKED", 2 * 1024 * 1024, raising=False)
    parts = {f"xl/media/image{n}.bin": bytes(range(256)) * 400 for n in range(30)}
    refused = refusal(world, small_workbook(world, extra=parts))
    assert refused.code == "xlsx_too_large" and "at most 2 MB" in refused.message
    assert opened == [] and openpyxl_rows == []


def test_a_part_that_unpacks_to_more_than_it_declares_is_refused(world: Any) -> None:
    """The central directory says 1,000 bytes; the data inflates to 5 MB. zipfile stops at
    the declared size and the CRC then fails: the scan refuses the file."""
    data = bytearray(small_workbook(world, extra={"xl/media/lie.bin": b"\0" * 5_000_000}))
    central = data.rindex(b"PK\x01\x02")  # the last member's central directory entry
    assert data[central + 46 : central + 62] == b"xl/media/lie.bin"
    struct.pack_into("<I", data, central + 24, 1_000)  # its uncompressed size
    assert refusal(world, bytes(data)).code == "file_format"


def test_xml_bounds_cells_per_row_columns_elements_and_doctype(
    world: Any, openpyxl_rows: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    wide = '<row r="2">' + "<c/>" * 17_000 + "</row>"
    refused = refusal(world, workbook(cells(1, HEADER) + wide))
    assert refused.code == "too_many_cells" and "16,384" in refused.message

    far_right = cells(2, good_row(world)).replace("</row>", '<c r="BZ2"><v>1</v></c></row>')
    refused = refusal(world, workbook(cells(1, HEADER) + far_right))
    assert refused.code == "too_many_columns"
    assert "column BZ" in refused.message and "64 columns" in refused.message

    entities = (
        '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    )
    with zipfile.ZipFile(io.BytesIO(small_workbook(world))) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].replace(b"<t>DEPLOY", b"<t>&b;")
    parts["xl/worksheets/sheet1.xml"] = entities.encode() + sheet
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    assert refusal(world, buffer.getvalue()).code == "file_format"
    assert openpyxl_rows == []

    monkeypatch.setattr(parsing, "MAX_XML_ELEMENTS", 1_000, raising=False)
    rows = "".join(cells(n, good_row(world)) for n in range(2, 200))
    refused = refusal(world, workbook(cells(1, HEADER) + rows))
    assert refused.code == "xlsx_too_large" and "1,000 XML elements" in refused.message
    assert openpyxl_rows == []


# -- damaged files -------------------------------------------------------------------------


def damaged_workbooks(world: Any) -> dict[str, bytes]:
    # With its <dimension> first, as Excel writes it, openpyxl opens the workbook reading
    # only the sheet's first bytes: the damage is met while reading rows.
    good = workbook(
        cells(1, HEADER) + "".join(cells(n, good_row(world)) for n in range(2, 400)),
        dimension="A1:E399",
    )
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        sheet = archive.getinfo("xl/worksheets/sheet1.xml")
        xml = archive.read(sheet)
    # The sheet's compressed bytes garbled near their end.
    garbled = bytearray(good)
    start = sheet.header_offset + 30 + len(sheet.filename)
    end = start + sheet.compress_size
    garbled[end - 200 : end - 100] = bytes(100)
    # A well-formed zip whose sheet XML stops halfway.
    cut = xml[: len(xml) // 2]
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            target.writestr(info.filename, cut if info.filename == sheet.filename else content)
    not_a_workbook = io.BytesIO()
    with zipfile.ZipFile(not_a_workbook, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return {
        "cut in half": good[: len(good) // 2],
        "sheet data garbled": bytes(garbled),
        "sheet XML truncated": buffer.getvalue(),
        "a zip that is no workbook": not_a_workbook.getvalue(),
        "zip magic then noise": b"PK\x03\x04" + bytes(range(256)) * 8,
        "named .xlsx, is text": b"customer_tpid,offer\n1,DEPLOY\n",
    }


def test_a_damaged_xlsx_is_a_refusal_never_a_500(world: Any) -> None:
    for case, data in damaged_workbooks(world).items():
        refused = refusal(world, data)
        assert refused.code == "file_format", case
        assert "cannot be read as an Excel .xlsx workbook" in refused.message, case


# -- cells ---------------------------------------------------------------------------------


def test_nul_in_a_cell_is_refused_and_never_stored(world: Any) -> None:
    line = ",".join(good_row(world))
    text = ",".join(HEADER) + ",notes\n" + line + ",fine\n" + line + ",bad\x00note\n"
    refused = refusal(world, text.encode(), "noms.csv")
    assert refused.code == "nul_character" and "Line 3" in refused.message

    # Whatever reader yields it (Python 3.13's csv module accepts NUL), the table refuses
    # the cell by its row and column; a lone surrogate (PostgreSQL refuses it too) alike.
    for bad in ("bad\x00note", "bad\ud800note"):
        records = [[*HEADER, "notes"], [*good_row(world), "fine"], [*good_row(world), bad]]
        with pytest.raises(ApplicationError) as refused_cell:
            parsing._table(iter(records), required=HEADER)
        assert refused_cell.value.code == "nul_character"
        assert "Row 3, column F (notes)" in refused_cell.value.message


def test_huge_cells_and_too_much_text_are_refused(world: Any) -> None:
    line = ",".join(good_row(world))
    header = ",".join(HEADER) + ",notes\n"
    long_note = header + line + "," + "x" * 50_000 + "\n"
    refused = refusal(world, long_note.encode(), "noms.csv")
    assert refused.code == "cell_too_long"
    assert "Row 2, column F (notes) holds 50,000 characters" in refused.message
    past_csv_limit = header + line + ',"' + "x" * 200_000 + '"\n'
    assert refusal(world, past_csv_limit.encode(), "noms.csv").code == "cell_too_long"

    header_row = shared_row(1, range(5))
    big = workbook(header_row + shared_row(2, [5]), strings=(*HEADER, "x" * 20_000))
    refused = refusal(world, big)
    assert refused.code == "cell_too_long" and "20,000 characters" in refused.message

    # One 9,000-character string, stored once, referenced from 5 columns of 1,000 rows:
    # 45 million characters from a file of a few dozen KB.
    refs = "".join(shared_row(n, [5] * 5) for n in range(2, 1_002))
    data = workbook(header_row + refs, strings=(*HEADER, "y" * 9_000))
    assert len(data) < 100_000
    refused = refusal(world, data)
    assert refused.code == "too_much_text" and "10,485,760 characters" in refused.message


def test_a_csv_line_of_a_million_cells_is_refused_before_it_is_split(world: Any) -> None:
    text = ",".join(HEADER) + "\n" + "," * 1_000_000 + "\n"
    refused = refusal(world, text.encode(), "noms.csv")
    assert refused.code == "too_many_cells" and "Line 2" in refused.message
    # Quoted delimiters are text, not cells; a quoted cell may span lines.
    row = ",".join(good_row(world))
    quoted = ",".join(HEADER) + ",notes\n" + row + ',"a,b;\n' + "," * 20_000 + '"\n'
    assert refusal(world, quoted.encode(), "noms.csv").code == "cell_too_long"
    far_right = ",".join(HEADER) + "\n" + ",".join(good_row(world)) + "," * 70 + "x\n"
    refused = refusal(world, far_right.encode(), "noms.csv")
    assert refused.code == "too_many_columns" and "column BW" in refused.message


# -- where users see it --------------------------------------------------------------------


def test_the_upload_page_and_the_command_name_the_limit(world: Any, tmp_path: Path) -> None:
    client = Client()
    client.force_login(world["rep"])
    blank = "".join(f'<row r="{n}"/>' for n in range(3, 200_001))
    hostile = {
        "blank.xlsx": workbook(cells(1, HEADER) + cells(2, good_row(world)) + blank),
        "garbled.xlsx": damaged_workbooks(world)["sheet data garbled"],
        "nul.csv": (",".join(HEADER) + "\n1,DEPLOY,M365_E3,1,2024-05-20\x00\n").encode(),
    }
    expected = {
        "blank.xlsx": b"more than 20,000 rows",
        "garbled.xlsx": b"cannot be read as an Excel .xlsx workbook",
        "nul.csv": b"NUL character",
    }
    for name, data in hostile.items():
        response = client.post(
            "/imports/", {"program": "FY24-MWSDO", "file": SimpleUploadedFile(name, data)}
        )
        assert response.status_code == 200, name
        assert expected[name] in response.content, name
    assert not ImportJob.objects.exists()

    path = tmp_path / "garbled.xlsx"
    path.write_bytes(hostile["garbled.xlsx"])
    with pytest.raises(CommandError, match="cannot be read as an Excel"):
        call_command(
            "import_nominations", str(path), program="FY24-MWSDO", user=world["rep"].username
        )
