"""The QR code on every page of the SOW and POE templates (R-DOC-1, round 2).

A partner may print the template, have it signed by hand and upload a scan. The scan has no
text to read, so each page carries a QR code naming the template and the voucher:

    FTDV-SOW-V1:7K3M-Q9PX-H4RT-WB2C
    ^ template ID, upper case
                ^ the voucher code, as printed

Upper case letters, digits, `-` and `:` only: QR's alphanumeric mode holds the 31
characters in a version 2 symbol (25 x 25 modules) at error correction level M (15% of the
symbol may be lost), so each module can be large (0.62 mm, `template_pdf.css`) and still
fit the footer. The template ID is the one printed in the footer (`FTDV-SOW-v1`); its case
is not significant here. No Django and no segno at import: `redemptions.documents` parses the
payloads the check's child process decoded.
"""

from __future__ import annotations

import re
from typing import NamedTuple

SEPARATOR = ":"
MAX_PAYLOAD = 200
_PAYLOAD = re.compile(r"(FTDV-(?:SOW|POE)-V\d+):([2-9A-HJ-NP-Z]{4}(?:-[2-9A-HJ-NP-Z]{4}){3})")


class QrPayload(NamedTuple):
    template_id: str  # as in template_pdfs.template_id: "FTDV-SOW-v1"
    voucher_code: str


def qr_payload(*, voucher_code: str, template_id: str) -> str:
    """What the QR code on each page of `template_id` for `voucher_code` carries."""
    return f"{template_id.upper()}{SEPARATOR}{voucher_code.upper()}"


def parse_qr_payload(payload: str) -> QrPayload | None:
    """The template ID and voucher code a decoded QR code names, or None when it is not a
    template's code (another QR code on the page, a damaged one)."""
    match = _PAYLOAD.fullmatch(payload.strip().upper()[:MAX_PAYLOAD])
    if match is None:
        return None
    template, code = match.groups()
    return QrPayload(template.replace("-V", "-v"), code)


def qr_svg(payload: str) -> str:
    """The QR code as an inline SVG (4-module quiet zone included, white behind it)."""
    import segno  # only the renderer needs it

    return str(segno.make_qr(payload, error="m").svg_inline(border=4, omitsize=True, light="#fff"))
