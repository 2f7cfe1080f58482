"""Signed SOW/POE uploads for the tests (R-DOC-1, round 2), built for real.

- `signed_template(voucher=..., kind=...)`: the template with two PAdES signatures
  (pyHanko), the customer's then the partner's, each in its own signature field;
- `scanned_template(voucher=..., kind=...)`: the template "printed and scanned": each page
  rendered with pypdfium2, ink scribbled in the signature boxes with Pillow, turned slightly,
  with noise, saved as an image-only PDF;
- builders for the hostile cases (`tests/hostile/make_corpus.py` commits them).

The keys are EC P-256 and the certificates are made once per process (`cryptography`):
a test certificate authority, `AUTHORITY_NAME`, issues every signer's certificate, so a
test that configures `trust_roots_pem()` as `DOCUMENT_TRUST_ROOTS` sees them as trusted.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import io
import math
import random
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from vouchers.models import Voucher

AUTHORITY_NAME = "FastTrack Test Signing Authority"
CUSTOMER, PARTNER = "Casey Customer", "Pat Partner"
FIELDS = ("customer_signature", "partner_signature")
SCAN_DPI = 150
T = TypeVar("T")


# --- Keys and certificates ---------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    name: str
    key_der: bytes  # PKCS#8
    cert_der: bytes
    chain_der: tuple[bytes, ...]  # issuers, nearest first


def _certificate(
    *, name: str, key: Any, issuer_name: str, issuer_key: Any, authority: bool
) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=authority, path_length=None), critical=True)
    )
    builder = builder.add_extension(
        x509.KeyUsage(
            digital_signature=True,
            content_commitment=not authority,  # a signer's key signs documents
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=authority,  # the authority's key signs certificates
            crl_sign=authority,
            encipher_only=False,
            decipher_only=False,
        ),
        critical=True,
    )
    if not authority:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
    certificate = builder.sign(issuer_key, hashes.SHA256())
    return certificate.public_bytes(serialization.Encoding.DER)


def _key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _pkcs8(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


# The load and fault runs sign from many threads: keys and certificates are made once, under
# a lock, and each thread gets its own pyHanko signer (its asn1crypto objects encode
# themselves lazily and must not be shared between threads).
_CREATING = threading.RLock()
_PER_THREAD = threading.local()


def _authority() -> tuple[Any, bytes]:
    with _CREATING:
        return _authority_once()


@functools.cache
def _authority_once() -> tuple[Any, bytes]:
    key = _key()
    return key, _certificate(
        name=AUTHORITY_NAME,
        key=key,
        issuer_name=AUTHORITY_NAME,
        issuer_key=key,
        authority=True,
    )


def identity(name: str, *, self_signed: bool = False) -> Identity:
    """A signer `name`: certified by the test authority, or by itself."""
    with _CREATING:
        return _identity_once(name, self_signed)


@functools.cache
def _identity_once(name: str, self_signed: bool) -> Identity:
    key = _key()
    if self_signed:
        cert = _certificate(name=name, key=key, issuer_name=name, issuer_key=key, authority=False)
        return Identity(name, _pkcs8(key), cert, ())
    authority_key, authority_cert = _authority()
    cert = _certificate(
        name=name,
        key=key,
        issuer_name=AUTHORITY_NAME,
        issuer_key=authority_key,
        authority=False,
    )
    return Identity(name, _pkcs8(key), cert, (authority_cert,))


def trust_roots_pem() -> bytes:
    """The test authority's certificate, as an operator's trust list file holds it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    der = _authority()[1]
    return bytes(x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM))


def _signer(name: str, self_signed: bool) -> Any:
    cache: dict[tuple[str, bool], Any] = _PER_THREAD.__dict__.setdefault("signers", {})
    if (name, self_signed) not in cache:
        cache[(name, self_signed)] = _new_signer(name, self_signed)
    return cache[(name, self_signed)]


def _new_signer(name: str, self_signed: bool) -> Any:
    from asn1crypto import keys, x509
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    who = identity(name, self_signed=self_signed)
    return signers.SimpleSigner(
        signing_cert=x509.Certificate.load(who.cert_der),
        signing_key=keys.PrivateKeyInfo.load(who.key_der),
        cert_registry=SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
            [x509.Certificate.load(der) for der in who.chain_der]
        ),
    )


# --- Signing -----------------------------------------------------------------------------


