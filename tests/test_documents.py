"""SOW and POE documents (R-DOC-1): the pre-filled templates, and the check of an upload
against them, including the hostile corpus in tests/hostile/files/ (make_corpus.py)."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader, PdfWriter

from core.errors import ApplicationError
from nominations.models import Nomination
from partners.models import Partner
from programs.models import Offer, Program, Workload
from redemptions import documents, pdfcheck
from redemptions.documents import CheckedDocument, check_document, read_upload
from redemptions.template_pdfs import TEMPLATE_VERSION, render_template_pdf, template_id
from tests.factories import CustomerFactory, PartnerFactory, user_for_role
from tests.hostile import make_corpus
from tests.signing import sign_both, signed_template
from tests.traffic import text_pdf
from vouchers.codes import generate_code
from vouchers.models import Voucher

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).parent / "hostile" / "files"
CORPUS_CODE = "7K3M-Q9PX-H4RT-WB2C"  # the voucher make_corpus.py renders its templates for
SOW, POE = "FTDV-SOW-v1", "FTDV-POE-v1"
HOSTILE = "<script>alert(1)</script>"

# Every committed corpus file and what it must be refused with.
REFUSALS = {
    "png_renamed.pdf": "not_pdf",
    "text_renamed.pdf": "not_pdf",
    "html_renamed.pdf": "not_pdf",
    "gif_polyglot.pdf": "not_pdf",
    "truncated.pdf": "not_pdf",
    "encrypted.pdf": "encrypted",
    "encrypted_owner_only.pdf": "encrypted",
    "javascript.pdf": "javascript",
    "javascript_names.pdf": "javascript",
    "javascript_orphan.pdf": "javascript",
    "javascript_escaped.pdf": "javascript",
    "javascript_objstm.pdf": "javascript",
    "launch.pdf": "launch",
    "open_action_uri.pdf": "open_action",
    "embedded_file.pdf": "embedded_file",
    "bomb.pdf": "too_complex",
    "nested_arrays.pdf": "too_complex",
    "pages_10000.pdf": "too_many_pages",
    # Only what a signed template needs (R-DOC-1): each of these was accepted before.
    "xfa_stream.pdf": "xfa",
    "xfa_array.pdf": "xfa",
    "javascript_uri.pdf": "javascript",
    "javascript_objstm_orphan.pdf": "javascript",
    "action_gotor_unc.pdf": "action",
    "action_gotoe.pdf": "action",
    "action_uri_file.pdf": "action",
    "action_submitform.pdf": "action",
    "action_importdata.pdf": "action",
    "action_resetform.pdf": "action",
    "action_hide.pdf": "action",
    "action_named.pdf": "action",
    "action_sound.pdf": "action",
    "action_movie.pdf": "action",
    "action_rendition.pdf": "action",
    "action_richmedia_execute.pdf": "action",
    "action_setocgstate.pdf": "action",
    "action_trans.pdf": "action",
    "action_goto3dview.pdf": "action",
    "action_unknown.pdf": "action",
    "action_outline_gotor.pdf": "action",
    "action_next_chain.pdf": "action",
    "media_richmedia.pdf": "multimedia",
    "media_screen.pdf": "multimedia",
    "media_renditions.pdf": "multimedia",
    "media_3d.pdf": "multimedia",
    "media_movie.pdf": "multimedia",
    "media_sound.pdf": "multimedia",
    "file_attachment.pdf": "embedded_file",  # refused before too, now in the corpus
    "bomb_flate_flate.pdf": "too_complex",
    "bomb_hex_flate.pdf": "too_complex",
    "bomb_runlength.pdf": "too_complex",
    "bomb_lzw.pdf": "too_complex",
    "image_huge.pdf": "image_too_large",
    "image_jpeg_header.pdf": "image_too_large",
    "image_jpx_header.pdf": "image_too_large",
    "image_inline.pdf": "image_too_large",
    "image_tall.pdf": "image_too_large",
    # R-DOC-1 round 2: signed digitally by both, or a scan of the printed template.
    "signature_gap.pdf": "signature_gap",
    "changed_after_signing.pdf": "changed_after_signing",
    "signature_broken.pdf": "signature_broken",
    "scan_forged_qr.pdf": "scan_wrong_voucher",
    "scan_qr_unreadable.pdf": "scan_unreadable",
    "scan_bomb.pdf": "too_complex",
}
ACCEPTED = {"path_traversal.pdf", "links.pdf"}


def make_voucher(
    program: Program,
    *,
    code: str | None = None,
    customer_name: str = "Contoso Pharmaceuticals Ltd",
    partner_name: str = "Fabrikam Deployment Services",
    scheme: str = Voucher.Scheme.COMMERCIAL,
    workloads: list[str] | None = None,
) -> Voucher:
    """A voucher claimed by a partner, as tests/test_voucher_documents.py builds one."""
    workloads = workloads or ["M365_E3", "M365_E5"]
    customer = CustomerFactory(name=customer_name, country="GB")
    offer = Offer.objects.get(program=program, code="DEPLOY")
    nomination = Nomination.objects.create(
        program=program,
        customer=customer,
        offer=offer,
        exclusive_group=offer.exclusive_group,
        workloads=workloads,
        deal_value=Decimal("500000.00"),
        expected_close_date=date(2024, 5, 31),
        agreement_type="new",
        nominated_by=user_for_role("field_rep"),
        status=Nomination.Status.ISSUED,
        closed_on=date(2024, 5, 20),
        purchase_amount=Decimal("480000.00"),
    )
    return Voucher.objects.create(
        code=code or generate_code(),
        program=program,
        nomination=nomination,
        customer=customer,
        offer=offer,
        exclusive_group=offer.exclusive_group,
        workloads=workloads,
        scheme=scheme,
        value=Decimal("37500.00"),
        cap=Decimal("50000.00"),
        cap_row="label",
        suggested_value=Decimal("37500.00"),
        issued_on=date(2026, 11, 25),
        expires_on=date(2027, 5, 25),
        issued_by=user_for_role("program_manager"),
        partner=PartnerFactory(name=partner_name),
        status=Voucher.Status.CLAIMED,
    )


@pytest.fixture
def voucher(fy24: Program) -> Voucher:
    return make_voucher(fy24)


def pdf_pages(pdf: bytes) -> list[str]:
    """The whitespace-normalised text of each page."""
    reader = PdfReader(io.BytesIO(pdf))
    return [" ".join((page.extract_text() or "").split()) for page in reader.pages]


def upload(content: bytes, name: str = "signed.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def refusal(
    content: bytes, *, code: str = CORPUS_CODE, template: str = SOW, **kw: Any
) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        check_document(upload=upload(content), voucher_code=code, template_id=template, **kw)
    return caught.value


def assert_helpful(error: ApplicationError) -> None:
    """R-DOC-1 refusals: a sentence (or two) for the partner, on the document field."""
    assert error.rule == "R-DOC-1"
    assert error.fields == {"document": [error.message]}
    assert re.match(r"^[A-Z].{30,}[.)]$", error.message, re.S), error.message
    assert "Traceback" not in error.message and "pypdf" not in error.message


# --- Templates ---------------------------------------------------------------------------


def test_template_ids() -> None:
    assert TEMPLATE_VERSION == "1"
    assert template_id("sow") == SOW
    assert template_id("poe") == POE
    with pytest.raises(ValueError):
        template_id("invoice")
    with pytest.raises(ValueError):
        template_id("SOW")


@pytest.mark.parametrize("kind", ["sow", "poe"])
@pytest.mark.parametrize("scheme", [Voucher.Scheme.COMMERCIAL, Voucher.Scheme.PUBLIC_SECTOR])
def test_template_is_prefilled_for_the_voucher(fy24: Program, kind: str, scheme: str) -> None:
    voucher = make_voucher(fy24, scheme=scheme)
    pdf = render_template_pdf(voucher=voucher, kind=kind)
    assert pdf.startswith(b"%PDF-")
    pages = pdf_pages(pdf)
    assert 1 <= len(pages) <= 2
    text = " ".join(pages)
    for fact in (
        voucher.code,
        "Contoso Pharmaceuticals Ltd",
        voucher.customer.tpid,
        "United Kingdom",
        "Fabrikam Deployment Services",
        cast(Partner, voucher.partner).partner_id,
        "M365 Deployment Offer",
        "Microsoft 365 E3",
        "Microsoft 365 E5",
        "$37,500.00",
        "Submit on or before 25 May 2027",
        template_id(kind),
        f"Version {TEMPLATE_VERSION}",
        "For the customer".upper(),
        "For the partner".upper(),
    ):
        assert fact in text, fact
    for page in pages:  # header/footer: the template and the voucher on every page
        assert f"Template {template_id(kind)} · Version 1 · Voucher {voucher.code}" in page
    other = POE if kind == "sow" else SOW
    assert other not in text  # else one template would pass as the other


def test_sow_sections(voucher: Voucher) -> None:
    text = " ".join(pdf_pages(render_template_pdf(voucher=voucher, kind="sow")))
    assert "Scope of deployment services" in text
    assert "SOW value (USD):" in text
    assert "Deployment services inside the FastTrack benefit" in text
    assert "FREE TO THE CUSTOMER" in text and "Billable services outside the benefit" in text
    assert "50% of the lesser of the voucher value and the SOW value" in text
    assert "The rest of the same amount" in text
    for label in ("Name", "Title", "Signature", "Date"):
        assert text.count(f" {label} ") >= 2, label


def test_public_sector_sow_pays_nothing_and_poe_pays_all(fy24: Program) -> None:
    voucher = make_voucher(fy24, scheme=Voucher.Scheme.PUBLIC_SECTOR)
    sow = " ".join(pdf_pages(render_template_pdf(voucher=voucher, kind="sow")))
    assert "Approval of this SOW pays nothing" in sow and "R-PUB-1" in sow
    assert "100% of the lesser of the voucher value and the SOW value" in sow
    assert "50%" not in sow
    poe = " ".join(pdf_pages(render_template_pdf(voucher=voucher, kind="poe")))
    assert "100%" in poe and "R-PUB-2" in poe


def test_poe_sections(voucher: Voucher) -> None:
    text = " ".join(pdf_pages(render_template_pdf(voucher=voucher, kind="poe")))
    assert "Deployment completed" in text and "Deployment completion date" in text
    assert "Microsoft 365 E3 Yes No" in text  # one row per workload, with boxes to tick
    assert "Attestation" in text
    assert f"approved Statement of Work for voucher {voucher.code}" in text
    assert "no charge to the customer" in text


def test_long_names_and_every_workload_fit_two_pages(fy24: Program) -> None:
    workloads = list(Workload.objects.filter(program=fy24).values_list("code", flat=True))
    voucher = make_voucher(
        fy24,
        customer_name=("Northwind Traders International Holdings and Subsidiaries " * 4)[:200],
        partner_name=("Fabrikam Deployment Services Global Partners Incorporated " * 4)[:200],
        workloads=workloads,
    )
    for kind in ("sow", "poe"):
        pages = pdf_pages(render_template_pdf(voucher=voucher, kind=kind))
        assert 1 <= len(pages) <= 2, kind
        assert all(voucher.code in page and template_id(kind) in page for page in pages)


def test_template_prints_hostile_names_as_text(fy24: Program) -> None:
    voucher = make_voucher(fy24, customer_name=f"Evil {HOSTILE} Corp", partner_name=HOSTILE)
    for kind in ("sow", "poe"):
        text = " ".join(pdf_pages(render_template_pdf(voucher=voucher, kind=kind)))
        assert f"Evil {HOSTILE} Corp" in text


# --- Accepted ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sow", "poe"])
def test_own_template_is_accepted_as_uploaded(voucher: Voucher, kind: str) -> None:
    """The template signed by both (R-DOC-1, round 2), stored exactly as uploaded."""
    pdf = signed_template(voucher=voucher, kind=kind)
    checked = check_document(
        upload=upload(pdf), voucher_code=voucher.code, template_id=template_id(kind)
    )
    assert isinstance(checked, CheckedDocument)
    assert checked.content == pdf  # exactly the uploaded bytes, nothing rewritten
    assert checked.sha256 == hashlib.sha256(pdf).hexdigest()
    assert checked.size == len(pdf)
    assert checked.pages == 2


def test_upload_name_does_not_matter_path_traversal() -> None:
    content = (CORPUS / "path_traversal.pdf").read_bytes()
    checked = check_document(
        upload=upload(content, name="../../etc/passwd.pdf"),
        voucher_code=CORPUS_CODE,
        template_id=SOW,
    )
    assert checked.content == content and checked.pages == 2


def test_web_links_and_links_within_the_document_are_accepted() -> None:
    """R-DOC-1 allows what a template links: /URI to https and mailto, /GoTo and /Dest in the
    document, an outline item's /GoTo, a /URI whose /Next is a /GoTo (links.pdf)."""
    content = (CORPUS / "links.pdf").read_bytes()
    reader = PdfReader(io.BytesIO(content))
    annotations = cast(list[Any], reader.pages[0]["/Annots"])
    actions = [annotation.get_object().get("/A") for annotation in annotations]
    assert {str(a["/S"]) for a in actions if a} == {"/URI", "/GoTo"}
    checked = check_document(upload=upload(content), voucher_code=CORPUS_CODE, template_id=SOW)
    assert checked.content == content and checked.pages == 2


