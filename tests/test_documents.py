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
}
ACCEPTED = {"path_traversal.pdf"}


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
    pdf = render_template_pdf(voucher=voucher, kind=kind)
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


def test_pdf_without_text_is_refused_as_a_scan() -> None:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    error = refusal(out.getvalue())
    assert error.code == "no_text" and "scan" in error.message
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


@pytest.mark.parametrize(
    "script",
    [
        "import os; os.abort()",  # crashed
        "print('not json')",  # nonsense
        "print('{\"ok\": true}')",  # not a verdict
        "import sys; sys.stdout.write('[]')",
    ],
)
def test_a_failing_check_refuses_as_too_complex(
    monkeypatch: pytest.MonkeyPatch, script: str
) -> None:
    monkeypatch.setattr(documents, "CHECK_COMMAND", (sys.executable, "-c", script))
    error = refusal((CORPUS / "path_traversal.pdf").read_bytes())
    assert error.code == "too_complex"
    assert_helpful(error)


def test_a_slow_check_is_killed_at_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        documents, "CHECK_COMMAND", (sys.executable, "-c", "import time; time.sleep(30)")
    )
    monkeypatch.setattr(documents, "CHECK_TIMEOUT_SECONDS", 0.5)
    assert refusal((CORPUS / "path_traversal.pdf").read_bytes()).code == "too_complex"


def fake_check(condition: str) -> tuple[str, ...]:
    """A stand-in for pdfcheck that applies the same limits as its entry point and passes
    the corpus SOW only when `condition` holds."""
    text = f"Voucher {CORPUS_CODE} Template {SOW}"
    return (
        sys.executable,
        "-c",
        "import json, os, resource\n"
        "from redemptions.pdfcheck import limit_resources\n"
        "limit_resources()\n"
        f"ok = {condition}\n"
        f"print(json.dumps({{'ok': True, 'problem': None, 'detail': '', 'pages': 2, "
        f"'text': {text!r} if ok else ''}}))",
    )


def test_the_check_runs_with_memory_and_cpu_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    limits = (
        "resource.getrlimit(resource.RLIMIT_AS) == (768 * 2**20, 768 * 2**20) "
        "and resource.getrlimit(resource.RLIMIT_CPU) == (10, 10)"
    )
    monkeypatch.setattr(documents, "CHECK_COMMAND", fake_check(limits))
    content = (CORPUS / "path_traversal.pdf").read_bytes()
    assert check_document(upload=upload(content), voucher_code=CORPUS_CODE, template_id=SOW)

    grab = "bytearray(1024 ** 3) is not None"  # over the 768 MB address space: MemoryError
    monkeypatch.setattr(documents, "CHECK_COMMAND", fake_check(grab))
    assert refusal(content).code == "too_complex"


def test_the_check_gets_no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "do-not-leak")
    monkeypatch.setattr(documents, "CHECK_COMMAND", fake_check("'SECRET_KEY' not in os.environ"))
    content = (CORPUS / "path_traversal.pdf").read_bytes()
    assert check_document(upload=upload(content), voucher_code=CORPUS_CODE, template_id=SOW)


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