def sign(
    pdf: bytes,
    *,
    field: str,
    name: str,
    self_signed: bool = False,
    new_field_box: tuple[int, int, int, int] | None = None,
) -> bytes:
    """`pdf` signed (PAdES, SHA-256) by `name` in the signature field `field`, as an
    incremental update. `new_field_box` makes the field first (a PDF without it)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    if new_field_box is not None:
        fields.append_signature_field(
            writer, fields.SigFieldSpec(sig_field_name=field, on_page=0, box=new_field_box)
        )
    meta = signers.PdfSignatureMetadata(
        field_name=field,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    signer = _signer(name, self_signed)
    out = _outside_event_loop(lambda: signers.sign_pdf(writer, meta, signer=signer))
    return bytes(out.getvalue())


def _outside_event_loop(call: Callable[[], T]) -> T:
    """`call()`, in a thread of its own when this one runs an event loop: pyHanko's
    synchronous API calls asyncio.run(), which Playwright's sync API (browser tests) makes
    fail in the test's thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def sign_both(
    pdf: bytes,
    signers: tuple[str, str] = (CUSTOMER, PARTNER),
    *,
    self_signed: bool = False,
    new_fields: bool = False,
) -> bytes:
    """`pdf` signed by the customer, then the partner. `new_fields`: a PDF without
    signature fields (not a template) gets one for each, at the top of page 1."""
    for number, (field, name) in enumerate(zip(FIELDS, signers, strict=True)):
        box = (40 + 200 * number, 770, 220 + 200 * number, 810) if new_fields else None
        pdf = sign(pdf, field=field, name=name, self_signed=self_signed, new_field_box=box)
    return pdf


def template(*, voucher: Voucher, kind: str) -> bytes:
    from redemptions.template_pdfs import render_template_pdf

    return render_template_pdf(voucher=voucher, kind=kind)


def signed_template(
    *,
    voucher: Voucher,
    kind: str = "sow",
    signers: tuple[str, str] = (CUSTOMER, PARTNER),
    self_signed: bool = False,
) -> bytes:
    """The template for `voucher` signed by the customer, then the partner (R-DOC-1)."""
    return sign_both(template(voucher=voucher, kind=kind), signers, self_signed=self_signed)


# --- Printing and scanning ---------------------------------------------------------------


def signature_rects(pdf: bytes) -> dict[str, tuple[int, tuple[float, float, float, float]]]:
    """Each signature field of `pdf`: its page (0-based) and rectangle in PDF points."""
    from pypdf import PdfReader

    found = {}
    for number, page in enumerate(PdfReader(io.BytesIO(pdf)).pages):
        for annotation in page.get("/Annots") or []:
            widget = annotation.get_object()
            if widget.get("/FT") == "/Sig":
                left, bottom, right, top = (v.as_numeric() for v in widget["/Rect"])
                found[str(widget["/T"])] = (number, (left, bottom, right, top))
    return found


def print_and_scan(
    pdf: bytes,
    *,
    dpi: int = SCAN_DPI,
    ink: tuple[str, ...] = FIELDS,
    rotate: float = 0.6,
    pages: list[Any] | None = None,
) -> bytes:
    """`pdf` printed and scanned: each page rendered at `dpi` (pypdfium2), a scribble of ink
    in each signature box named in `ink`, turned by `rotate` degrees, with speckle noise,
    saved as an image-only PDF (Pillow, JPEG). `pages` replaces the rendered pages."""
    from PIL import Image

    images = pages if pages is not None else scanned_pages(pdf, dpi=dpi, ink=ink)
    scanned = []
    for image in images:
        turned = image.rotate(rotate, resample=Image.Resampling.BICUBIC, fillcolor=255)
        noise = Image.effect_noise(turned.size, 18).point(lambda v: 0 if v < 40 else 255)
        scanned.append(Image.composite(turned, noise, noise.point(lambda v: 255 if v else 0)))
    out = io.BytesIO()
    scanned[0].save(
        out,
        format="PDF",
        resolution=dpi,
        save_all=True,
        append_images=scanned[1:],
        quality=60,
    )
    return out.getvalue()


def _scribble(draw: Any, rng: random.Random, box: tuple[float, float, float, float]) -> None:
    """A hand signature: a wavy stroke across the box, and an underline flourish."""
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    points = []
    for step in range(60):
        x = left + width * (0.12 + 0.7 * step / 59)
        y = top + height * (0.45 + 0.25 * math.sin(step / 3.2 + rng.random()))
        points.append((x, y))
    draw.line(points, fill=20, width=3, joint="curve")
    draw.line(
        [(left + width * 0.15, top + height * 0.72), (left + width * 0.7, top + height * 0.6)],
        fill=30,
        width=2,
    )


def scanned_template(
    *, voucher: Voucher, kind: str = "sow", dpi: int = SCAN_DPI, signed: bool = True
) -> bytes:
    """The template for `voucher` printed, signed by hand by both (unless `signed` is
    False: the boxes stay empty) and scanned (R-DOC-1, round 2)."""
    return print_and_scan(
        template(voucher=voucher, kind=kind), dpi=dpi, ink=FIELDS if signed else ()
    )


# --- Hostile signed documents (R-DOC-1: each refused) -------------------------------------

_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


