"""Document trust (R-DOC-1, round 2): the template made for signing, the check's child that
reads signatures and scans, and the decision on upload.

Everything is built for real: pyHanko signs (tests/signing.py), pypdfium2 renders ("prints")
and Pillow draws ink and writes the image-only PDF ("scans"), zxing-cpp reads the QR codes.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
import time_machine
import zxingcpp
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pypdf import PdfReader
from rest_framework.test import APIClient

from core.choices import Role
from core.errors import ApplicationError
from core.models import Event
from payments.models import FxRate, Payment
from programs.models import Program
from redemptions import pdfcheck
from redemptions.documents import CheckedDocument, check_document
from redemptions.models import PaymentRequest, RequestDocument
from redemptions.template_pdfs import render_template_pdf, signature_regions, template_id
from redemptions.template_qr import parse_qr_payload, qr_payload
from tests import signing
from tests.factories import user_for_role
from tests.test_documents import make_voucher
from vouchers.models import Voucher

pytestmark = pytest.mark.django_db

SOW, POE = "FTDV-SOW-v1", "FTDV-POE-v1"
MM_PER_INCH = 25.4
ROUND_2_CODES = {
    "unsigned",
    "one_signature",
    "signature_broken",
    "signature_gap",
    "changed_after_signing",
    "scan_wrong_voucher",
    "scan_wrong_template",
    "scan_unreadable",
}
DAY_OF_UPLOAD = date(2026, 12, 1)  # make_voucher: issued 25 Nov 2026, expires May 2027


@pytest.fixture
def voucher(fy24: Program) -> Voucher:
    return make_voucher(fy24)


def upload(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("signed.pdf", content, content_type="application/pdf")


def check(content: bytes, voucher: Voucher, template: str = SOW) -> CheckedDocument:
    return check_document(upload=upload(content), voucher_code=voucher.code, template_id=template)


def refusal(content: bytes, voucher: Voucher, template: str = SOW) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        check(content, voucher, template)
    error = caught.value
    assert error.rule == "R-DOC-1"
    if error.code in ROUND_2_CODES:  # its sentence cites the rule too
        assert "R-DOC-1" in error.message, error.message
    assert error.fields == {"document": [error.message]}
    return error


# --- 1. The template, made for signing -----------------------------------------------------


@pytest.mark.parametrize("kind", ["sow", "poe"])
def test_template_has_fields_and_an_empty_signature_field_per_party(
    voucher: Voucher, kind: str
) -> None:
    pdf = render_template_pdf(voucher=voucher, kind=kind)
    fields = PdfReader(io.BytesIO(pdf)).get_fields() or {}
    kinds = {name: str(field.get("/FT")) for name, field in fields.items()}
    assert kinds["customer_signature"] == kinds["partner_signature"] == "/Sig"
    assert all("/V" not in fields[name] for name in signing.FIELDS)  # empty: nobody signed
    for party in ("customer", "partner"):
        for entry in ("signer_name", "signer_title", "signed_on"):
            assert kinds[f"{party}_{entry}"] == "/Tx"
    if kind == "sow":
        assert {"scope", "sow_value", "planned_start", "services_billable"} <= set(kinds)
    else:
        assert kinds["workload_1_deployed_yes"] == "/Btn"
        assert {"completed_on", "approved_sow_value", "services_delivered"} <= set(kinds)


def test_signature_fields_lie_over_the_printed_signature_boxes(voucher: Voucher) -> None:
    """Each field's rectangle is on the row labelled "Signature", right of the label, and the
    customer's is left of the partner's: taken from the layout, not guessed."""
    pdf = render_template_pdf(voucher=voucher, kind="sow")
    rects = signing.signature_rects(pdf)
    document = pypdfium2.PdfDocument(pdf)
    page_number = rects["customer_signature"][0]
    text = document[page_number].get_textpage()
    searcher = text.search("Signature", match_case=True, match_whole_word=True)
    labels = []
    while (found := searcher.get_next()) is not None:
        labels.append(text.get_charbox(found[0]))  # left, bottom, right, top
    assert len(labels) == 2
    labels.sort()
    for label, field in zip(labels, signing.FIELDS, strict=True):
        page, (left, bottom, right, top) = rects[field]
        assert page == page_number
        assert bottom <= label[1] <= top  # the label's row
        assert left > label[2] and right - left > 150 and 25 < top - bottom < 60
    assert rects["customer_signature"][1][2] < rects["partner_signature"][1][0]


@pytest.mark.parametrize("kind", ["sow", "poe"])
def test_every_page_carries_a_qr_code_that_survives_150_dpi(voucher: Voucher, kind: str) -> None:
    pdf = render_template_pdf(voucher=voucher, kind=kind)
    document = pypdfium2.PdfDocument(pdf)
    assert len(document) == 2
    for number in range(len(document)):
        image = document[number].render(scale=150 / 72, grayscale=True).to_pil()
        found = [r for r in zxingcpp.read_barcodes(image) if r.valid]
        assert [r.text for r in found] == [
            qr_payload(voucher_code=voucher.code, template_id=template_id(kind))
        ]
        corners = found[0].position
        side_px = corners.top_right.x - corners.top_left.x
        assert side_px / 25 * MM_PER_INCH / 150 >= 0.6  # module size, mm (version 2: 25)
    assert parse_qr_payload(found[0].text) == (template_id(kind), voucher.code)


def test_qr_payload_format() -> None:
    payload = qr_payload(voucher_code="7K3M-Q9PX-H4RT-WB2C", template_id=SOW)
    assert payload == "FTDV-SOW-V1:7K3M-Q9PX-H4RT-WB2C"
    assert parse_qr_payload(payload) == (SOW, "7K3M-Q9PX-H4RT-WB2C")
    for other in ("https://example.com", "FTDV-SOW-V1:7K3M", "FTDV-INV-V1:7K3M-Q9PX-H4RT-WB2C", ""):
        assert parse_qr_payload(other) is None


def test_the_upload_check_accepts_the_templates_own_form(voucher: Voucher) -> None:
    verdict = pdfcheck.check(render_template_pdf(voucher=voucher, kind="poe"))
    assert verdict["ok"] and verdict["signatures"] == [] and verdict["scan_pages"] is None


# --- 2. The child: signatures and scans ------------------------------------------------------


def run_child(pdf: bytes, **env: str) -> dict[str, Any]:
    """pdfcheck as the upload runs it, reporting which libraries it loaded."""
    script = (
        "import json, sys\n"
        "from redemptions import pdfcheck\n"
        "verdict = pdfcheck.check(sys.stdin.buffer.read(), "
        "trust_roots=sys.argv[1] or None, regions=pdfcheck.parse_regions(sys.argv[2]))\n"
        "verdict['loaded'] = sorted(m for m in ('django', 'pyhanko', 'pypdfium2') "
        "if m in sys.modules)\n"
        "print(json.dumps(verdict))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script, env.get("roots", ""), env.get("regions", "")],
        input=pdf,
        capture_output=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return dict(json.loads(completed.stdout))


def test_child_reads_signers_from_certificates_and_loads_only_what_it_needs(
    voucher: Voucher, tmp_path: Path
) -> None:
    roots = tmp_path / "roots.pem"
    roots.write_bytes(signing.trust_roots_pem())
    template = render_template_pdf(voucher=voucher, kind="sow")

    unsigned = run_child(template)
    assert unsigned["loaded"] == [] and unsigned["signatures"] == []

    signed = run_child(signing.sign_both(template), roots=str(roots))
    assert signed["loaded"] == ["pyhanko"]
    first, second = signed["signatures"]
    assert (first["field"], first["name"]) == ("customer_signature", signing.CUSTOMER)
    assert (second["field"], second["name"]) == ("partner_signature", signing.PARTNER)
    assert first["intact"] and first["covers_whole"] and first["trusted"]
    assert first["coverage"] == "entire_revision" and first["modification"] == "form_filling"
    assert second["coverage"] == "entire_file" and second["modification"] == "none"
    assert datetime.fromisoformat(first["signed_at"]).tzinfo is not None

    scan = run_child(signing.print_and_scan(template))
    assert scan["loaded"] == ["pypdfium2"] and scan["signatures"] == []
    assert [page["payloads"] for page in scan["scan_pages"]] == [
        [qr_payload(voucher_code=voucher.code, template_id=SOW)]
    ] * 2


def test_without_trust_roots_no_signature_is_trusted_and_none_is_refused(
    voucher: Voucher, settings: Any, tmp_path: Path
) -> None:
    pdf = signing.signed_template(voucher=voucher)
    settings.DOCUMENT_TRUST_ROOTS = ""
    checked = check(pdf, voucher)
    assert [s["trusted"] for s in checked.signatures] == [False, False]
    assert all("not from a trusted authority" in s["detail"] for s in checked.signatures)

    roots = tmp_path / "roots.pem"
    roots.write_bytes(signing.trust_roots_pem())
    settings.DOCUMENT_TRUST_ROOTS = str(roots)
    checked = check(pdf, voucher)
    assert checked.signatures == [
        {
            "field": field,
            "name": name,
            "kind": "digital",
            "intact": True,
            "trusted": True,
            "signed_at": checked.signatures[index]["signed_at"],
            "detail": checked.signatures[index]["detail"],
        }
        for index, (field, name) in enumerate(
            zip(signing.FIELDS, (signing.CUSTOMER, signing.PARTNER), strict=True)
        )
    ]
    # Self-signed certificates outside the trust list: shown as such, still accepted.
    self_signed = signing.signed_template(voucher=voucher, self_signed=True)
    assert [s["trusted"] for s in check(self_signed, voucher).signatures] == [False, False]


# --- 3. The decision on upload -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sow", "poe"])
def test_a_template_signed_by_both_is_accepted_as_uploaded(voucher: Voucher, kind: str) -> None:
    pdf = signing.signed_template(voucher=voucher, kind=kind, signers=("Ana Cliente", "Bo Partner"))
    checked = check(pdf, voucher, template_id(kind))
    assert checked.content == pdf and not checked.is_scan and checked.scan is None
    assert [(s["name"], s["kind"], s["intact"]) for s in checked.signatures] == [
        ("Ana Cliente", "digital", True),
        ("Bo Partner", "digital", True),
    ]


def test_form_filling_between_the_signatures_is_allowed(voucher: Voucher) -> None:
    """The customer signs, the partner fills in the SOW value, then signs (R-DOC-1)."""
    from pypdf import PdfWriter

    first = signing.sign(
        render_template_pdf(voucher=voucher, kind="sow"),
        field="customer_signature",
        name=signing.CUSTOMER,
    )
    writer = PdfWriter(io.BytesIO(first), incremental=True)
    writer.update_page_form_field_values(
        writer.pages[0], {"sow_value": "42,000.00"}, auto_regenerate=False
    )
    filled = io.BytesIO()
    writer.write(filled)
    pdf = signing.sign(filled.getvalue(), field="partner_signature", name=signing.PARTNER)
    checked = check(pdf, voucher)
    assert [s["name"] for s in checked.signatures] == [signing.CUSTOMER, signing.PARTNER]
    assert (PdfReader(io.BytesIO(pdf)).get_fields() or {})["sow_value"]["/V"] == "42,000.00"


@pytest.mark.parametrize(
    ("build", "code", "phrase"),
    [
        (lambda pdf: pdf, "unsigned", "without signatures"),
        (
            lambda pdf: signing.sign(pdf, field="customer_signature", name="Casey Customer"),
            "one_signature",
            "one signature (Casey Customer)",
        ),
        (
            lambda pdf: signing.sign_both(pdf, ("Casey Customer", "Casey Customer")),
            "one_signature",
            "Both signatures are by Casey Customer",
        ),
        (signing.broken_signature, "signature_broken", "is broken"),
        (signing.gap_signature, "signature_gap", "does not cover the whole document"),
        (signing.changed_after_signing, "changed_after_signing", "changed after"),
    ],
    ids=["unsigned", "one", "same_signer", "broken", "gap", "changed"],
)
def test_what_r_doc_1_refuses_for_a_digital_document(
    voucher: Voucher, build: Callable[[bytes], bytes], code: str, phrase: str
) -> None:
    error = refusal(build(render_template_pdf(voucher=voucher, kind="sow")), voucher)
    assert error.code == code and phrase in error.message, error.message


def test_another_vouchers_signed_template_is_refused_by_its_text(
    fy24: Program, voucher: Voucher
) -> None:
    other = make_voucher(fy24, customer_name="Northwind Traders")
    error = refusal(signing.signed_template(voucher=other), voucher)
    assert error.code == "wrong_voucher" and other.code in error.message


def test_a_hand_signed_scan_is_accepted_with_crops_for_the_reviewer(voucher: Voucher) -> None:
    pdf = signing.scanned_template(voucher=voucher, kind="sow")
    assert not PdfReader(io.BytesIO(pdf)).pages[0].extract_text().strip()  # image only
    checked = check(pdf, voucher)
    assert checked.is_scan and checked.scan is not None and checked.scan["pages"] == 2
    boxes = checked.scan["boxes"]
    assert [(b["page"], b["field"], b["empty"]) for b in boxes] == [
        (2, "customer_signature", False),
        (2, "partner_signature", False),
    ]
    for box in boxes:
        png = base64.b64decode(box["png"])
        assert png.startswith(b"\x89PNG") and len(png) <= 200 * 1024
    assert [(s["kind"], s["intact"], s["name"]) for s in checked.signatures] == [
        ("scan", None, None)
    ] * 2
    assert all("ink found" in s["detail"] for s in checked.signatures)


def test_a_scan_with_empty_signature_boxes_is_flagged_for_the_reviewer(voucher: Voucher) -> None:
    signed = check(signing.scanned_template(voucher=voucher), voucher).scan
    empty = check(signing.scanned_template(voucher=voucher, signed=False), voucher).scan
    assert signed is not None and empty is not None
    assert [b["empty"] for b in empty["boxes"]] == [True, True]
    assert min(b["ink"] for b in signed["boxes"]) > 5 * max(b["ink"] for b in empty["boxes"])


def test_signature_regions_come_from_the_layout() -> None:
    regions = signature_regions(SOW)
    assert list(regions) == [1]  # page 2
    (customer, c_rect), (partner, p_rect) = regions[1]
    assert (customer, partner) == signing.FIELDS
    assert 0 < c_rect[0] < c_rect[2] < p_rect[0] < p_rect[2] < 1 and c_rect[1] < c_rect[3]
    assert signature_regions("FTDV-INV-v1") == {}


def test_a_scan_of_another_voucher_or_template_is_refused(fy24: Program, voucher: Voucher) -> None:
    other = make_voucher(fy24, customer_name="Northwind Traders")
    error = refusal(signing.scanned_template(voucher=other), voucher)
    assert error.code == "scan_wrong_voucher" and other.code in error.message
    error = refusal(signing.scanned_template(voucher=voucher, kind="poe"), voucher, SOW)
    assert error.code == "scan_wrong_template" and POE in error.message


def test_a_forged_or_unreadable_qr_code_is_refused(voucher: Voucher) -> None:
    template = render_template_pdf(voucher=voucher, kind="sow")
    forged = signing.forged_qr_scan(template, payload=f"FTDV-SOW-V1:{'2222-3333-4444-5555'}")
    assert refusal(forged, voucher).code == "scan_wrong_voucher"
    assert refusal(signing.unreadable_qr_scan(template), voucher).code == "scan_unreadable"


# --- 4. Refused through the API: nothing stored ------------------------------------------------


HOSTILE = {
    "unsigned": lambda voucher: render_template_pdf(voucher=voucher, kind="sow"),
    "one_signature": lambda voucher: signing.sign(
        render_template_pdf(voucher=voucher, kind="sow"),
        field="customer_signature",
        name=signing.CUSTOMER,
    ),
    "signature_gap": lambda voucher: signing.gap_signature(
        render_template_pdf(voucher=voucher, kind="sow")
    ),
    "changed_after_signing": lambda voucher: signing.changed_after_signing(
        render_template_pdf(voucher=voucher, kind="sow")
    ),
    "scan_wrong_voucher": lambda voucher: signing.forged_qr_scan(
        render_template_pdf(voucher=voucher, kind="sow"), payload="FTDV-SOW-V1:2222-3333-4444-5555"
    ),
}


@pytest.mark.parametrize("code", sorted(HOSTILE))
def test_a_refused_upload_stores_nothing(voucher: Voucher, code: str) -> None:
    client = APIClient()
    user = user_for_role(Role.PARTNER, partner=voucher.partner)
    client.force_authenticate(user)
    with time_machine.travel(DAY_OF_UPLOAD, tick=False):
        response = client.post(
            f"/api/v1/vouchers/{voucher.code}/requests/",
            {
                "kind": "initial",
                "document": upload(HOSTILE[code](voucher)),
                "sow_value": "30000.00",
                "customer_signer": "Casey Customer",
                "customer_signed_on": DAY_OF_UPLOAD.isoformat(),
                "partner_signer": "Pat Partner",
                "partner_signed_on": DAY_OF_UPLOAD.isoformat(),
            },
            format="multipart",
        )
    body = response.json()
    assert response.status_code == 400, body
    assert body["rule"] == "R-DOC-1" and body["code"] == code, body
    assert not PaymentRequest.objects.exists() and not RequestDocument.objects.exists()
    folder = f"requests/{voucher.pk}"
    assert not default_storage.exists(folder) or not default_storage.listdir(folder)[1]


# --- 4. The reviewer decides with evidence ----------------------------------------------------


def _submit(voucher: Voucher, content: bytes, **typed: str) -> dict[str, Any]:
    client = APIClient()
    client.force_authenticate(user_for_role(Role.PARTNER, partner=voucher.partner))
    response = client.post(
        f"/api/v1/vouchers/{voucher.code}/requests/",
        {
            "kind": "initial",
            "document": upload(content),
            "sow_value": "30000.00",
            "customer_signer": typed.get("customer", "Casey Customer"),
            "customer_signed_on": DAY_OF_UPLOAD.isoformat(),
            "partner_signer": typed.get("partner", "Pat Partner"),
            "partner_signed_on": DAY_OF_UPLOAD.isoformat(),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body: dict[str, Any] = response.json()
    return body


def _reviewer(user: Any = None) -> APIClient:
    client = APIClient()
    client.force_authenticate(user or user_for_role(Role.REVIEWER))
    return client


@pytest.fixture
def usd_rate(voucher: Voucher) -> None:
    assert voucher.partner is not None
    FxRate.objects.create(
        currency=voucher.partner.currency, rate_per_usd=Decimal("1"), valid_from=date(2020, 1, 1)
    )


def test_the_reviewer_sees_both_signers_from_their_certificates(voucher: Voucher) -> None:
    with time_machine.travel(DAY_OF_UPLOAD, tick=False):
        pdf = signing.signed_template(voucher=voucher, signers=("Casey Customer", "Bo Partner"))
        body = _submit(voucher, pdf)
        signatures = _reviewer().get(f"/api/v1/requests/{body['id']}/").json()["signatures"]
    assert [(s["party"], s["name"], s["typed_name"], s["kind"]) for s in signatures] == [
        ("customer", "Casey Customer", "Casey Customer", "digital"),
        ("partner", "Bo Partner", "Pat Partner", "digital"),
    ]
    assert all(s["intact"] is True and s["trusted"] is False for s in signatures)
    assert all(s["signed_at"] for s in signatures)

    page = Client()
    page.force_login(user_for_role(Role.REVIEWER))
    html = page.get(f"/review/{body['id']}/").content.decode()
    card = html[html.index('id="signatures"') : html.index("<h2>Payout</h2>")]
    assert "signed by <strong>Casey Customer</strong> (from the certificate)" in card
    assert "signed by <strong>Bo Partner</strong> (from the certificate)" in card
    assert card.count("names differ") == 1  # Bo Partner was typed as Pat Partner
    assert card.count("not from a trusted authority") == 2
    assert "signatures_checked" not in html  # nothing to tick for a digital document

    partner = Client()
    partner.force_login(user_for_role(Role.PARTNER, partner=voucher.partner))
    own = partner.get(f"/requests/{body['id']}/").content.decode()
    assert (
        "Signed digitally by <strong>Casey Customer</strong> (customer) and "
        "<strong>Bo Partner</strong> (partner), as the certificates say." in own
    )


def test_a_scan_is_approved_only_once_both_signatures_are_confirmed(
    voucher: Voucher, usd_rate: None
) -> None:
    with time_machine.travel(DAY_OF_UPLOAD, tick=False):
        body = _submit(voucher, signing.scanned_template(voucher=voucher, kind="sow"))
        rid = body["id"]
        assert [(s["kind"], s["name"], s["intact"]) for s in body["signatures"]] == [
            ("scan", "Casey Customer", None),
            ("scan", "Pat Partner", None),
        ]
        partner = Client()
        partner.force_login(user_for_role(Role.PARTNER, partner=voucher.partner))
        own = partner.get(f"/requests/{rid}/").content.decode()
        assert "Read as a scan of the printed template" in own and "iVBOR" not in own
        qtm = user_for_role(Role.REVIEWER)
        reviewer = _reviewer(qtm)
        listed = reviewer.get("/api/v1/requests/").content.decode()
        assert rid and "png" not in listed and "iVBOR" not in listed  # crops stay out of lists

        page = Client()
        page.force_login(qtm)
        html = page.get(f"/review/{rid}/").content.decode()
        assert html.count('src="data:image/png;base64,') == 2
        assert 'name="signatures_checked" required' in html

        refused = reviewer.post(f"/api/v1/requests/{rid}/approve/")
        assert refused.status_code == 400
        assert refused.json()["rule"] == "R-DOC-1"
        assert refused.json()["code"] == "signatures_not_checked"
        response = page.post(f"/review/{rid}/approve/")  # the box left unticked
        assert response.status_code == 400
        assert "confirm that it carries both wet-ink signatures" in response.content.decode()
        assert PaymentRequest.objects.get(pk=rid).status == "submitted"
        assert not Payment.objects.exists()

        response = page.post(f"/review/{rid}/approve/", {"signatures_checked": "on"})
        assert response.status_code == 302
    approved = PaymentRequest.objects.get(pk=rid)
    assert approved.status == "approved" and approved.signatures_checked
    assert Payment.objects.filter(request=approved).count() == 1
    event = Event.objects.get(subject="request", subject_id=rid, action="approved")
    assert event.data["signatures_checked"] is True
    assert [s["name"] for s in event.data["signatures"]] == ["Casey Customer", "Pat Partner"]
    assert event.data["document"] == approved.documents.get().sha256


def test_a_digital_document_needs_no_confirmation(voucher: Voucher, usd_rate: None) -> None:
    with time_machine.travel(DAY_OF_UPLOAD, tick=False):
        rid = _submit(voucher, signing.signed_template(voucher=voucher))["id"]
        approved = _reviewer().post(f"/api/v1/requests/{rid}/approve/")
    assert approved.status_code == 200, approved.json()
    assert approved.json()["signatures_checked"] is False
    event = Event.objects.get(subject="request", subject_id=rid, action="approved")
    assert event.data["signatures_checked"] is False
    assert [s["kind"] for s in event.data["signatures"]] == ["digital", "digital"]
