"""The voucher PDF (R-VOU-3) and the voucher mails (R-VOU-3, R-VOU-5, R-NOT-1, R-NOT-2)."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.template.loader import render_to_string
from pypdf import PdfReader

from nominations.models import Nomination
from programs.models import Offer, Program
from tests.factories import CustomerFactory, PartnerFactory, user_for_role
from vouchers.codes import generate_code
from vouchers.models import Voucher
from vouchers.pdf import render_voucher_pdf, voucher_pdf_filename, voucher_workload_names

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"
WORKLOAD_NAMES = ["Microsoft 365 E3", "Microsoft 365 E5"]


def make_voucher(
    program: Program,
    *,
    customer_name: str = "Contoso Pharmaceuticals Ltd",
    scheme: str = Voucher.Scheme.COMMERCIAL,
    value: str = "37500.00",
) -> Voucher:
    rep = user_for_role("field_rep", first_name="Dana", last_name="Reyes")
    customer = CustomerFactory(name=customer_name, tpid="7654321", country="GB")
    offer = Offer.objects.get(program=program, code="DEPLOY")
    nomination = Nomination.objects.create(
        program=program,
        customer=customer,
        offer=offer,
        exclusive_group=offer.exclusive_group,
        workloads=["M365_E3", "M365_E5"],
        deal_value=Decimal("500000.00"),
        expected_close_date=date(2024, 5, 31),
        agreement_type="new",
        nominated_by=rep,
        status=Nomination.Status.ISSUED,
        closed_on=date(2024, 5, 20),
        purchase_amount=Decimal("480000.00"),
    )
    return Voucher.objects.create(
        code=generate_code(),
        program=program,
        nomination=nomination,
        customer=customer,
        offer=offer,
        exclusive_group=offer.exclusive_group,
        workloads=["M365_E3", "M365_E5"],
        scheme=scheme,
        value=Decimal(value),
        cap=Decimal("50000.00"),
        cap_row="label",
        suggested_value=Decimal(value),
        issued_on=date(2026, 11, 25),
        expires_on=date(2027, 5, 25),
        issued_by=user_for_role("program_manager"),
    )


@pytest.fixture
def voucher(fy24: Program) -> Voucher:
    return make_voucher(fy24)


def pdf_text(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return len(reader.pages), text


def squash(text: str) -> str:
    """Whitespace-insensitive text: PDF extraction and HTML wrapping break lines freely."""
    return re.sub(r"\s+", " ", text)


# --- PDF ---------------------------------------------------------------------------------


def test_voucher_pdf_is_one_page_with_the_facts(voucher: Voucher) -> None:
    pdf = render_voucher_pdf(voucher)
    assert pdf.startswith(b"%PDF")
    pages, text = pdf_text(pdf)
    assert pages == 1
    flat = squash(text)
    assert voucher.code in flat
    assert "$37,500.00" in flat
    assert "Contoso Pharmaceuticals Ltd" in flat
    assert "7654321" in flat and "United Kingdom" in flat
    # the issue date sits in an upper-case heading
    assert "25 May 2027" in flat and "25 november 2026" in flat.lower()
    for name in WORKLOAD_NAMES:
        assert name in flat
    assert "M365 Deployment Offer" in flat
    assert "FastTrack Deployment Voucher" in flat
    assert "50%" in flat  # commercial scheme: half on the SOW


def test_public_sector_pdf_explains_single_payment(fy24: Program) -> None:
    voucher = make_voucher(fy24, scheme=Voucher.Scheme.PUBLIC_SECTOR, value="50000")
    pages, text = pdf_text(render_voucher_pdf(voucher))
    flat = squash(text)
    assert pages == 1
    assert "$50,000.00" in flat
    assert "100%" in flat and "no upfront payment" in flat.lower()


def test_long_customer_name_still_fits_one_page(fy24: Program) -> None:
    name = "Northwind Traders International Holdings and Subsidiaries " * 3
    voucher = make_voucher(fy24, customer_name=name.strip()[:200])
    pages, _ = pdf_text(render_voucher_pdf(voucher))
    assert pages == 1


def test_pdf_shows_hostile_customer_name_as_text(fy24: Program) -> None:
    voucher = make_voucher(fy24, customer_name=f"Evil {HOSTILE} Corp")
    pages, text = pdf_text(render_voucher_pdf(voucher))
    assert pages == 1
    assert HOSTILE in squash(text)  # printed literally, not interpreted


def test_pdf_helpers(voucher: Voucher) -> None:
    assert voucher_workload_names(voucher) == WORKLOAD_NAMES
    assert voucher_pdf_filename(voucher) == f"FastTrack-voucher-{voucher.code}.pdf"


# --- Mail --------------------------------------------------------------------------------


def render_pair(template: str, context: dict[str, Any]) -> tuple[str, str]:
    ctx = {"site_url": "https://vouchers.example.com", **context}
    return render_to_string(f"{template}.txt", ctx), render_to_string(f"{template}.html", ctx)


def assert_plain_text(text: str) -> None:
    assert not re.search(r"<[a-zA-Z/!]", text), text
    assert "&lt;" not in text and "&amp;" not in text and "&#x27;" not in text


def assert_in_both(text: str, html: str, *facts: str) -> None:
    flat_text, flat_html = squash(text), squash(html)
    for fact in facts:
        assert fact in flat_text, f"{fact!r} missing from the text version"
        assert fact in flat_html, f"{fact!r} missing from the HTML version"


def test_voucher_issued_mail(voucher: Voucher) -> None:
    text, html = render_pair(
        "mail/voucher_issued",
        {
            "voucher": voucher,
            "workload_names": WORKLOAD_NAMES,
            "voucher_url": "https://vouchers.example.com/customer/vouchers/42/",
        },
    )
    assert_plain_text(text)
    assert_in_both(
        text,
        html,
        voucher.code,
        "$37,500.00",
        "M365 Deployment Offer",
        *WORKLOAD_NAMES,
        "25 May 2027",
        "FastTrack Ready Partner",
        "PDF",
        "https://vouchers.example.com/customer/vouchers/42/",
    )
    assert "<html" in html and "FastTrack Deployment Voucher Portal" in html  # base layout


def test_voucher_forwarded_mail_escapes_the_customer_message(voucher: Voucher) -> None:
    partner = PartnerFactory(name="Fabrikam Consulting")
    message = f'Please call us <b onclick="x()">today</b> {HOSTILE}'
    text, html = render_pair(
        "mail/voucher_forwarded",
        {
            "voucher": voucher,
            "partner": partner,
            "customer": voucher.customer,
            "message": message,
            "claim_url": "https://vouchers.example.com/partner/claim/",
        },
    )
    assert_in_both(
        text,
        html,
        "Contoso Pharmaceuticals Ltd",
        voucher.code,
        "$37,500.00",
        "M365 Deployment Offer",
        "25 May 2027",
        "https://vouchers.example.com/partner/claim/",
        "decline",
    )
    assert "Fabrikam Consulting" in text and "Fabrikam Consulting" in html
    assert HOSTILE not in html and "<b onclick" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Please call us" in text  # the message itself is relayed in the text version
    assert HOSTILE in text  # plain text is not HTML: shown as typed


def test_voucher_forwarded_mail_without_message(voucher: Voucher) -> None:
    partner = PartnerFactory()
    text, html = render_pair(
        "mail/voucher_forwarded",
        {
            "voucher": voucher,
            "partner": partner,
            "customer": voucher.customer,
            "message": "",
            "claim_url": "https://vouchers.example.com/partner/claim/",
        },
    )
    assert_plain_text(text)
    assert "Message from" not in text and "Message from" not in html


def test_voucher_claimed_mail(voucher: Voucher) -> None:
    partner = PartnerFactory(name="Fabrikam Consulting")
    text, html = render_pair(
        "mail/voucher_claimed",
        {"voucher": voucher, "partner": partner, "voucher_url": "https://x.example/v/1/"},
    )
    assert_plain_text(text)
    assert_in_both(
        text,
        html,
        "Fabrikam Consulting",
        voucher.code,
        "$37,500.00",
        "25 May 2027",
        "accepted",
        "https://x.example/v/1/",
    )


def test_voucher_declined_mail(voucher: Voucher) -> None:
    partner = PartnerFactory(name="Fabrikam Consulting")
    reason = "Fully booked until March & later"
    text, html = render_pair(
        "mail/voucher_declined",
        {
            "voucher": voucher,
            "partner": partner,
            "reason": reason,
            "voucher_url": "https://x.example/v/1/",
        },
    )
    assert_plain_text(text)
    assert_in_both(
        text,
        html,
        "Fabrikam Consulting",
        voucher.code,
        "declined",
        "another FastTrack Ready Partner",
        "25 May 2027",
        "https://x.example/v/1/",
    )
    assert reason in text and "Fully booked until March &amp; later" in html


def test_voucher_declined_mail_without_reason(voucher: Voucher) -> None:
    text, html = render_pair(
        "mail/voucher_declined",
        {
            "voucher": voucher,
            "partner": PartnerFactory(),
            "reason": "",
            "voucher_url": "https://x.example/v/1/",
        },
    )
    assert_plain_text(text)
    assert "Reason" not in text and "Reason" not in html


# Links hidden from a quick read: a zero-width space in the scheme, a bidi override, an
# ideographic full stop, a javascript: URL, an address by its IP.
DISGUISED = (
    "Book us at htt\u200bps://evil.example/pay \u202eor moc.live\u202c "
    "evil\u3002example javascript:alert(1) http://10.0.0.1/x"
)


@pytest.mark.parametrize(
    ("template", "field", "author"),
    [
        ("mail/voucher_declined", "reason", "Fabrikam Consulting"),
        ("mail/voucher_forwarded", "message", "Contoso Pharmaceuticals Ltd"),
    ],
)
def test_mail_quotes_their_words_with_every_link_inert(
    voucher: Voucher, template: str, field: str, author: str
) -> None:
    partner = PartnerFactory(name="Fabrikam Consulting")
    context: dict[str, Any] = {
        "voucher": voucher,
        "partner": partner,
        "customer": voucher.customer,
        "voucher_url": "https://x.example/v/1/",
        "claim_url": "https://x.example/claim/",
        field: DISGUISED + "\n" + "more " * 300,
    }
    text, html = render_pair(template, context)
    for body in (text, html):
        assert f"{author} wrote:" in body
        assert "evil.example" not in body and "evil\u3002example" not in body
        assert "hxxps://evil[.]example/pay" in body and "javascript[:]alert(1)" in body
        assert "hxxp://10[.]0[.]0[.]1/x" in body and "moc[.]live" in body
        assert "\u200b" not in body and "\u202e" not in body
        assert "shortened" in body
    links = re.findall(r"<a\s+href=\"([^\"]*)\"", html)  # the mail's own links, none of theirs
    assert links and all(u.startswith(("https://x.example/", "https://vouchers.")) for u in links)
    quote = [line for line in text.splitlines() if line.startswith(">")]
    assert quote[0].startswith("> “Book us at") and quote[-1].endswith("…”")
    assert sum(len(line) - 2 for line in quote) <= 1_000 + len(quote)
    assert all(len(line) <= 76 for line in quote)


def test_mail_escapes_hostile_customer_name(fy24: Program) -> None:
    voucher = make_voucher(fy24, customer_name=f"Evil {HOSTILE} Corp")
    partner = PartnerFactory()
    contexts: dict[str, dict[str, Any]] = {
        "mail/voucher_issued": {
            "voucher": voucher,
            "workload_names": WORKLOAD_NAMES,
            "voucher_url": "https://x.example/v/1/",
        },
        "mail/voucher_forwarded": {
            "voucher": voucher,
            "partner": partner,
            "customer": voucher.customer,
            "message": "",
            "claim_url": "https://x.example/claim/",
        },
        "mail/voucher_claimed": {
            "voucher": voucher,
            "partner": partner,
            "voucher_url": "https://x.example/v/1/",
        },
        "mail/voucher_declined": {
            "voucher": voucher,
            "partner": partner,
            "reason": HOSTILE,
            "voucher_url": "https://x.example/v/1/",
        },
    }
    for template, context in contexts.items():
        _, html = render_pair(template, context)
        assert HOSTILE not in html, template
        assert "&lt;script&gt;" in html, template