def gap_signature(pdf: bytes, *, uncovered: int = 64) -> bytes:
    """The customer's signature with a byte range whose gap is `uncovered` bytes wider than
    the signature itself (the bytes after /Contents are left out of what was signed, so they
    could be anything), its digest and CMS recomputed for that range so it is intact; then
    the partner's signature over it, as usual."""
    signed = sign(pdf, field=FIELDS[0], name=CUSTOMER)
    found = list(_BYTE_RANGE.finditer(signed))[-1]
    start, first, gap_end, _rest = (int(value) for value in found.groups())
    wider = gap_end + uncovered
    declared = b"/ByteRange [0 %d %d %d" % (first, wider, len(signed) - wider)
    declared = declared.ljust(len(found.group(0)) - 1) + b"]"
    data = signed[: found.start()] + declared + signed[found.end() :]
    digest = hashlib.sha256(data[:first] + data[wider:]).digest()
    cms = asyncio.run(_signer(CUSTOMER, False).async_sign(digest, "sha256", use_pades=True)).dump()
    contents = b"<" + cms.hex().encode().ljust(gap_end - first - 2, b"0") + b">"
    data = data[:first] + contents + data[gap_end:]
    assert start == 0
    return sign(data, field=FIELDS[1], name=PARTNER)


def changed_after_signing(pdf: bytes) -> bytes:
    """Signed by both, then an incremental update that draws on page 1 (a new SOW value
    over the old one): each signature still matches its own revision."""
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, DecodedStreamObject, NameObject

    writer = PdfWriter(io.BytesIO(sign_both(pdf)), incremental=True)
    page = writer.pages[0]
    stream = DecodedStreamObject()
    stream.set_data(b"q 1 0 0 rg 60 120 200 30 re f Q")
    contents = page["/Contents"]
    existing = list(contents) if isinstance(contents, ArrayObject) else [contents]
    page[NameObject("/Contents")] = ArrayObject([*existing, writer._add_object(stream)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def broken_signature(pdf: bytes) -> bytes:
    """Signed by both, then one byte inside what both signed changed in place."""
    signed = sign_both(pdf)
    where = signed.index(b"/Producer")
    return signed[:where] + b"/Producxr" + signed[where + len(b"/Producer") :]


def qr_png(payload: str, *, dpi: int = SCAN_DPI) -> Any:
    """A template's QR code for `payload` as a Pillow image at `dpi` (0.62 mm modules)."""
    import segno
    from PIL import Image

    code = segno.make_qr(payload, error="m")
    out = io.BytesIO()
    code.save(out, kind="png", scale=1, border=4)
    out.seek(0)
    image = Image.open(out).convert("L")
    size = round(image.width * 0.62 / 25.4 * dpi)
    return image.resize((size, size), Image.Resampling.NEAREST)


def scanned_pages(pdf: bytes, *, dpi: int = SCAN_DPI, ink: tuple[str, ...] = FIELDS) -> list[Any]:
    """The pages of `pdf` as printed and signed by hand (before the scanner)."""
    import pypdfium2
    from PIL import ImageDraw

    rng = random.Random(3)
    rects = signature_rects(pdf)
    images = []
    document = pypdfium2.PdfDocument(pdf)
    for number in range(len(document)):
        page = document[number]
        image = page.render(scale=dpi / 72).to_pil().convert("L")
        height = page.get_size()[1]
        for field in ink:
            where = rects.get(field)
            if where is not None and where[0] == number:
                left, bottom, right, top = (v * dpi / 72 for v in where[1])
                box = (left, height * dpi / 72 - top, right, height * dpi / 72 - bottom)
                _scribble(ImageDraw.Draw(image), rng, box)
        images.append(image)
        page.close()
    document.close()
    return images


def _qr_spot(image: Any, dpi: int) -> tuple[int, int]:
    """Where the template's QR code (quiet zone included) is on a rendered page."""
    import zxingcpp

    found = zxingcpp.read_barcodes(image)[0].position
    quiet = round(4 * 0.62 / 25.4 * dpi)
    return found.top_left.x - quiet, found.top_left.y - quiet


def forged_qr_scan(pdf: bytes, *, payload: str, dpi: int = SCAN_DPI) -> bytes:
    """A scan of `pdf` (one page) whose QR code was covered with one carrying `payload`."""
    page = scanned_pages(pdf, dpi=dpi)[-1]
    page.paste(qr_png(payload, dpi=dpi), _qr_spot(page, dpi))
    return print_and_scan(pdf, dpi=dpi, pages=[page])


def unreadable_qr_scan(pdf: bytes, *, dpi: int = SCAN_DPI) -> bytes:
    """A scan of `pdf` (one page) whose QR code is smudged past reading."""
    from PIL import Image, ImageFilter

    page = scanned_pages(pdf, dpi=dpi)[-1]
    left, top = _qr_spot(page, dpi)
    size = round(33 * 0.62 / 25.4 * dpi)
    spot = page.crop((left, top, left + size, top + size))
    smudged = (
        spot.resize((6, 6), Image.Resampling.BOX)
        .resize(spot.size)
        .filter(ImageFilter.GaussianBlur(4))
    )
    page.paste(smudged, (left, top))
    return print_and_scan(pdf, dpi=dpi, pages=[page])
