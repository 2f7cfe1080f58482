"""What makes an uploaded SOW/POE trustworthy (R-DOC-1, round 2), read in the check's child.

`redemptions.pdfcheck` calls these, in its separate, resource-limited process, after the
upload passed its structural checks. Standard library plus pyHanko (signatures) or pypdfium2,
zxing-cpp and Pillow (scans), each imported only when the file needs it: a PDF without a
signed signature field never loads pyHanko (0.3 s), one with text never loads pypdfium2.
No Django.

`signatures(data, trust_roots=...)`: one dict per signed signature field:

    {"field": "customer_signature", "name": "Casey Customer", "intact": true,
     "covers_whole": true, "coverage": "entire_revision", "modification": "form_filling",
     "trusted": false, "signed_at": "2026-12-08T10:15:00+00:00",
     "detail": "Signed by Casey Customer; ..."}

- `intact`: the signature is cryptographically valid and the digest of the bytes it covers
  matches (pyHanko's `intact and valid`);
- `covers_whole`: its byte range covers the whole file, or the whole revision it signed
  with only later revisions after it (`coverage` says which); a byte range that leaves
  content out of a revision (a gap wider than the signature itself) is not;
- `modification`: pyHanko's difference analysis of what came after it: `none`, `signing`
  (a later signature or a timestamp), `form_filling` (form fields filled, signatures
  added), or `changed` (annotations, pages, content: anything else);
- `trusted`: the signer's certificate chains to one of the PEM certificates in the file
  `trust_roots` (the operator's `DOCUMENT_TRUST_ROOTS`); none configured, never trusted.
  Nothing is fetched: no OCSP, no CRL, no AIA;
- `signed_at`: from a signature timestamp when there is one, else the signing time the
  signer reported (signed attributes).

`scan_pages(data, regions=...)`: for an image-only PDF (a scan), one dict per page (at most
MAX_SCAN_PAGES), each page rendered at SCAN_DPI or less (MAX_SCAN_PIXELS):

    {"page": 2, "payloads": ["FTDV-SOW-V1:7K3M-Q9PX-H4RT-WB2C"],
     "boxes": [{"field": "customer_signature", "ink": 0.031, "empty": false,
                "png": "<base64 PNG, at most MAX_CROP_BYTES>"}]}

`regions` says where the template's signature boxes are, as fractions of the page (the
parent computes them from the template's own layout); each box is cropped for the reviewer
with a margin, and `ink` is the share of dark pixels inside it (the ruled line left out):
below EMPTY_INK the box looks empty.
"""

from __future__ import annotations

import base64
import io
import math
from typing import Any

MAX_SIGNATURES = 10
MAX_NAME = 200
MAX_SCAN_PAGES = 10
SCAN_DPI = 150
MAX_SCAN_PIXELS = 1240 * 1754 * 2  # A4 at 150 dpi, twice over: larger pages are scaled down
MAX_SCAN_SIDE = 4000
MAX_PAYLOADS = 8
MAX_PAYLOAD = 200
MAX_CROP_BYTES = 200 * 1024
CROP_MARGIN = 0.02  # of the page's width, around each box
CROP_WIDTH = 640
EMPTY_INK = 0.004
DARK = 140  # of 255: darker than this is ink

COVERAGE = {
    "ENTIRE_FILE": "entire_file",
    "ENTIRE_REVISION": "entire_revision",
    "CONTIGUOUS_BLOCK_FROM_START": "block_from_start",
    "UNCLEAR": "unclear",
}
MODIFICATION = {
    "NONE": "none",
    "LTA_UPDATES": "signing",
    "FORM_FILLING": "form_filling",
    "ANNOTATIONS": "changed",
    "OTHER": "changed",
}


# --- Digital signatures ------------------------------------------------------------------


_LIBRARIES = (
    "asn1crypto.pem",
    "asn1crypto.x509",
    "pyhanko.pdf_utils.reader",
    "pyhanko.sign.validation",
    "pyhanko_certvalidator",
    "pypdfium2",
    "zxingcpp",
    "PIL.Image",
)


