"""The demo's signed SOW (`make run`, `seed_demo`): R-DOC-1 (round 2) refuses an unsigned
template, so the demo's partner uploads one signed digitally by the customer and the partner.

Each demo signer gets a self-signed certificate (EC P-256) made once per process: the
reviewer sees both names from the certificates, "not from a trusted authority", as any
signature outside DOCUMENT_TRUST_ROOTS is shown. Only the seeding command imports this.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

FIELDS = ("customer_signature", "partner_signature")


@cache
def _signer(name: str) -> Any:
    from asn1crypto import keys, x509
    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key = ec.generate_private_key(ec.SECP256R1())
    subject = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        cx509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(cx509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return signers.SimpleSigner(
        signing_cert=x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER)),
        signing_key=keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=SimpleCertificateStore(),  # type: ignore[no-untyped-call]
    )


def demo_signed(pdf: bytes, *, customer: str, partner: str) -> bytes:
    """The template `pdf` signed (PAdES) by `customer`, then by `partner`."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    for field, name in zip(FIELDS, (customer, partner), strict=True):
        meta = signers.PdfSignatureMetadata(
            field_name=field, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256"
        )
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        pdf = bytes(signers.sign_pdf(writer, meta, signer=_signer(name)).getvalue())
    return pdf
