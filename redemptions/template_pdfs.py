"""The program's SOW and POE templates as PDFs pre-filled for one voucher (R-DOC-1).

A partner that claimed a voucher downloads these, has them signed by the customer and the
partner, and uploads the signed PDF. The upload check (`redemptions.documents`) then looks
for the voucher code and the template ID in the PDF's text, so both are printed as plain
text in the footer of every page: "Template FTDV-SOW-v1 · Version 1 · Voucher 7K3M-…".

Same house style and the same safety as the voucher PDF (`vouchers.pdf`): DejaVu fonts,
inline SVG, a URL fetcher that refuses everything but `data:`, every value auto-escaped.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

from core.pdf import layout
from vouchers.models import Voucher
from vouchers.pdf import voucher_workload_names

TEMPLATE_VERSION = "1"
KINDS = ("sow", "poe")
TEMPLATES = {"sow": "redemptions/sow_pdf.html", "poe": "redemptions/poe_pdf.html"}
TITLES = {"sow": "Statement of Work", "poe": "Proof of Execution"}
MAX_PAGES = 2


def template_id(kind: str) -> str:
    """`FTDV-SOW-v1` / `FTDV-POE-v1`: printed on every page, required in every upload."""
    if kind not in KINDS:
        raise ValueError(f"Unknown template kind {kind!r}; expected one of {', '.join(KINDS)}.")
    return f"FTDV-{kind.upper()}-v{TEMPLATE_VERSION}"


def template_pdf_filename(*, voucher: Voucher, kind: str) -> str:
    return f"{template_id(kind)}-{voucher.code}.pdf"


def template_pdf_context(*, voucher: Voucher, kind: str) -> dict[str, Any]:
    return {
        "voucher": voucher,
        "kind": kind,
        "title": TITLES[kind],
        "template_id": template_id(kind),
        "template_version": TEMPLATE_VERSION,
        "workload_names": voucher_workload_names(voucher),
        "is_public_sector": voucher.scheme == Voucher.Scheme.PUBLIC_SECTOR,
        "site_url": settings.SITE_URL,
        "generated_on": timezone.localdate(),
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
    document = _layout(TEMPLATES[kind], {**context, "compact": False})
    if len(document.pages) > MAX_PAGES:
        document = _layout(TEMPLATES[kind], {**context, "compact": True})
    pdf = document.write_pdf()
    if not isinstance(pdf, bytes):  # write_pdf() without a target returns the bytes
        raise TypeError("WeasyPrint returned no PDF bytes")
    return pdf


def _layout(template: str, context: dict[str, Any]) -> Any:
    return layout(template, context)
