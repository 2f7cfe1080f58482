"""Hostile uploads for the SOW/POE check (R-DOC-1): `python tests/hostile/make_corpus.py`.

Writes tests/hostile/files/ (committed, under 2 MB in all); tests/test_documents.py says what
each must be refused with. Template-based files are the real SOW template for voucher
CORPUS_CODE, so each would pass the text checks if the structural check let it through.

    png_renamed.pdf          a PNG image renamed .pdf                               not_pdf
    text_renamed.pdf         a plain-text file renamed .pdf                         not_pdf
    html_renamed.pdf         an HTML page (with a script) renamed .pdf              not_pdf
    gif_polyglot.pdf         "GIF89a" header, then the whole SOW template           not_pdf
    truncated.pdf            the SOW template cut in half                           not_pdf
    encrypted.pdf            the SOW template, RC4-128, user password "hostile"     encrypted
    encrypted_owner_only.pdf the SOW template, AES-256, empty user password         encrypted
    javascript.pdf           the SOW template, catalog /OpenAction JavaScript       javascript
    javascript_names.pdf     the SOW template, /Names /JavaScript tree              javascript
    javascript_orphan.pdf    the SOW template + an unreachable JS action (raw scan) javascript
    javascript_escaped.pdf   same, names written /J#61vaScript and /J#53            javascript
    javascript_objstm.pdf    /OpenAction JS in a compressed object stream (walk)    javascript
    launch.pdf               the SOW template, a link annotation with /Launch       launch
    open_action_uri.pdf      the SOW template, /OpenAction opening a URI (no JS)    open_action
    embedded_file.pdf        the SOW template with an attachment (add_attachment)   embedded_file
    bomb.pdf                 one page whose Flate content inflates to 520 MiB       too_complex
    nested_arrays.pdf        a page dictionary with arrays nested 5,000 deep        too_complex
    pages_10000.pdf          10,000 blank pages sharing one content stream          too_many_pages
    path_traversal.pdf       the valid SOW template; uploaded as ../../etc/passwd.pdf (accepted)

Oversized (> 10 MB), empty and "another voucher's template" uploads are made at test time.
"""

from __future__ import annotations

import io
import os
import struct
import sys
import zlib
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pypdf import PdfWriter

ROOT = Path(__file__).resolve().parents[2]
FILES = Path(__file__).resolve().parent / "files"
CORPUS_BODY = "7K3MQ9PXH4RTWB2"  # the voucher code's 15 random characters
BOMB_MIB = 520
PAGES = 10_000


def corpus_code() -> str:
    """The voucher the template-based files are made for (check character included)."""
    from vouchers.codes import _check_character, format_code

    return format_code(CORPUS_BODY + _check_character(CORPUS_BODY))


def _setup_django() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()


def render_sow() -> bytes:
    """The SOW template for CORPUS_CODE, rendered without a database (unsaved objects)."""
    from customers.models import Customer
    from partners.models import Partner
    from programs.models import Offer, Program
    from redemptions.template_pdfs import render_context_pdf
    from vouchers.models import Voucher

    program = Program(code="FY24-MWSDO", name="FY24 Modern Work & Security Deployment Offer")
    voucher = Voucher(
        code=corpus_code(),
        program=program,
        customer=Customer(name="Contoso Pharmaceuticals Ltd", tpid="7654321", country="GB"),
        partner=Partner(name="Fabrikam Deployment Services", partner_id="P-00042", country="GB"),
        offer=Offer(program=program, code="DEPLOY", name="M365 Deployment Offer"),
        workloads=["M365_E3", "M365_E5"],
        scheme=Voucher.Scheme.COMMERCIAL,
        value=Decimal("37500.00"),
        issued_on=date(2024, 3, 1),
        expires_on=date(2024, 9, 1),
    )
    context = {
        "voucher": voucher,
        "kind": "sow",
        "title": "Statement of Work",
        "template_id": "FTDV-SOW-v1",
        "template_version": "1",
        "workload_names": ["Microsoft 365 E3", "Microsoft 365 E5"],
        "is_public_sector": False,
        "site_url": "https://vouchers.example.com",
        "generated_on": date(2024, 3, 1),
    }
    return render_context_pdf("sow", context)


# --- Built with pypdf from the template --------------------------------------------------


def _rewrite(base: bytes, change: Callable[[PdfWriter], object]) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(base)))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _open_action(action: dict[str, str]) -> Callable[[PdfWriter], None]:
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    def change(writer: PdfWriter) -> None:
        entries = {
            NameObject(k): NameObject(v) if v.startswith("/") else TextStringObject(v)
            for k, v in action.items()
        }
        writer.root_object[NameObject("/OpenAction")] = DictionaryObject(entries)

    return change