def test_weasyprint_links_are_accepted() -> None:
    """What WeasyPrint writes for <a href>: /URI actions (https, mailto), a /Dest to a named
    destination and an outline; the template's own renderer, so its links pass."""
    import weasyprint

    html = (
        f'<h1 id="top">Statement of Work</h1><p>Template {SOW} · Voucher {CORPUS_CODE}</p>'
        '<p><a href="https://vouchers.example.com/vouchers/">portal</a> '
        '<a href="mailto:fasttrack@example.com">mail</a> <a href="#top">top</a></p>'
    )
    pdf = sign_both(cast(bytes, weasyprint.HTML(string=html).write_pdf()), new_fields=True)
    links = cast(list[Any], PdfReader(io.BytesIO(pdf)).pages[0]["/Annots"])
    annotations = [a.get_object() for a in links if "/FT" not in a.get_object()]
    assert [str(a["/A"]["/URI"]) for a in annotations if "/A" in a] == [
        "https://vouchers.example.com/vouchers/",
        "mailto:fasttrack@example.com",
    ]
    assert any("/Dest" in a for a in annotations)
    checked = check_document(upload=upload(pdf), voucher_code=CORPUS_CODE, template_id=SOW)
    assert checked.pages == 1


def test_voucher_code_matches_whatever_the_spacing_and_case(voucher: Voucher) -> None:
    code = voucher.code
    for text in (code, code.replace("-", " - "), code.replace("-", "\u2013"), code.lower()):
        documents._require_voucher(f"Voucher {text} Template {SOW}", code, SOW)


