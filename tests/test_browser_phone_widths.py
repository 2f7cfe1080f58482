"""Every page each role can reach, in Chromium on a 375 px wide phone: nothing is wider than
the screen, no box hides part of its content (a table in a scrolling wrapper, a directory box
cut short), every data table shows as cards whose cells are labelled with their column, and
the header names the product. On the customer's partner directory a blocked partner's text
reads at WCAG AA and a radio reached with the keyboard shows its ring. At 1280 px, key pages
keep their tables as tables.

The demo world (both programs, the demo logins and their work in progress) is built once for
the module, with one of everything a page lists added: an approved SOW and its payment, a
batch, a dispute, an extension request, a previewed import, API tokens live and revoked. It
is committed, since the live server answers on its own connection, and flushed after the
module, as pytest-django's transactional tests leave the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connections
from django.urls import reverse
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from portal.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
LOGINS = ["pm", "rep", "qtm", "customer", "partner"]

DIRECTORY = "voucher to forward (partner directory)"

# Every element that hides part of its content: scrolled or clipped on an axis with more
# content than room (a table in its scrolling wrapper, a directory box cut short).
CLIPPED = """() => {
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    if (el.clientWidth <= 1 && el.clientHeight <= 1) continue;  // kept for screen readers
    const style = getComputedStyle(el);
    const what = `${el.tagName.toLowerCase()}.${[...el.classList].join(".")}`;
    if (["auto", "scroll", "hidden", "clip"].includes(style.overflowX)
        && el.scrollWidth > el.clientWidth + 1) {
      out.push(`${what} hides content sideways (${el.scrollWidth}px in ${el.clientWidth}px)`);
    }
    if (["auto", "scroll", "hidden", "clip"].includes(style.overflowY)
        && el.scrollHeight > el.clientHeight + 1) {
      out.push(`${what} hides content below (${el.scrollHeight}px in ${el.clientHeight}px)`);
    }
  }
  return out;
}"""

# Every data table is shown as cards, and each cell of a row is labelled with its column's
# header (data-label, which the stylesheet shows before the value).
UNLABELLED = """() => {
  const out = [];
  for (const table of document.querySelectorAll(".table-wrap table")) {
    if (getComputedStyle(table).display !== "block") out.push("a table is not shown as cards");
    const heads = [...table.querySelectorAll("thead th")].flatMap(
      th => Array(th.colSpan).fill(th.textContent.replace(/\\s+/g, " ").trim()));
    for (const row of table.querySelectorAll("tbody tr")) {
      let column = 0;
      for (const cell of row.children) {
        if (cell.tagName === "TD" && cell.textContent.trim()
            && cell.dataset.label !== heads[column]) {
          out.push(`a cell under "${heads[column]}" is labelled "${cell.dataset.label ?? ""}"`);
        }
        column += cell.colSpan;
      }
    }
  }
  return [...new Set(out)];
}"""

# WCAG contrast of a text element's colour, with every ancestor's opacity applied, against
# the first background behind it.
CONTRAST = """(el, colour) => {
  const rgb = c => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = v => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let bg = [255, 255, 255];
  for (let e = el; e; e = e.parentElement) {
    const c = rgb(getComputedStyle(e).backgroundColor);
    if (c.length < 4 || c[3] > 0) { bg = c.slice(0, 3); break; }
  }
  let alpha = 1;
  for (let e = el; e; e = e.parentElement) alpha *= Number(getComputedStyle(e).opacity);
  const fg = rgb(colour || getComputedStyle(el).color).slice(0, 3)
    .map((v, i) => alpha * v + (1 - alpha) * bg[i]);
  const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
  return (hi + 0.05) / (lo + 0.05);
}"""


def _signed_sow(voucher: Any, customer: str, partner: str) -> ContentFile[bytes]:
    from portal.demo_signing import demo_signed
    from redemptions.template_pdfs import render_template_pdf

    pdf = demo_signed(
        render_template_pdf(voucher=voucher, kind="sow"), customer=customer, partner=partner
    )
    return ContentFile(pdf, name="signed-sow.pdf")


def world_build() -> dict[str, Any]:
    """The demo world (as `make run` seeds it) plus one of each thing a page lists; returns
    the codes and keys of what the pages show."""
    from accounts.models import ApiToken, User
    from accounts.services import api_token_issue, api_token_revoke
    from customers.models import Customer
    from customers.services import customer_create
    from imports.services import import_preview
    from nominations.models import Nomination
    from notifications.models import OutboundMail
    from payments.services import batch_export, dispute_open
    from portal.demo import demo_scenario, demo_seed
    from programs.models import Program
    from redemptions.models import PaymentRequest
    from redemptions.services import request_approve, request_submit
    from tests.factories import issue_voucher
    from vouchers.extensions import extension_request
    from vouchers.models import Voucher
    from vouchers.services import voucher_claim

    call_command("load_program", "fy24", verbosity=0)
    call_command("load_program", "demo", verbosity=0)
    demo_seed(fx_valid_from=date(2020, 1, 1))
    demo_scenario(program_code="DEMO-FY27")
    program = Program.objects.get(code="DEMO-FY27")
    users = {u.username: u for u in User.objects.filter(username__in=LOGINS)}
    pm, rep, qtm = users["pm"], users["rep"], users["qtm"]
    customer, partner = users["customer"], users["partner"]
    contoso = Customer.objects.get(tpid="1000001")  # the demo customer's organisation
    today = timezone.localdate()

    # The customer's second voucher, of the other offer group (a combined cap), redeemed by
    # the demo partner: its SOW approved and paid, an extension asked, the payment disputed.
    redeemed = issue_voucher(
        program,
        contoso,
        rep,
        pm,
        offer="COPILOT",
        workloads=["M365_COPILOT"],
        deal_value=Decimal("300000.00"),
        expected_close_date=min(today + timedelta(days=30), program.window_end),
        purchase_amount=Decimal("300000.00"),
    )
    voucher_claim(code=redeemed.code, user=partner)
    sow = request_submit(
        voucher_id=redeemed.pk,
        user=partner,
        kind="initial",
        sow_value=Decimal("29000.00"),
        upload=_signed_sow(redeemed, "Casey Contoso", "Pat Adatum"),
        customer_signer="Casey Contoso",
        customer_signed_on=today,
        partner_signer="Pat Adatum",
        partner_signed_on=today,
    )
    request_approve(request_id=sow.pk, user=qtm)
    extension_request(
        voucher_id=redeemed.pk, user=customer, reason="The rollout waits for a datacentre move."
    )
    dispute_open(user=partner, request_id=sow.pk, text="The SOW value was 29,500, not 29,000.")
    batch, _csv = batch_export(user=pm)

    close = min(today + timedelta(days=30), program.window_end).isoformat()
    rows = [
        "customer_tpid,offer,workloads,deal_value,expected_close_date,agreement_type",
        f"1000004,DEPLOY,M365_E3;M365_E5,250000.00,{close},new",
        f"1000001,DEPLOY,M365_E3,400000.00,{close},new",
        f"9999999,DEPLOY,M365_E3,100000.00,{close},new",
    ]
    upload = ContentFile("\n".join(rows).encode(), name="phone-widths-import.csv")
    job = import_preview(user=rep, program=program, upload=upload)
    for user in users.values():  # one token live, one revoked
        api_token_issue(user=user, name="Laptop", user_agent="curl/8.5.0")
        old, _key = api_token_issue(user=user, name="Old laptop")
        api_token_revoke(token_id=old.pk, user=user, reason=ApiToken.RevokedReason.PAGE)

    # A customer the rep added, waiting for the program manager's verification (R-ELIG-8).
    customer_create(
        user=rep,
        tpid="1000099",
        name="Woodgrove Clinics",
        country="NL",
        category="commercial",
        segment="enterprise",
        e3_licenses=250,
    )

    waiting = Voucher.objects.get(customer=contoso, offer__code="DEPLOY")
    in_review = PaymentRequest.objects.get(status="submitted")
    return {
        "program": program.code,
        "waiting": waiting.code,
        "redeemed": redeemed.code,
        "in_review": in_review.voucher.code,
        "sow": sow.pk,
        "review": in_review.pk,
        "submitted": Nomination.objects.get(status="submitted").pk,
        "approved": Nomination.objects.get(status="approved").pk,
        "issued": redeemed.nomination.pk,
        "import": job.pk,
        "batch": batch.pk,
        "mail": OutboundMail.objects.order_by("pk").first().pk,  # type: ignore[union-attr]
    }


@dataclass(frozen=True)
class Visit:
    """A page to visit: what a failure calls it, its path, and what to wait for (a selector,
    or "networkidle" for a page that fetches a part of itself with htmx once loaded)."""

    name: str
    path: str
    ready: str = ""


def pages_for(login: str, ids: dict[str, Any]) -> list[Visit]:
    """Every page `login` can reach: home, every list and a detail page of each kind."""

    def url(name: str, *args: Any, query: str = "") -> str:
        return reverse(name, args=args) + query

    common = [
        Visit("home", url("home")),
        Visit("API tokens", url("token-list")),
        Visit("signed in again", url("signed-in-again")),
    ]
    vouchers = Visit("voucher list", url("voucher-list"))
    redeemed = Visit("voucher with payment requests", url("voucher-detail", ids["redeemed"]))
    request = Visit("payment request", url("request-detail", ids["sow"]))
    pages: dict[str, list[Visit]] = {
        "pm": [
            Visit("dashboard", url("dashboard")),
            Visit("nominations to decide", url("nomination-list")),
            Visit("approved nominations", url("nomination-list", query="?status=approved")),
            Visit("nomination", url("nomination-detail", ids["submitted"])),
            Visit("close deal", url("nomination-close", ids["approved"]), "networkidle"),
            Visit("imports", url("import-list")),
            vouchers,
            redeemed,
            Visit("voucher waiting for a partner", url("voucher-detail", ids["waiting"])),
            request,
            Visit("payments and batches", url("payment-list")),
            Visit("confirm a batch paid", url("batch-confirm", ids["batch"])),
            Visit("disputes", url("dispute-list")),
            Visit("program", url("program-detail", ids["program"])),
            Visit("mail", url("mail-list")),
            Visit("one mail", url("mail-detail", ids["mail"])),
        ],
        "rep": [
            Visit("my customers' vouchers", url("rep-board")),
            Visit("my nominations", url("nomination-list")),
            Visit("nomination", url("nomination-detail", ids["issued"])),
            Visit("nominate a customer", url("nomination-new"), "networkidle"),
            Visit("nomination awaiting approval", url("nomination-detail", ids["submitted"])),
            Visit("edit a nomination", url("nomination-edit", ids["submitted"]), "networkidle"),
            Visit("add a customer", url("customer-new")),
            Visit("imports", url("import-list")),
            Visit("import", url("import-detail", ids["import"])),
            vouchers,
            redeemed,
            request,
        ],
        "qtm": [
            Visit("review queue", url("review-queue")),
            Visit("your decisions", url("review-history")),
            Visit("review", url("review-detail", ids["review"])),
            Visit("extensions", url("extension-list")),
            Visit("extensions decided", url("extension-list", query="?status=approved")),
            Visit("disputes", url("dispute-list")),
            Visit("payments", url("payment-list")),
            Visit("nominations", url("nomination-list")),
            Visit("nomination", url("nomination-detail", ids["issued"])),
            vouchers,
            redeemed,
            request,
        ],
        "customer": [
            vouchers,
            Visit(DIRECTORY, url("voucher-detail", ids["waiting"]), "networkidle"),
            redeemed,
            request,
        ],
        "partner": [
            vouchers,
            Visit("claim a voucher", url("voucher-claim")),
            Visit(
                "voucher with its POE form", url("voucher-detail", ids["redeemed"]), "networkidle"
            ),
            Visit("voucher in review", url("voucher-detail", ids["in_review"])),
            request,
            Visit("payments and statements", url("payment-list")),
            Visit("disputes", url("dispute-list")),
        ],
    }
    return common + pages[login]


def built_in_a_thread() -> dict[str, Any]:
    """`world_build()` in a thread of its own: the demo's signed SOW comes from pyHanko, whose
    synchronous API calls asyncio.run(), and this thread runs Playwright's event loop."""

    def build() -> dict[str, Any]:
        try:
            return world_build()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(build).result()