def preload() -> None:
    """Imports what signatures and scans need, for a process that forks a child per file
    (`redemptions.sandbox`): pyHanko alone takes 0.3-0.4 s to import, more than a check."""
    import importlib
    import warnings

    warnings.filterwarnings("ignore", message="DSA is deprecated", module="pyhanko")
    for name in _LIBRARIES:
        importlib.import_module(name)


def has_signed_fields(reader: Any) -> bool:
    """Whether a pypdf reader's form has a signature field with a value (a signature)."""
    try:
        fields = reader.get_fields() or {}
    except Exception:  # a broken form: pyHanko will say what it can
        return True
    return any(
        field.get("/FT") == "/Sig" and field.get("/V") is not None for field in fields.values()
    )


def signatures(data: bytes, *, trust_roots: str | None) -> list[dict[str, Any]]:
    from pyhanko.pdf_utils.reader import PdfFileReader

    roots = _load_roots(trust_roots)
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)[:MAX_SIGNATURES]
    except Exception as exc:
        return [_broken(None, f"The signatures cannot be read ({type(exc).__name__}).")]
    return [_signature(signature, roots) for signature in embedded]


def _load_roots(path: str | None) -> list[Any]:
    if not path:
        return []
    from asn1crypto import pem, x509

    try:
        with open(path, "rb") as handle:
            raw = handle.read()
        if pem.detect(raw):
            return [x509.Certificate.load(der) for _t, _h, der in pem.unarmor(raw, multiple=True)]
        return [x509.Certificate.load(raw)]
    except (OSError, ValueError):
        return []  # a missing or damaged trust list trusts nothing


def _signature(signature: Any, roots: list[Any]) -> dict[str, Any]:
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    field = _text(getattr(signature, "field_name", None))
    try:
        context = ValidationContext(trust_roots=roots, allow_fetching=False)
        status = validate_pdf_signature(signature, context)
    except Exception as exc:  # a damaged CMS structure, a byte range pyHanko refuses
        return _broken(field, _why(exc))
    name = _common_name(status.signing_cert)
    intact = bool(status.intact and status.valid)
    coverage = COVERAGE.get(getattr(status.coverage, "name", ""), "unclear")
    covers_whole = coverage in ("entire_file", "entire_revision")
    level = getattr(status.modification_level, "name", None)
    modification = MODIFICATION.get(level or "", "changed") if level else "none"
    if coverage == "entire_file":
        modification = "none"
    if status.docmdp_ok is False:
        modification = "changed"
    trusted = bool(status.trusted) and intact
    stamp = getattr(status, "timestamp_validity", None)
    when = getattr(stamp, "timestamp", None) or status.signer_reported_dt
    entry = {
        "field": field,
        "name": name,
        "intact": intact,
        "covers_whole": covers_whole,
        "coverage": coverage,
        "modification": modification,
        "trusted": trusted,
        "signed_at": when.isoformat() if when is not None else None,
    }
    entry["detail"] = _detail(entry)
    return entry


def _broken(field: str | None, why: str) -> dict[str, Any]:
    return {
        "field": field,
        "name": None,
        "intact": False,
        "covers_whole": False,
        "coverage": "unclear",
        "modification": "changed",
        "trusted": False,
        "signed_at": None,
        "detail": why,
    }


def _why(exc: BaseException) -> str:
    text = str(exc).lower()
    if "byte range" in text or "byterange" in text or "coincide" in text:
        return "The signature's byte range leaves part of the document unsigned."
    return f"The signature cannot be validated ({type(exc).__name__})."


