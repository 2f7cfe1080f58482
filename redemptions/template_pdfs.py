"""The program's SOW and POE templates as PDFs pre-filled for one voucher (R-DOC-1).

A partner that claimed a voucher downloads these, has them signed by the customer and the
partner, and uploads the signed PDF. R-DOC-1 (round 2) accepts two ways of signing, and the
template is made for both:

- digitally: what the partner enters (scope, dates, SOW value, signer names, ...) are
  fillable form fields, and an empty signature field for each party, `customer_signature`
  and `partner_signature`, lies over the printed signature box. Each field's rectangle is
  the box WeasyPrint laid out for the element marked `data-field="<name>"` (never a guess);
  the fields are added to the rendered PDF as one incremental update (pypdf);
- on paper: every page carries a QR code with the template ID and the voucher code
  (`redemptions.template_qr`), which recognises a scan that has no text.

The upload check (`redemptions.documents`) also looks for the voucher code and the template
ID in a digital document's text, so both are printed as plain text in the footer of every
page: "Template FTDV-SOW-v1 · Version 1 · Voucher 7K3M-…".

Same house style and the same safety as the voucher PDF (`vouchers.pdf`): DejaVu fonts,
inline SVG, a URL fetcher that refuses everything but `data:`, every value auto-escaped, the
stylesheet (`templates/redemptions/template_pdf.css`) parsed once per process.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple, cast

from django.conf import settings
from django.utils import timezone
from django.utils.safestring import mark_safe

from core.pdf import layout, to_bytes
from redemptions.template_qr import qr_payload, qr_svg
from vouchers.models import Voucher
from vouchers.pdf import voucher_workload_names

TEMPLATE_VERSION = "1"
KINDS = ("sow", "poe")
TEMPLATES = {"sow": "redemptions/sow_pdf.html", "poe": "redemptions/poe_pdf.html"}
TITLES = {"sow": "Statement of Work", "poe": "Proof of Execution"}
MAX_PAGES = 2
STYLE = "redemptions/template_pdf.css"
SIGNATURE_FIELDS = ("customer_signature", "partner_signature")
"""The empty signature fields, one per party, named as the elements they lie over."""
CSS_PX_TO_PT = 0.75  # WeasyPrint lays out in CSS pixels (1/96 in); PDF counts points (1/72 in)


def template_id(kind: str) -> str:
    """`FTDV-SOW-v1` / `FTDV-POE-v1`: printed on every page, required in every upload."""
    if kind not in KINDS:
        raise ValueError(f"Unknown template kind {kind!r}; expected one of {', '.join(KINDS)}.")
    return f"FTDV-{kind.upper()}-v{TEMPLATE_VERSION}"


def template_pdf_filename(*, voucher: Voucher, kind: str) -> str:
    return f"{template_id(kind)}-{voucher.code}.pdf"


def template_pdf_context(
    *,
    voucher: Voucher,
    kind: str,
    workload_names: list[str] | None = None,
    generated_on: date | None = None,
) -> dict[str, Any]:
    """What the template prints for `voucher`; `workload_names` and `generated_on` are
    looked up (in the program) and taken from today unless given."""
    return {
        "voucher": voucher,
        "kind": kind,
        "title": TITLES[kind],
        "template_id": template_id(kind),
        "template_version": TEMPLATE_VERSION,
        "workload_names": (
            voucher_workload_names(voucher) if workload_names is None else workload_names
        ),
        "is_public_sector": voucher.scheme == Voucher.Scheme.PUBLIC_SECTOR,
        "site_url": settings.SITE_URL,
        "generated_on": generated_on or timezone.localdate(),
    }


def render_template_pdf(*, voucher: Voucher, kind: str) -> bytes:
    """The SOW (`kind="sow"`) or POE (`kind="poe"`) template for `voucher`, at most 2 pages.

    Very long names push the document past two pages; it is then laid out once more in a
    tighter style, as the voucher PDF does.
    """
    template_id(kind)  # ValueError for an unknown kind
    return render_context_pdf(kind, template_pdf_context(voucher=voucher, kind=kind))


def render_context_pdf(kind: str, context: dict[str, Any]) -> bytes:
    """The template `kind` rendered from a ready context (see `template_pdf_context`)."""
    payload = qr_payload(voucher_code=context["voucher"].code, template_id=context["template_id"])
    context = {**context, "qr_payload": payload, "qr_svg": mark_safe(qr_svg(payload))}  # noqa: S308 - segno's SVG of our own payload
    document = _layout(TEMPLATES[kind], {**context, "compact": False})
    if len(document.pages) > MAX_PAGES:
        document = _layout(TEMPLATES[kind], {**context, "compact": True})
    return add_form_fields(to_bytes(document), field_boxes(document))


class FieldBox(NamedTuple):
    name: str
    kind: str  # "text", "multiline", "checkbox" or "signature"
    title: str
    page: int  # 0-based
    rect: tuple[float, float, float, float]  # PDF points: left, bottom, right, top


def field_boxes(document: Any) -> list[FieldBox]:
    """Where WeasyPrint laid out each element marked `data-field`, in PDF coordinates
    (origin at the bottom left of the page), in document order, each name once."""
    found: dict[str, FieldBox] = {}
    for number, page in enumerate(document.pages):
        height = page.height * CSS_PX_TO_PT
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            if element is None:
                continue
            name = element.get("data-field")
            if not name or name in found:
                continue
            left = box.border_box_x() * CSS_PX_TO_PT
            top = box.border_box_y() * CSS_PX_TO_PT
            right = left + box.border_width() * CSS_PX_TO_PT
            bottom = top + box.border_height() * CSS_PX_TO_PT
            found[name] = FieldBox(
                name,
                element.get("data-kind", "text"),
                element.get("title", name),
                number,
                (left, height - bottom, right, height - top),
            )
    missing = [name for name in SIGNATURE_FIELDS if name not in found]
    if missing:
        raise ValueError(f"The template lays out no box for {', '.join(missing)}")
    return list(found.values())


FIELD_FONT = "/Helv"
FIELD_APPEARANCE = "/Helv 9 Tf 0.06 0.09 0.16 rg"
"""Text fields use Helvetica, a standard font viewers have: WeasyPrint's own form fields
embed the whole of DejaVu Sans (760 KB) so that any text can be typed, which made the
template 15 times larger."""


def add_form_fields(pdf: bytes, boxes: list[FieldBox]) -> bytes:
    """`pdf` with a form field over each box: text fields, check boxes, and the empty
    signature fields a signing application fills (ISO 32000-1, 12.7), appended as one
    incremental update."""
    from pypdf import PdfWriter
    from pypdf.generic import (
        ArrayObject,
        BooleanObject,
        DecodedStreamObject,
        DictionaryObject,
        FloatObject,
        NameObject,
        NumberObject,
        TextStringObject,
    )

    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    helvetica = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )
    )
    fields = ArrayObject()
    writer.root_object[NameObject("/AcroForm")] = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Fields"): fields,
                NameObject("/DA"): TextStringObject(FIELD_APPEARANCE),
                NameObject("/DR"): DictionaryObject(
                    {NameObject("/Font"): DictionaryObject({NameObject(FIELD_FONT): helvetica})}
                ),
                # Viewers draw the text fields' appearance from /DA as they are filled.
                NameObject("/NeedAppearances"): BooleanObject(True),
            }
        )
    )

    def appearance(width: float, height: float, content: bytes) -> Any:
        stream = DecodedStreamObject()
        stream.set_data(content)
        stream.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): ArrayObject(
                    [FloatObject(0), FloatObject(0), FloatObject(width), FloatObject(height)]
                ),
            }
        )
        return writer._add_object(stream)

    for box in boxes:
        page = writer.pages[box.page]
        left, bottom, right, top = box.rect
        field = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Widget"),
                NameObject("/T"): TextStringObject(box.name),
                NameObject("/TU"): TextStringObject(box.title),
                NameObject("/F"): NumberObject(4),  # printed
                NameObject("/Rect"): ArrayObject(
                    FloatObject(round(value, 2)) for value in box.rect
                ),
                NameObject("/P"): page.indirect_reference,
            }
        )
        if box.kind == "signature":
            field[NameObject("/FT")] = NameObject("/Sig")
        elif box.kind == "checkbox":
            width, height = right - left, top - bottom
            points = ((0.2, 0.5, "m"), (0.42, 0.22, "l"), (0.82, 0.8, "l"))
            tick = "0.06 0.09 0.16 RG 1.2 w 1 J 1 j " + " ".join(
                f"{width * x:.2f} {height * y:.2f} {op}" for x, y, op in points
            )
            field.update(
                {
                    NameObject("/FT"): NameObject("/Btn"),
                    NameObject("/V"): NameObject("/Off"),
                    NameObject("/AS"): NameObject("/Off"),
                    NameObject("/AP"): DictionaryObject(
                        {
                            NameObject("/N"): DictionaryObject(
                                {
                                    NameObject("/Yes"): appearance(
                                        width, height, f"{tick} S".encode()
                                    ),
                                    NameObject("/Off"): appearance(width, height, b""),
                                }
                            )
                        }
                    ),
                }
            )
        else:
            field.update(
                {
                    NameObject("/FT"): NameObject("/Tx"),
                    NameObject("/DA"): TextStringObject(FIELD_APPEARANCE),
                    NameObject("/V"): TextStringObject(""),
                }
            )
            if box.kind == "multiline":
                field[NameObject("/Ff")] = NumberObject(1 << 12)  # Multiline
        reference = writer._add_object(field)
        fields.append(reference)
        if "/Annots" not in page:
            page[NameObject("/Annots")] = ArrayObject()
        cast(ArrayObject, page["/Annots"].get_object()).append(reference)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@lru_cache(maxsize=4)
def signature_regions(template: str) -> dict[int, list[tuple[str, tuple[float, ...]]]]:
    """Where template `template`'s signature boxes are: page index -> (field, (left, top,
    right, bottom) as fractions of the page from its top left), from the layout of a
    reference rendering (a voucher with names of usual length), once per process. A scan's
    boxes are cropped there for the reviewer (R-DOC-1); {} for an unknown template."""
    kind = next((k for k in KINDS if template_id(k) == template), None)
    if kind is None:
        return {}
    context = reference_context(kind)
    document = _layout(TEMPLATES[kind], {**context, "compact": False})
    regions: dict[int, list[tuple[str, tuple[float, ...]]]] = {}
    for box in field_boxes(document):
        if box.kind != "signature":
            continue
        page = document.pages[box.page]
        width, height = page.width * CSS_PX_TO_PT, page.height * CSS_PX_TO_PT
        left, bottom, right, top = box.rect
        regions.setdefault(box.page, []).append(
            (
                box.name,
                (left / width, 1 - top / height, right / width, 1 - bottom / height),
            )
        )
    return regions


def reference_context(kind: str) -> dict[str, Any]:
    """A template context for a voucher that is never saved (no database)."""
    from customers.models import Customer
    from partners.models import Partner
    from programs.models import Offer, Program

    program = Program(code="REFERENCE", name="Reference program")
    voucher = Voucher(
        code="2222-2222-2222-2222",
        program=program,
        customer=Customer(name="Contoso Pharmaceuticals Ltd", tpid="1000001", country="GB"),
        partner=Partner(name="Fabrikam Deployment Services", partner_id="P-00001", country="GB"),
        offer=Offer(program=program, code="DEPLOY", name="M365 Deployment Offer"),
        workloads=["M365_E3", "M365_E5"],
        scheme=Voucher.Scheme.COMMERCIAL,
        value=Decimal("37500.00"),
        issued_on=date(2000, 3, 1),
        expires_on=date(2000, 9, 1),
    )
    return {
        **template_pdf_context(
            voucher=voucher,
            kind=kind,
            workload_names=["Microsoft 365 E3", "Microsoft 365 E5"],
            generated_on=date(2000, 3, 1),
        ),
        "qr_payload": "",
        "qr_svg": "",
    }


def _layout(template: str, context: dict[str, Any]) -> Any:
    return layout(template, context, css=STYLE)