@dataclass(frozen=True)
class Site:
    url: str
    ids: dict[str, Any]


@pytest.fixture(scope="module")
def site(django_db_setup: None, django_db_blocker: Any) -> Iterator[Site]:
    """The world, committed, and a live server on it, for the whole module."""
    with django_db_blocker.unblock():
        cache.clear()
        try:
            ids = built_in_a_thread()
            server = LiveServer("localhost")
            server._live_server_modified_settings.enable()
            try:
                yield Site(server.url, ids)
            finally:
                server._live_server_modified_settings.disable()
                server.stop()
        finally:
            call_command("flush", verbosity=0, interactive=False)
            cache.clear()


@pytest.fixture
def transactional_db() -> None:
    """Stands in for pytest-django's fixture of this name, which empties the database after
    every test: these tests share the world `site` commits once for the module. Asking for it
    by this name still has the test database set up, and sorts these tests with the other
    transactional ones, after the rest, where the other browser tests run (Playwright leaves
    its event loop set in this thread, and pyHanko's signing calls asyncio.run())."""


@pytest.fixture(autouse=True)
def _private_storage() -> None:
    """Overrides conftest's per-test storage folder: the module world keeps its SOW."""


def signed_in(browser: Any, site: Site, login: str, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(f"{site.url}/login/")
    page.get_by_label("Username").fill(login)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site.url}/")
    return page