# --- Refused: the templates of something else ----------------------------------------------


def test_poe_is_refused_as_sow_and_sow_as_poe(voucher: Voucher) -> None:
    poe = render_template_pdf(voucher=voucher, kind="poe")
    error = refusal(poe, code=voucher.code, template=SOW)
    assert error.code == "wrong_template"
    assert "POE template, not the SOW template" in error.message and SOW in error.message
    assert_helpful(error)

    sow = render_template_pdf(voucher=voucher, kind="sow")
    error = refusal(sow, code=voucher.code, template=POE)
    assert error.code == "wrong_template" and "SOW template, not the POE" in error.message


def test_another_vouchers_template_is_refused(fy24: Program, voucher: Voucher) -> None:
    other = make_voucher(fy24, customer_name="Another Customer Ltd")
    pdf = render_template_pdf(voucher=other, kind="sow")
    error = refusal(pdf, code=voucher.code, template=SOW)
    assert error.code == "wrong_voucher"
    assert error.message == (
        f"This document carries voucher {other.code}, not {voucher.code}; download this "
        "voucher's template and have it signed."
    )
    assert_helpful(error)


def test_older_template_version_and_unrelated_pdf_are_refused() -> None:
    error = refusal(text_pdf(f"Voucher {CORPUS_CODE} Template FTDV-SOW-v0"))
    assert error.code == "wrong_template" and "version 0 of the SOW template" in error.message

    error = refusal(text_pdf(f"Voucher {CORPUS_CODE} Invoice 42"))
    assert error.code == "wrong_template"
    assert error.message.startswith("This is not the program SOW template (template ID ")

    error = refusal(text_pdf("Statement of Work, no voucher"))
    assert error.code == "missing_voucher"
    assert error.message == (
        f"This document does not carry voucher {CORPUS_CODE}; download this voucher's "
        "template and have it signed."
    )
    assert_helpful(error)


