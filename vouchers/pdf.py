"""The voucher as a one-page A4 PDF: attached to the issue mail (R-VOU-3) and downloadable.

Rendered by WeasyPrint from `templates/vouchers/voucher_pdf.html`. The document uses only
the DejaVu fonts Debian ships (no images); it never fetches anything: the URL fetcher
refuses every scheme except `data:`, so even a stray URL in user text could not make the
renderer touch the network or the file system.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

from core.pdf import layout, to_bytes
from programs.models import Workload
from vouchers.models import Voucher

TEMPLATE = "vouchers/voucher_pdf.html"
STYLE = "vouchers/voucher_pdf.css"
CONTENT_TYPE = "application/pdf"


def voucher_workload_names(voucher: Voucher) -> list[str]:
    """Names of the voucher's eligible workloads, in the voucher's order (code if unknown)."""
    names = dict(
        Workload.objects.filter(program_id=voucher.program_id, code__in=voucher.workloads)
        .values_list("code", "name")
        .order_by()
    )
    return [names.get(code, code) for code in voucher.workloads]


def voucher_pdf_filename(voucher: Voucher) -> str:
    return f"FastTrack-voucher-{voucher.code}.pdf"


# Past these lengths the customer name (or the workload list) takes several lines at the
# normal size: the document is then laid out in its compact style from the start.
LONG_CUSTOMER_NAME = 60
LONG_WORKLOADS = 160


def voucher_pdf_context(voucher: Voucher) -> dict[str, Any]:
    workload_names = voucher_workload_names(voucher)
    long_names = (
        len(voucher.customer.name) > LONG_CUSTOMER_NAME
        or sum(len(name) + 3 for name in workload_names) > LONG_WORKLOADS
        or len(voucher.offer.name) > LONG_CUSTOMER_NAME
    )
    return {
        "voucher": voucher,
        "workload_names": workload_names,
        "long_names": long_names,
        "is_public_sector": voucher.scheme == Voucher.Scheme.PUBLIC_SECTOR,
        "site_url": settings.SITE_URL,
        "generated_on": timezone.localdate(),
    }


def render_voucher_pdf(voucher: Voucher) -> bytes:
    """The voucher as PDF bytes on one A4 page.

    Very long names (a 200-character customer name, long workload names) are set in a
    tighter style chosen up front from their lengths, so the usual voucher is laid out once.
    Should a document still spill onto a second page, it is laid out once more, compact.
    """
    context = voucher_pdf_context(voucher)
    document = _layout({**context, "compact": context["long_names"]})
    if len(document.pages) > 1 and not context["long_names"]:
        document = _layout({**context, "compact": True})
    return to_bytes(document)


def _layout(context: dict[str, Any]) -> Any:
    return layout(TEMPLATE, context, css=STYLE)