def directory_problems(page: Any) -> list[str]:
    """The customer's partner directory: a blocked partner's text reads at AA (4.5:1), and a
    radio reached with the keyboard shows a solid ring (3:1 against what is around it)."""
    problems = []
    blocked = page.locator(".directory__item--blocked")
    if not blocked.count():
        return ["no blocked partner is shown (the demo's Contoso Consulting Canada)"]
    for text in blocked.first.locator("strong, .muted, .directory__note, .rule").all():
        ratio = text.evaluate(CONTRAST)
        if ratio < 4.5:
            problems.append(f"blocked partner: {text.inner_text()[:30]!r} at {ratio:.1f}:1")
    page.locator("#directory-search").focus()
    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    kind, style, width, colour = focused.evaluate(
        """el => { const s = getComputedStyle(el);
        return [el.type, s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor]; }"""
    )
    if kind != "radio":
        problems.append(f"Tab from the search reaches a {kind}, not a partner's radio")
    elif style == "none" or width < 2:
        problems.append(f"a focused radio shows no ring ({style} {width}px)")
    elif (ratio := focused.evaluate(CONTRAST, colour)) < 3:
        problems.append(f"a focused radio's ring is faint ({ratio:.1f}:1)")
    return problems


def page_problems(page: Any, visit: Visit) -> list[str]:
    found = []
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if scroll > inner:
        found.append(f"{scroll}px wide on a {inner}px screen")
    found += page.evaluate(CLIPPED)
    found += page.evaluate(UNLABELLED)
    brand = page.locator(".brand span").bounding_box()
    if brand is None or brand["x"] + brand["width"] > inner:
        found.append("the product name is not shown in the header")
    if visit.name == DIRECTORY:
        found += directory_problems(page)
    return found