def test_pdf_without_text_or_qr_code_is_refused_as_an_unreadable_scan() -> None:
    """R-DOC-1 round 2: a PDF without text is read as a scan, recognised only by the
    template's QR code on every page; a blank page has none."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    error = refusal(out.getvalue())
    assert error.code == "scan_unreadable" and "page 1" in error.message
    assert_helpful(error)


# --- Refused: the hostile corpus -----------------------------------------------------------


def test_corpus_is_complete_and_small() -> None:
    files = {path.name for path in CORPUS.glob("*.pdf")}
    assert files == set(REFUSALS) | ACCEPTED
    assert sum(path.stat().st_size for path in CORPUS.glob("*.pdf")) < 2 * 1024 * 1024


@pytest.mark.parametrize(("name", "code"), sorted(REFUSALS.items()))
def test_corpus_file_is_refused(name: str, code: str) -> None:
    """Refused, not timed: the bomb and the 10,000 pages must simply come back refused
    (the subprocess is killed after 15 s, so the test cannot hang)."""
    error = refusal((CORPUS / name).read_bytes())
    assert error.code == code, error.message
    assert_helpful(error)


@pytest.mark.parametrize(
    ("name", "phrase"),
    [
        ("png_renamed.pdf", "This is not a PDF: it starts like a PNG image."),
        ("gif_polyglot.pdf", "This is not a PDF: it starts like a GIF image, with a PDF after it."),
        ("html_renamed.pdf", "This is not a PDF: it starts like an HTML page."),
        ("text_renamed.pdf", "This is not a PDF: it starts like a text file."),
        ("truncated.pdf", "The PDF is incomplete"),
        (
            "encrypted.pdf",
            "The PDF is password-protected or encrypted; upload it without encryption",
        ),
        ("javascript.pdf", "The PDF contains JavaScript; print it to a new PDF without scripts"),
        ("launch.pdf", "launches a program"),
        ("embedded_file.pdf", "file attached or embedded"),
        ("open_action_uri.pdf", "run automatically"),
        ("pages_10000.pdf", "The PDF has 10,000 pages; the limit is 100."),
        ("bomb.pdf", "too complex to check safely"),
        ("bomb_flate_flate.pdf", "too complex to check safely"),
        ("xfa_stream.pdf", "The PDF is an XFA form"),
        ("javascript_uri.pdf", "The PDF contains JavaScript"),
        (
            "action_gotor_unc.pdf",
            "The PDF contains an action the signed template does not need (GoToR, which "
            "opens another file): only web links (http, https, mailto) and links within the "
            "document are allowed.",
        ),
        ("action_named.pdf", "(Named, which runs a viewer menu command)"),
        ("action_uri_file.pdf", "(a link to an address that is not http, https or mailto)"),
        ("action_unknown.pdf", "(an action of a type no PDF standard defines)"),
        ("media_3d.pdf", "sound, video, 3D or rich media"),
        (
            "image_huge.pdf",
            "The PDF contains an image of 60,000 x 60,000 pixels; the limit is 100 megapixels "
            "and 20,000 pixels a side. If it is a scan, scan it again at 300 dpi",
        ),
        ("image_tall.pdf", "an image of 1 x 30,000 pixels"),
    ],
)
def test_refusal_says_what_is_wrong(name: str, phrase: str) -> None:
    error = refusal((CORPUS / name).read_bytes())
    assert phrase in error.message, error.message


def test_oversized_upload_is_refused_with_its_size() -> None:
    content = b"%PDF-1.7\n" + bytes(13_000_000)
    error = refusal(content)
    assert error.code == "too_large"
    assert error.message.startswith("The file is 12.4 MB; the limit is 10 MB.")
    assert_helpful(error)


def test_just_over_the_limit_says_bytes() -> None:
    error = refusal(b"%PDF-" + bytes(10 * 1024 * 1024 - 4))
    assert error.message.startswith(
        "The file is 10,485,761 bytes; the limit is 10 MB (10,485,760 bytes)."
    )


def test_empty_upload_is_refused() -> None:
    error = refusal(b"")
    assert error.code == "empty" and "0 bytes" in error.message
    assert_helpful(error)


def test_max_bytes_argument_overrides_the_setting(settings: Any, voucher: Voucher) -> None:
    pdf = render_template_pdf(voucher=voucher, kind="sow")
    error = refusal(pdf, code=voucher.code, max_bytes=1000)
    assert error.code == "too_large" and "the limit is 1,000 bytes." in error.message
    settings.DOCUMENT_MAX_BYTES = 1000
    assert refusal(pdf, code=voucher.code).code == "too_large"


# --- Reading uploads -------------------------------------------------------------------------


class Endless:
    """An upload of unknown size that never ends; counts what was read."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        assert size > 0, "read() without a size would never return"
        self.read_bytes += size
        return b"%" * size


class ChunksOnly:
    def __init__(self, content: bytes, chunk: int = 1000) -> None:
        self.content, self.chunk = content, chunk

    def chunks(self) -> Iterator[bytes]:
        for start in range(0, len(self.content), self.chunk):
            yield self.content[start : start + self.chunk]


def test_read_upload_never_reads_past_the_limit() -> None:
    endless = Endless()
    with pytest.raises(ApplicationError) as caught:
        read_upload(endless, max_bytes=100_000)
    assert caught.value.code == "too_large"
    assert caught.value.message.startswith("The file is larger than 97.7 KB, the limit.")
    assert endless.read_bytes == 100_001