def _detail(entry: dict[str, Any]) -> str:
    who = entry["name"] or "an unnamed signer"
    if not entry["intact"]:
        return f"The signature of {who} is broken: the document changed after it was signed."
    if not entry["covers_whole"]:
        return f"The signature of {who} leaves part of the document unsigned."
    if entry["modification"] == "changed":
        return f"The document was changed after {who} signed it."
    trust = (
        "the certificate chains to a configured trust list"
        if entry["trusted"]
        else "the certificate is not from a trusted authority"
    )
    after = {
        "none": "nothing changed after signing",
        "signing": "only signatures were added after it",
        "form_filling": "only form filling and signatures came after it",
    }[entry["modification"]]
    return f"Signed by {who}; {after}; {trust}."


def _common_name(certificate: Any) -> str | None:
    try:
        native = certificate.subject.native
    except Exception:
        return None
    name = native.get("common_name") if isinstance(native, dict) else None
    if isinstance(name, list):
        name = name[0] if name else None
    return _text(name)


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    cleaned = "".join(ch for ch in value if ch.isprintable()).strip()
    return cleaned[:MAX_NAME] or None


# --- Scans ---------------------------------------------------------------------------------


def scan_pages(
    data: bytes, *, regions: dict[int, list[tuple[str, tuple[float, ...]]]]
) -> list[dict[str, Any]]:
    """Each page of an image-only PDF rendered and read: QR payloads, signature box crops."""
    import pypdfium2
    import zxingcpp

    document = pypdfium2.PdfDocument(data)
    try:
        pages = []
        for number in range(min(len(document), MAX_SCAN_PAGES)):
            page = document[number]
            try:
                image = _render(page)
            finally:
                page.close()
            found = zxingcpp.read_barcodes(image)
            payloads = [
                result.text[:MAX_PAYLOAD]
                for result in found
                if result.valid and result.format == zxingcpp.BarcodeFormat.QRCode
            ]
            pages.append(
                {
                    "page": number + 1,
                    "payloads": payloads[:MAX_PAYLOADS],
                    "boxes": [_box(image, field, rect) for field, rect in regions.get(number, [])],
                }
            )
        return pages
    finally:
        document.close()


def _render(page: Any) -> Any:
    width, height = page.get_size()
    width, height = max(width, 1.0), max(height, 1.0)
    scale = min(
        SCAN_DPI / 72,
        math.sqrt(MAX_SCAN_PIXELS / (width * height)),
        MAX_SCAN_SIDE / max(width, height),
    )
    bitmap = page.render(scale=scale, grayscale=True)
    try:
        return bitmap.to_pil().convert("L")
    finally:
        bitmap.close()


def _box(image: Any, field: str, rect: tuple[float, ...]) -> dict[str, Any]:
    """The crop of one signature box (fractions of the page, from the top left) and how
    much ink it holds."""
    width, height = image.size
    left, top, right, bottom = (max(0.0, min(1.0, value)) for value in rect[:4])
    inner = image.crop(
        (
            round((left + (right - left) * 0.06) * width),
            round((top + (bottom - top) * 0.1) * height),
            round((right - (right - left) * 0.06) * width),
            round((bottom - (bottom - top) * 0.2) * height),  # the ruled line left out
        )
    )
    histogram = inner.histogram()
    total = max(sum(histogram), 1)
    ink = sum(histogram[:DARK]) / total
    margin = CROP_MARGIN
    crop = image.crop(
        (
            round(max(0.0, left - margin) * width),
            round(max(0.0, top - margin) * height),
            round(min(1.0, right + margin) * width),
            round(min(1.0, bottom + margin) * height),
        )
    )
    return {
        "field": field,
        "ink": round(ink, 4),
        "empty": ink < EMPTY_INK,
        "png": _png(crop),
    }


def _png(image: Any) -> str:
    from PIL import Image

    if image.width > CROP_WIDTH:
        ratio = CROP_WIDTH / image.width
        image = image.resize(
            (CROP_WIDTH, max(1, round(image.height * ratio))), Image.Resampling.LANCZOS
        )
    while True:
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
        if out.tell() <= MAX_CROP_BYTES or image.width < 80:
            return base64.b64encode(out.getvalue()).decode("ascii")
        image = image.resize((image.width // 2, max(1, image.height // 2)))