@pytest.mark.parametrize("login", LOGINS)
def test_every_page_fits_a_phone(browser: Any, site: Site, login: str) -> None:
    page = signed_in(browser, site, login, PHONE)
    problems = []
    try:
        for visit in pages_for(login, site.ids):
            response = page.goto(site.url + visit.path)
            where = f"{visit.name} ({visit.path})"
            if response is None or response.status != 200:
                problems.append(f"{where}: HTTP {response and response.status}")
                continue
            if visit.ready == "networkidle":
                page.wait_for_load_state("networkidle")
            elif visit.ready:
                page.locator(visit.ready).first.wait_for()
            problems += [f"{where}: {problem}" for problem in page_problems(page, visit)]
    finally:
        page.context.close()
    assert not problems, f"{login} at 375 px:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("login", "names"),
    [
        ("partner", ["voucher list", "voucher with its POE form", "payments and statements"]),
        ("qtm", ["review queue"]),
    ],
)
def test_tables_stay_tables_on_a_desktop(
    browser: Any, site: Site, login: str, names: list[str]
) -> None:
    """At 1280 px a data table is a table: its header row shows, a row's cells side by side."""
    page = signed_in(browser, site, login, DESKTOP)
    try:
        for visit in [v for v in pages_for(login, site.ids) if v.name in names]:
            page.goto(site.url + visit.path)
            assert page.locator(".brand span").is_visible(), visit.name
            for table in page.locator(".table-wrap table").all():
                assert table.evaluate("t => getComputedStyle(t).display") == "table", visit.name
                assert table.locator("thead").is_visible(), visit.name
                cells = table.locator("tbody tr").first.locator("td").all()
                tops = {round(cell.bounding_box()["y"]) for cell in cells}
                assert len(tops) == 1, f"{visit.name}: a row's cells are not side by side"
            scroll, inner = page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert scroll <= inner, f"{visit.name}: {scroll}px wide at {inner}px"
    finally:
        page.context.close()