def test_read_upload_from_chunks_and_from_uploaded_files() -> None:
    content = bytes(range(256)) * 40
    assert read_upload(ChunksOnly(content), max_bytes=len(content)) == content
    with pytest.raises(ApplicationError):
        read_upload(ChunksOnly(content), max_bytes=len(content) - 1)
    uploaded = upload(content)
    uploaded.read(10)  # a view that already peeked at the file
    assert read_upload(uploaded, max_bytes=len(content)) == content


# --- The subprocess ----------------------------------------------------------------------------


def fake(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setattr(documents, "CHECK_TARGET", f"tests.sandbox_fakes:{name}")


@pytest.mark.parametrize(
    "name", ["crashes", "raises", "writes_no_json", "half_a_verdict", "a_list"]
)
def test_a_failing_check_refuses_as_too_complex(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    fake(monkeypatch, name)
    error = refusal((CORPUS / "path_traversal.pdf").read_bytes())
    assert error.code == "too_complex"
    assert_helpful(error)
    fake(monkeypatch, "limited")  # the server outlived its child: the next check passes
    content = (CORPUS / "path_traversal.pdf").read_bytes()
    assert check_document(upload=upload(content), voucher_code=CORPUS_CODE, template_id=SOW)


def test_a_slow_check_is_killed_at_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, "sleeps")
    monkeypatch.setattr(documents, "CHECK_TIMEOUT_SECONDS", 0.5)
    content = (CORPUS / "path_traversal.pdf").read_bytes()
    assert refusal(content).code == "too_complex"
    assert documents.run_pdfcheck(content)["detail"] == "The check ran out of time."


def test_the_check_runs_with_memory_and_cpu_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, "limited")
    content = (CORPUS / "path_traversal.pdf").read_bytes()
    assert check_document(upload=upload(content), voucher_code=CORPUS_CODE, template_id=SOW)

    fake(monkeypatch, "grabs_memory")
    assert refusal(content).code == "too_complex"


def test_a_spinning_check_is_stopped_at_its_cpu_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, "spins")
    monkeypatch.setattr(documents, "CHECK_CPU_SECONDS", 1)
    content = (CORPUS / "path_traversal.pdf").read_bytes()
    assert refusal(content).code == "too_complex"
    verdict = documents.run_pdfcheck(content)
    # The kernel's signal at the CPU limit: SIGXCPU, or SIGKILL when soft and hard are one.
    assert verdict["detail"] in {
        "The check stopped (exit status -24).",
        "The check stopped (exit status -9).",
    }


def test_the_check_gets_no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "do-not-leak")
    monkeypatch.setenv("DATABASE_URL", "postgres://secret@db/portal")
    fake(monkeypatch, "sees_no_secrets")
    documents._sandbox().stop()  # a server started before the variables were set
    content = (CORPUS / "path_traversal.pdf").read_bytes()
    assert check_document(upload=upload(content), voucher_code=CORPUS_CODE, template_id=SOW)


def test_each_upload_is_read_in_a_fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, "own_process")
    content = (CORPUS / "path_traversal.pdf").read_bytes()
    for _ in range(3):
        assert check_document(upload=upload(content), voucher_code=CORPUS_CODE, template_id=SOW)


def test_a_dead_server_is_started_again(monkeypatch: pytest.MonkeyPatch) -> None:
    content = (CORPUS / "path_traversal.pdf").read_bytes()
    assert check_document(upload=upload(content), voucher_code=CORPUS_CODE, template_id=SOW)
    server = documents._sandbox()._process
    assert server is not None
    server.kill()
    server.wait()
    assert check_document(upload=upload(content), voucher_code=CORPUS_CODE, template_id=SOW)
    assert documents._sandbox()._process is not server


# --- pdfcheck, in process --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "found"),
    [
        (b"<< /S /JavaScript /JS (x) >>", {"javascript"}),
        (b"<</JS(x)>>", {"javascript"}),
        (b"<</J#53 (x)>>", {"javascript"}),
        (b"<< /JSomething 1 /JSON 2 >>", set()),
        (b"<< /AA<< >> >>", {"open_action"}),
        (b"<< /AAPL 1 /AAA 2 /XAA 3 >>", set()),
        (b"<< /Launch/EmbeddedFiles[] >>", {"launch", "embedded_file"}),
        (b"<< /Type /EmbeddedFile >>", {"embedded_file"}),
        (b"<< /OpenAction [3 0 R /Fit] >>", {"open_action"}),
        (b"<< /Length 9 >>\nstream\n/JS /AA x\nendstream", set()),  # stream data is skipped
        (b"<< /Length 9 >>\nstream\n/JS /AA x\nendstream\n<< /JS 1 >>", {"javascript"}),
    ],
)
def test_raw_scan_matches_whole_names_only(raw: bytes, found: set[str]) -> None:
    assert pdfcheck.scan_raw(raw) == found


def test_inflated_size_stops_counting_past_the_limit() -> None:
    import zlib

    data = zlib.compress(bytes(50 * 1024 * 1024))
    assert pdfcheck.inflated_size(data, 1024 * 1024) <= 2 * 1024 * 1024 + 1
    assert pdfcheck.inflated_size(zlib.compress(b"abc"), 10) == 3
    assert pdfcheck.inflated_size(b"not zlib", 10) == 0


# --- pdfcheck: only what a signed template needs (R-DOC-1) -----------------------------------


def link_pdf(action: bytes, *objects: bytes) -> bytes:
    return make_corpus._link_pdf(action, *objects)


def verdict(content: bytes) -> tuple[str | None, str | None]:
    found = pdfcheck.check(content)
    return found["problem"], found["subject"]