def _names_javascript(writer: PdfWriter) -> None:
    """A document-level script in the catalog's /Names /JavaScript tree (what pypdf's
    removed `add_js` wrote), reached through an indirect object."""
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

    action = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('FastTrack');"),
        }
    )
    reference = writer._add_object(action)
    tree = DictionaryObject(
        {NameObject("/Names"): ArrayObject([TextStringObject("init"), reference])}
    )
    writer.root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): tree})


def _launch_link(writer: PdfWriter) -> None:
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        FloatObject,
        NameObject,
        TextStringObject,
    )

    annotation = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([FloatObject(v) for v in (40, 700, 300, 760)]),
            NameObject("/Border"): ArrayObject([FloatObject(0)] * 3),
            NameObject("/A"): DictionaryObject(
                {
                    NameObject("/S"): NameObject("/Launch"),
                    NameObject("/F"): TextStringObject("C:\\Windows\\System32\\calc.exe"),
                }
            ),
        }
    )
    writer.add_annotation(page_number=0, annotation=annotation)


def _orphan(base: bytes, body: bytes) -> bytes:
    """`base` plus an incremental update adding object 9999, which no reference reaches:
    the parsed-object walk never meets it; only the raw-bytes scan does."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(base))
    root = reader.trailer.raw_get("/Root").idnum
    size = max(int(str(reader.trailer["/Size"])), 10_000)
    previous = int(base[base.rindex(b"startxref") + len(b"startxref") :].split()[0])
    obj = b"\n9999 0 obj\n" + body + b"\nendobj\n"
    xref = len(base) + len(obj)
    return (
        base
        + obj
        + b"xref\n9999 1\n%010d 00000 n \n" % (len(base) + 1)
        + b"trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\n" % (size, root, previous)
        + b"startxref\n%d\n%%%%EOF\n" % xref
    )


# --- Written by hand ---------------------------------------------------------------------


def _classic_pdf(objects: list[bytes]) -> bytes:
    """A PDF 1.7 file with a classic cross-reference table; object 1 is the catalog."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(data), extra, data)


def bomb() -> bytes:
    """One page whose FlateDecode content stream inflates to BOMB_MIB MiB of zeros (the
    compressed bytes are built from zeros fed in 1 MiB chunks: the generator stays light)."""
    compressor = zlib.compressobj(9)
    zeros = bytes(1024 * 1024)
    parts = [compressor.compress(zeros) for _ in range(BOMB_MIB)]
    parts.append(compressor.flush())
    return _classic_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
            _stream(b"".join(parts), b" /Filter /FlateDecode"),
        ]
    )


def nested_arrays(depth: int = 5000) -> bytes:
    return _classic_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Deep "
            + b"[" * depth
            + b"]" * depth
            + b" >>",
        ]
    )


def _objstm_pdf(plain: dict[int, bytes], packed: list[tuple[int, bytes]]) -> bytes:
    """A PDF 1.5 file: the objects `plain` written as such, the objects `packed` inside one
    compressed object stream, and a compressed cross-reference stream. Object 1 is the
    catalog. Nothing in `packed` is visible in the raw bytes."""
    objstm = max([*plain, *(number for number, _text in packed)]) + 1
    xref_number = objstm + 1
    index, body = [], bytearray()
    for number, text in packed:
        index.append(b"%d %d" % (number, len(body)))
        body += text + b"\n"
    head = b" ".join(index) + b"\n"
    stream_data = zlib.compress(head + bytes(body), 9)
    objects = {
        **plain,
        objstm: _stream(
            stream_data,
            b" /Type /ObjStm /N %d /First %d /Filter /FlateDecode" % (len(packed), len(head)),
        ),
    }

    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for number, obj in sorted(objects.items()):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    offsets[xref_number] = len(out)
    in_stream = {number: i for i, (number, _text) in enumerate(packed)}
    rows = [struct.pack(">BIH", 0, 0, 65535)]
    for number in range(1, xref_number + 1):
        if number in offsets:
            rows.append(struct.pack(">BIH", 1, offsets[number], 0))
        elif number in in_stream:
            rows.append(struct.pack(">BIH", 2, objstm, in_stream[number]))
        else:
            rows.append(struct.pack(">BIH", 0, 0, 0))
    xref_data = zlib.compress(b"".join(rows), 9)
    xref_dict = b" /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Filter /FlateDecode" % (
        xref_number + 1
    )
    out += b"%d 0 obj\n%s\nendobj\n" % (xref_number, _stream(xref_data, xref_dict))
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[xref_number]
    return bytes(out)