@pytest.mark.parametrize("action", sorted(pdfcheck.ACTIONS))
def test_every_action_but_uri_and_goto_is_refused(action: str) -> None:
    """Each action type ISO 32000 defines, besides /URI, /GoTo, /Launch and /JavaScript (which
    have their own codes), in a link, a widget's /A, an outline item and a /Next chain."""
    body = b"<< /Type /Action /S %s >>" % action.encode()
    expected = ("action", pdfcheck.ACTIONS[action])
    assert verdict(link_pdf(body)) == expected
    widget = b"<< /Type /Annot /Subtype /Widget /FT /Btn /T (b) /Rect [0 0 9 9] /A %s >>" % body
    assert verdict(make_corpus._annotation_pdf(widget)) == expected
    outline = make_corpus._text_pdf(
        catalog=b" /Outlines 6 0 R",
        objects=(
            b"<< /Type /Outlines /First 7 0 R /Last 7 0 R /Count 1 >>",
            b"<< /Title (x) /Parent 6 0 R /A 8 0 R >>",
            body.replace(b"/Type /Action ", b""),  # an indirect action, not saying it is one
        ),
    )
    assert verdict(outline) == expected
    chain = b"<< /S /URI /URI (https://example.com/) /Next 7 0 R >>"
    last = body.replace(b"/Type /Action ", b"")
    assert verdict(link_pdf(chain, b"<< /S /GoTo /D [3 0 R /Fit] /Next [8 0 R] >>", last)) == (
        expected
    )


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("https://vouchers.example.com/vouchers/?a=1", None),
        ("HTTP://example.com", None),
        ("mailto:fasttrack@example.com", None),
        ("file://host/share/sow.pdf", "action"),
        ("\\\\host\\share\\sow.pdf", "action"),  # \\host\share\sow.pdf
        ("smb://host/share", "action"),
        ("ftp://example.com/sow.pdf", "action"),
        ("sow.pdf", "action"),  # relative: resolved against the file's own location
        ("javascript:app.alert(1)", "javascript"),
        (" JavaScript:app.alert(1)", "javascript"),
        ("java\tscript:app.alert(1)", "javascript"),  # a tab, which browsers drop
    ],
)
def test_uri_links_go_to_web_and_mail_addresses_only(address: str, problem: str | None) -> None:
    assert verdict(link_pdf(b"<< /S /URI /URI (%s) >>" % address.encode()))[0] == problem


def test_a_uri_without_an_address_is_refused() -> None:
    assert verdict(link_pdf(b"<< /S /URI /URI 42 >>")) == ("action", pdfcheck.URI_MISSING)


def test_a_signed_tagged_template_with_form_fields_passes() -> None:
    """What a signed, tagged PDF carries and the allow-list must not mistake for active
    content: an /AcroForm with a signature field, /SigFlags and a /DocMDP reference, a
    structure tree whose elements have /S types and /A attributes, page labels (/S /D), a
    transparency group (/S /Transparency), named destinations and a /GoTo link."""
    content = make_corpus._text_pdf(
        catalog=b" /AcroForm << /Fields [6 0 R] /SigFlags 3 >> /StructTreeRoot 8 0 R"
        b" /MarkInfo << /Marked true >> /PageLabels << /Nums [0 << /S /D >>] >>"
        b" /Names << /Dests << /Names [(top) [3 0 R /Fit]] >> >>",
        page=b" /Annots [6 0 R 9 0 R] /Group << /S /Transparency /CS /DeviceRGB >>",
        objects=(
            b"<< /Type /Annot /Subtype /Widget /FT /Sig /T (Customer) /Rect [40 100 300 140]"
            b" /F 132 /P 3 0 R /V 7 0 R >>",
            b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached"
            b" /ByteRange [0 10 20 30] /Contents <00> /Reference [<< /Type /SigRef"
            b" /TransformMethod /DocMDP /TransformParams << /P 2 /V /1.2 >> >>] >>",
            b"<< /Type /StructTreeRoot /K << /Type /StructElem /S /Document /P 8 0 R /K"
            b" [<< /S /P /A << /O /Layout /Placement /Block >> /Pg 3 0 R /K 0 >>] >> >>",
            b"<< /Type /Annot /Subtype /Link /Rect [40 700 300 760] /A << /S /GoTo /D (top) >> >>",
        ),
    )
    assert verdict(content) == (None, None)


@pytest.mark.parametrize(
    ("catalog", "problem"),
    [
        (b" /AcroForm << /Fields [] /XFA 6 0 R >>", "xfa"),
        (b" /NeedsRendering true", "xfa"),
        (
            b" /Names << /JavaScript << /Names [(a) << /S /JavaScript /JS 6 0 R >>] >> >>",
            "javascript",
        ),
        (b" /AA << /WC << /S /JavaScript /JS (x) >> >>", "javascript"),
        (b" /AA << /WC << /S /GoToR /F (x.pdf) >> >>", "action"),
        (b" /OpenAction << /S /Named /N /Print >>", "action"),
        (b" /OpenAction [3 0 R /Fit]", "open_action"),
        (b" /Collection << /Type /Collection >>", "embedded_file"),
        (b" /Names << /AlternatePresentations << /Names [] >> >>", "multimedia"),
    ],
)
def test_catalog_entries_are_refused(catalog: bytes, problem: str) -> None:
    content = make_corpus._text_pdf(catalog=catalog, objects=(make_corpus._stream(b"x"),))
    assert verdict(content)[0] == problem


def test_widget_triggers_with_javascript_are_javascript() -> None:
    """A form field's /AA (keystroke, format, validate, calculate): JavaScript, whatever is
    also wrong with the file."""
    widget = (
        b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (value) /Rect [0 0 9 9] "
        b"/AA << /K << /S /JavaScript /JS 7 0 R >> /F 8 0 R >> >>"
    )
    content = make_corpus._annotation_pdf(
        widget, make_corpus._stream(b"app.alert(1)"), b"<< /S /ResetForm >>"
    )
    assert verdict(content)[0] == "javascript"


def test_a_page_transition_is_refused() -> None:
    content = make_corpus._text_pdf(page=b" /Trans << /S /Dissolve /D 1 >>")
    assert verdict(content) == ("action", pdfcheck.ACTIONS["/Trans"])


def test_object_stream_names_are_scanned_in_chunks() -> None:
    found: dict[str, str | None] = {}
    scanner = pdfcheck.NameScanner(found, pdfcheck.Budget(pdfcheck.DECODE_BUDGET))
    for piece in (b"<< /JS", b"ON 1 /Ope", b"nActio", b"n 2 >>"):
        scanner.feed(piece)
    scanner.feed(b"", final=True)
    assert found == {"open_action": None}  # /JSON is not /JS, /OpenAction is whole again


# --- pdfcheck: decoded sizes through every filter ---------------------------------------------


def decoded(stage: Any, data: bytes, parameters: Any = None, piece: int = 7) -> bytes:
    """`stage` fed `data` in `piece`-byte chunks, so every cut between chunks is tried."""
    chunks = (data[i : i + piece] for i in range(0, len(data), piece))
    return b"".join(stage(chunks, parameters))


def test_each_filter_decodes_as_pypdf_does() -> None:
    import base64
    import random
    import zlib

    from pypdf._codecs._codecs import LzwCodec
    from pypdf.filters import ASCII85Decode, ASCIIHexDecode, LZWDecode, RunLengthDecode

    rng = random.Random(7)
    data = bytes(rng.choice(b"abc\x00\xff") for _ in range(20_000)) + bytes(5000)
    assert decoded(pdfcheck.inflate, zlib.compress(data)) == data
    lzw = LzwCodec().encode(data)
    assert decoded(pdfcheck.lzw_decode, lzw) == LZWDecode.decode(lzw) == data
    zeros = make_corpus.lzw_zeros(9_000_000)
    assert decoded(pdfcheck.lzw_decode, zeros, piece=997) == bytes(9_000_000)
    hex_data = data.hex().encode() + b">"
    assert decoded(pdfcheck.ascii_hex_decode, hex_data) == ASCIIHexDecode.decode(hex_data)
    a85 = base64.a85encode(data, adobe=True)
    assert decoded(pdfcheck.ascii85_decode, a85) == ASCII85Decode.decode(a85) == data
    runs = b"\x02abc\xfex\x00y\x81z\x80ignored"
    assert decoded(pdfcheck.run_length_decode, runs, piece=1) == RunLengthDecode.decode(runs)


def test_decoding_stops_as_soon_as_the_cap_is_passed() -> None:
    """The 768 MiB [/FlateDecode /FlateDecode] bomb: refused after about MAX_DECODED_STREAM,
    holding a few chunks at a time, never the decoded stream."""
    import time
    import tracemalloc

    reader = PdfReader(io.BytesIO((CORPUS / "bomb_flate_flate.pdf").read_bytes()))
    resources = cast(dict[str, Any], reader.pages[0]["/Resources"])
    image = resources["/XObject"]["/Im1"].get_object()
    budget = pdfcheck.Budget(pdfcheck.DECODE_BUDGET)
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(pdfcheck.TooComplex, match="decodes to more than 32 MB"):
        pdfcheck.decode_stream(image, budget)
    seconds = time.perf_counter() - started
    _size, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 8 * pdfcheck.DECODE_CHUNK, peak
    assert seconds < 5
    spent = pdfcheck.DECODE_BUDGET - budget.left
    assert spent < 3 * (pdfcheck.MAX_DECODED_STREAM + pdfcheck.DECODE_CHUNK)  # both stages


def test_the_budget_covers_all_streams_together() -> None:
    import zlib

    eight_mib = zlib.compress(bytes(8 * 1024 * 1024))
    images = [
        make_corpus._image(eight_mib, width=100, height=100, extra=b" /Filter /FlateDecode")
        for _ in range(33)  # 264 MiB in all, each under the 32 MiB of one stream
    ]
    content = make_corpus._text_pdf(
        resources=b" /XObject << %s >>"
        % b" ".join(b"/Im%d %d 0 R" % (i, i + 6) for i in range(len(images))),
        objects=tuple(images),
    )
    problem = pdfcheck.check(content)
    assert problem["problem"] == "too_complex"
    assert "the streams decode to more than 256 MB" in problem["detail"]


@pytest.mark.parametrize(
    ("filters", "detail"),
    [
        (b"/Filter [/FlateDecode /FlateDecode /FlateDecode /FlateDecode /FlateDecode]", "chains"),
        (b"/Filter [/DCTDecode /FlateDecode]", "followed by another filter"),
        (
            b"/Filter [/FlateDecode /FlateDecode]"
            b" /DecodeParms [<< /Predictor 12 /Columns 4 >> null]",
            "predictor in the middle",
        ),
        (b"/Filter /BrotliDecode", "cannot measure"),
        (b"/Filter /NoSuchDecode", "cannot measure"),
    ],
)
def test_filter_chains_the_check_cannot_measure_are_refused(filters: bytes, detail: str) -> None:
    image = make_corpus._image(b"x", width=10, height=10, extra=b" " + filters)
    problem = pdfcheck.check(make_corpus._image_pdf(image))
    assert problem["problem"] == "too_complex" and detail in problem["detail"]