def many_pages(count: int = PAGES, fan: int = 100) -> bytes:
    """`count` blank pages under `fan` intermediate page-tree nodes, all sharing one content
    stream; pages and nodes packed in an object stream, so 10,000 real page objects take
    about 100 KB."""
    content, first_node = 3, 4
    first_page = first_node + fan
    per_node = count // fan
    packed: list[tuple[int, bytes]] = []
    for node in range(fan):
        kids = b" ".join(b"%d 0 R" % (first_page + node * per_node + i) for i in range(per_node))
        packed.append(
            (
                first_node + node,
                b"<< /Type /Pages /Parent 2 0 R /Kids [%s] /Count %d >>" % (kids, per_node),
            )
        )
    for node in range(fan):
        for i in range(per_node):
            page = b"<< /Type /Page /Parent %d 0 R /Contents %d 0 R >>" % (
                first_node + node,
                content,
            )
            packed.append((first_page + node * per_node + i, page))
    root_kids = b" ".join(b"%d 0 R" % (first_node + node) for node in range(fan))
    plain = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [%s] /Count %d /MediaBox [0 0 595 842] >>" % (root_kids, count),
        content: _stream(b"q Q"),
    }
    return _objstm_pdf(plain, packed)


def javascript_in_object_stream() -> bytes:
    """A one-page PDF whose catalog, with an /OpenAction JavaScript, sits in a compressed
    object stream: invisible to the raw-bytes scan, found by the object walk."""
    text = (
        b"BT /F1 11 Tf 50 780 Td (Template FTDV-SOW-v1 Voucher %s) Tj ET" % corpus_code().encode()
    )
    plain = {3: _stream(text)}
    packed = [
        (
            1,
            b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript "
            b"/JS (app.alert\\(1\\)) >> >>",
        ),
        (2, b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>"),
        (
            4,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
        ),
        (5, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"),
    ]
    return _objstm_pdf(plain, packed)


def png() -> bytes:
    """A valid 1x1 white PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff"))
        + chunk(b"IEND", b"")
    )


def gif_polyglot(pdf: bytes) -> bytes:
    """A 1x1 GIF89a whose trailing data is the PDF: PDF readers look for %PDF- in the first
    kilobyte, image viewers stop at the GIF trailer."""
    gif = (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00"
        b"!\xf9\x04\x01\x00\x00\x00\x00"
        b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    )
    return gif + b"\n" + pdf


def build() -> dict[str, bytes]:
    sow = render_sow()
    code = corpus_code().encode()
    files = {
        "png_renamed.pdf": png(),
        "text_renamed.pdf": b"Statement of Work\nVoucher " + code + b"\nTemplate FTDV-SOW-v1\n",
        "html_renamed.pdf": b"<!doctype html>\n<html><body><h1>Statement of Work</h1>"
        b"<script>alert(document.cookie)</script></body></html>\n",
        "gif_polyglot.pdf": gif_polyglot(sow),
        "truncated.pdf": sow[: len(sow) // 2],
        "encrypted.pdf": _rewrite(
            sow, lambda w: w.encrypt(user_password="hostile", algorithm="RC4-128")
        ),
        "encrypted_owner_only.pdf": _rewrite(
            sow,
            lambda w: w.encrypt(user_password="", owner_password="owner", algorithm="AES-256"),
        ),
        "javascript.pdf": _rewrite(
            sow, _open_action({"/S": "/JavaScript", "/JS": "app.alert('FastTrack');"})
        ),
        "javascript_names.pdf": _rewrite(sow, _names_javascript),
        "javascript_orphan.pdf": _orphan(sow, b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"),
        "javascript_escaped.pdf": _orphan(sow, b"<< /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>"),
        "launch.pdf": _rewrite(sow, _launch_link),
        "open_action_uri.pdf": _rewrite(
            sow, _open_action({"/S": "/URI", "/URI": "https://example.com/track"})
        ),
        "embedded_file.pdf": _rewrite(
            sow, lambda w: w.add_attachment("readme.txt", b"Open the attached tool.\n")
        ),
        "bomb.pdf": bomb(),
        "nested_arrays.pdf": nested_arrays(),
        "javascript_objstm.pdf": javascript_in_object_stream(),
        "pages_10000.pdf": many_pages(),
        "path_traversal.pdf": sow,
    }
    return files


def main() -> None:
    _setup_django()
    FILES.mkdir(parents=True, exist_ok=True)
    files = build()
    for old in FILES.glob("*.pdf"):
        if old.name not in files:
            old.unlink()
    for name, content in files.items():
        (FILES / name).write_bytes(content)
    total = sum(len(content) for content in files.values())
    for name, content in sorted(files.items()):
        print(f"{len(content):>9,}  {name}")
    print(f"{total:>9,}  in all ({len(files)} files, voucher {corpus_code()})")
    if total >= 2 * 1024 * 1024:
        raise SystemExit("The corpus must stay under 2 MB.")


if __name__ == "__main__":
    main()