def test_a_predictor_on_the_last_filter_is_fine() -> None:
    import zlib

    rows = b"".join(b"\x02" + bytes(10) for _ in range(10))  # PNG "up", 10 rows of 10
    image = make_corpus._image(
        zlib.compress(rows),
        width=10,
        height=10,
        extra=b" /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 10 >>",
    )
    assert verdict(make_corpus._image_pdf(image)) == (None, None)


# --- pdfcheck: image sizes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height", "problem"),
    [
        (10_000, 10_000, None),  # 100 megapixels: the limit
        (10_001, 10_000, "image_too_large"),
        (20_000, 5_000, None),  # the longest side allowed
        (20_001, 10, "image_too_large"),
        (10, 20_001, "image_too_large"),
    ],
)
def test_image_limits(width: int, height: int, problem: str | None) -> None:
    for image in (
        make_corpus._image(
            make_corpus._jpeg_header(width, height),
            width=width,
            height=height,
            extra=b" /Filter /DCTDecode",
        ),
        make_corpus._image(  # the dictionary alone, whatever the codec
            b"", width=width, height=height, extra=b" /Filter /CCITTFaxDecode"
        ),
    ):
        assert verdict(make_corpus._image_pdf(image))[0] == problem


def test_jpeg_and_jpeg_2000_headers_are_read_as_decoders_read_them() -> None:
    jpeg = make_corpus._jpeg_header(640, 480)
    assert pdfcheck.jpeg_size(jpeg) == (640, 480)
    app1 = b"\xff\xe1\x00\x06Exif"  # a segment before the frame, then stray bytes
    assert pdfcheck.jpeg_size(jpeg[:2] + app1 + b"\x00\x00" + jpeg[2:]) == (640, 480)
    assert pdfcheck.jpeg_size(b"\xff\xd8\xff\xda\x00\x02") is None  # a scan, no frame
    assert pdfcheck.jpeg_size(b"not a jpeg") is None
    assert pdfcheck.jpx_size(make_corpus._jpx_header(800, 600)) == (800, 600)
    codestream = make_corpus._jpx_header(50_000, 40_000)
    ihdr = b"\x00\x00\x00\x16ihdr" + bytes.fromhex("000000640000006400010707") + b"\x00\x00"
    jp2 = (
        b"\x00\x00\x00\x0cjP  \r\n\x87\n"
        + b"\x00\x00\x00\x1ejp2h"
        + ihdr
        + b"%s%sjp2c" % ((len(codestream) + 8).to_bytes(4, "big"), b"")
        + codestream
    )
    assert pdfcheck.jpx_size(jp2) == (50_000, 40_000)  # the codestream, not ihdr's 100 x 100


def test_inline_images_are_found_across_chunks() -> None:
    content = (
        b"q BI /W 10 /H 10 /CS /G /BPC 8 ID " + bytes(100) + b" EI Q\n"
        b"(ABI /W 99999 is a word) Tj /W 88888 (after an image's ID, not its size) Tj\n"
        b"q BI /IM true /Width 30000 /Height 2 /F /AHx ID 00> EI Q"
    )
    for piece in (1, 5, 64, len(content)):
        images = pdfcheck.InlineImages(pdfcheck.Budget(pdfcheck.DECODE_BUDGET))
        for start in range(0, len(content), piece):
            images.feed(content[start : start + piece])
        images.feed(b"", final=True)
        assert images.too_large == (30_000, 2), piece
    images = pdfcheck.InlineImages(pdfcheck.Budget(pdfcheck.DECODE_BUDGET))
    images.feed(content[: content.index(b"q BI /IM")], final=True)
    assert images.too_large is None
    hidden = b"BI /DP << /Note (ID ) >> /W 40000 /H 40000 /F /AHx ID 00> EI"  # a false ID
    images = pdfcheck.InlineImages(pdfcheck.Budget(pdfcheck.DECODE_BUDGET))
    images.feed(hidden, final=True)
    assert images.too_large == (40_000, 40_000)


def test_the_check_stays_linear() -> None:
    """Content built to make a naive scan slow: 30 MB of "BI " that begins no inline image,
    3,000 links, then more inline images or escaped names than any template has (refused as
    too complex instead of scanned one by one). Each answered in well under the CPU limit."""
    import time
    import zlib

    def form_pdf(content: bytes, *, links: int = 0) -> bytes:
        form = make_corpus._stream(
            zlib.compress(content),
            b" /Type /XObject /Subtype /Form /BBox [0 0 9 9] /Filter /FlateDecode",
        )
        annotations = tuple(
            b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /URI "
            b"/URI (https://example.com/%d) >> >>" % i
            for i in range(links)
        )
        references = b" ".join(b"%d 0 R" % (7 + i) for i in range(links))
        return make_corpus._text_pdf(
            resources=b" /XObject << /Fm1 6 0 R >>",
            page=b" /Annots [%s]" % references,
            objects=(form, *annotations),
        )

    cases = [
        (form_pdf(b"BI " * 10_000_000, links=3000), None, ""),
        (form_pdf(b"BI /W 1 /H 1 " * 200_000), "too_complex", "inline images"),
        (form_pdf(b"q Q") + b"%" + b"/a#41" * 200_000 + b"\n%%EOF\n", "too_complex", "names"),
    ]
    for content, problem, detail in cases:
        started = time.perf_counter()
        found = pdfcheck.check(content)
        assert time.perf_counter() - started < 5
        assert found["problem"] == problem and detail in found["detail"], found["detail"]


def test_pdfcheck_is_free_of_django() -> None:
    script = (
        "import sys, redemptions.pdfcheck; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'core')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        check=True,
        cwd=django_settings.BASE_DIR,
    )
    assert out.stdout.strip() == b"[]"
