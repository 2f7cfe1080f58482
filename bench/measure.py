"""In-process measurements, each a pair (the portal, its baseline) interleaved in rounds
so that a busy shared machine slows both alike. Run by `bench/run.py`:

    DJANGO_SETTINGS_MODULE=config.settings.bench python -m bench.measure pages
"""

from __future__ import annotations

import io
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import django

django.setup()

from django.db import connection, connections, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from core.choices import Role  # noqa: E402


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# --- scaling: the same first page at 1,000 and at 100,000 vouchers -----------------------

PAGES = {
    "queue": ("bench-qtm", "/review/"),
    "partner_list": (None, "/vouchers/"),  # the first bench partner's first user
    "dashboard": ("bench-pm", "/dashboard/"),
}


def _user(username: str | None) -> User:
    if username:
        return User.objects.get(username=username)
    return User.objects.filter(role=Role.PARTNER, username__startswith="bench-partner-").order_by(
        "pk"
    )[0]


def pages(rounds: int = 8, per_round: int = 12) -> dict[str, Any]:
    wrappers = {"1k": connections["small"], "100k": connections["default"]}
    # The ORM's default connection is pointed at one database or the other; both stay
    # open, so switching costs nothing and each keeps its warm caches.
    clients: dict[tuple[str, str], Client] = {}
    for size, wrapper in wrappers.items():
        connections["default"] = wrapper
        for name, (username, _path) in PAGES.items():
            client = Client()
            client.force_login(_user(username))
            clients[(name, size)] = client
    samples: dict[tuple[str, str], list[float]] = {key: [] for key in clients}
    queries: dict[tuple[str, str], int] = {}
    sizes: dict[str, int] = {}
    for r in range(rounds):
        order = list(wrappers) if r % 2 == 0 else list(reversed(wrappers))
        for size in order:
            connections["default"] = wrappers[size]
            if size not in sizes:
                from vouchers.models import Voucher

                sizes[size] = Voucher.objects.count()
            for name, (_username, path) in PAGES.items():
                client = clients[(name, size)]
                for _ in range(2):  # warm: this database's plans and caches
                    assert client.get(path).status_code == 200, (name, size)
                if (name, size) not in queries:
                    with CaptureQueriesContext(connection) as ctx:
                        client.get(path)
                    queries[(name, size)] = len(ctx.captured_queries)
                for _ in range(per_round):
                    start = time.perf_counter()
                    response = client.get(path)
                    samples[(name, size)].append(time.perf_counter() - start)
                    assert response.status_code == 200
    # For the record: the dashboard's figures computed without the cache, at each size.
    from reports.selectors import Filters, dashboard

    cold: dict[str, float] = {}
    for size, wrapper in wrappers.items():
        connections["default"] = wrapper
        times = [timed(lambda: dashboard(Filters(), today=timezone.localdate())) for _ in range(3)]
        cold[size] = round(statistics.median(times) * 1000, 1)
    out: dict[str, Any] = {"sizes": sizes, "dashboard_uncached_ms": cold}
    for name in PAGES:
        small, big = p95(samples[(name, "1k")]), p95(samples[(name, "100k")])
        out[name] = {
            "p95_1k_ms": round(small * 1000, 2),
            "p95_100k_ms": round(big * 1000, 2),
            "scaling": round(big / small, 3),
            "queries_1k": queries[(name, "1k")],
            "queries_100k": queries[(name, "100k")],
        }
    return out


# --- PDF: a voucher over a one-line document ----------------------------------------------


def pdf(rounds: int = 15) -> dict[str, Any]:
    import weasyprint

    from vouchers.models import Voucher
    from vouchers.pdf import render_voucher_pdf

    voucher = Voucher.objects.select_related("customer", "offer", "program", "partner").get(
        pk=Voucher.objects.filter(status="claimed").order_by("pk").values("pk")[:1]
    )

    def hello() -> None:
        weasyprint.HTML(string="<p>Hello</p>").write_pdf()

    def portal() -> None:
        render_voucher_pdf(voucher)

    hello()
    portal()  # warm fonts and templates
    ours: list[float] = []
    base: list[float] = []
    for r in range(rounds):
        pair = [(ours, portal), (base, hello)]
        for bucket, fn in pair if r % 2 == 0 else reversed(pair):
            bucket.append(timed(fn))
    o, b = statistics.median(ours), statistics.median(base)
    return {"voucher_ms": round(o * 1000, 1), "hello_ms": round(b * 1000, 1), "ratio": o / b}


# --- import: 5,000 nominations with every rule check over a plain bulk_create -------------


def _import_file(customers: list[Any], close: Any) -> bytes:
    lines = ["customer_tpid,offer,workloads,deal_value,expected_close_date,nominated_by"]
    for i, c in enumerate(customers):
        offer, workloads = ("COPILOT", "M365_COPILOT") if i % 4 == 3 else ("DEPLOY", "M365_E3")
        lines.append(f"{c.tpid},{offer},{workloads},{200000 + i},{close.isoformat()},bench-rep")
    return ("\n".join(lines) + "\n").encode()


def imports(rows: int = 5000, rounds: int = 3) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from customers.models import Customer
    from imports.services import import_commit, import_preview
    from nominations.models import Nomination
    from programs.models import Program

    program = Program.objects.get(code="DEMO-FY27")
    pm = User.objects.get(username="bench-pm")
    # Customers with nothing open in the demo program, eligible on every rule.
    customers = list(
        Customer.objects.filter(tpid__startswith="I").order_by("pk")[:rows]
    ) or _import_customers(rows)
    close = min(timezone.localdate() + timedelta(days=30), program.window_end)
    data = _import_file(customers, close)

    def portal() -> list[int]:
        job = import_preview(
            user=pm, program=program, upload=SimpleUploadedFile("n.csv", data, "text/csv")
        )
        job = import_commit(job_id=job.pk)
        assert job.created_count == rows, (job.created_count, job.bad()[:3])
        return [r["nomination"] for r in job.rows]

    def plain() -> list[int]:
        # The same rows, as the rules would have filled them, in one bulk_create.
        rep = User.objects.get(username="bench-rep")
        offers = {o.code: o for o in program.offers.all()}
        made = Nomination.objects.bulk_create(
            Nomination(
                program=program,
                customer=c,
                offer=offers["COPILOT" if i % 4 == 3 else "DEPLOY"],
                exclusive_group=offers["COPILOT" if i % 4 == 3 else "DEPLOY"].exclusive_group,
                workloads=["M365_COPILOT"] if i % 4 == 3 else ["M365_E3"],
                deal_value=Decimal(200000 + i),
                expected_close_date=close,
                agreement_type="new",
                nominated_by=rep,
                estimated_value=Decimal("20000.00"),
                estimated_cap=Decimal("75000.00"),
            )
            for i, c in enumerate(customers)
        )
        return [n.pk for n in made]

    def clear(ids: list[int]) -> None:
        Nomination.objects.filter(pk__in=ids).delete()  # their events stay (R-REV-2)

    ours: list[float] = []
    base: list[float] = []
    for r in range(rounds):
        pair = [(ours, portal), (base, plain)]
        for bucket, fn in pair if r % 2 == 0 else reversed(pair):
            start = time.perf_counter()
            ids = fn()
            bucket.append(time.perf_counter() - start)
            clear(ids)
    o, b = statistics.median(ours), statistics.median(base)
    return {"import_s": round(o, 3), "bulk_create_s": round(b, 3), "ratio": o / b}


def _import_customers(rows: int) -> list[Any]:
    from core.choices import Category, Segment
    from customers.models import Customer

    return Customer.objects.bulk_create(
        Customer(
            tpid=f"I{i:08d}",
            name=f"Import Customer {i}",
            country="US",
            category=Category.COMMERCIAL,
            segment=Segment.ENTERPRISE,
            e3_licenses=10,
        )
        for i in range(rows)
    )


# --- batch jobs on the batch database -----------------------------------------------------


def _vacuum(*tables: str) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")


def reminders(count: int = 100_000, rounds: int = 2) -> dict[str, Any]:
    """send_expiry_reminders over `count` due vouchers (one mail and one marker each) over
    one raw INSERT of as many outbox rows with the same text."""
    from bench.seed import bench_due_vouchers
    from notifications.models import OutboundMail
    from vouchers.models import Voucher
    from vouchers.reminders import send_expiry_reminders

    today = timezone.localdate()
    if not Voucher.objects.filter(program__code="DEMO-FY27", code__startswith="DUE-").exists():
        bench_due_vouchers(
            count=count,
            program_code="DEMO-FY27",
            issued_on=today - timedelta(days=150),
            # The daily case: each at its first threshold (90 days), so no older threshold
            # is recorded as passed (that happens only when a run was missed).
            expires_on=today + timedelta(days=60),
            contacts=True,
        )
    sample: dict[str, str] = {}
    # A worker is a long-lived process: import the URLconf the mails link into before
    # timing, as the first task a worker runs would have.
    reverse("voucher-detail", args=["X"])

    def portal() -> None:
        done = send_expiry_reminders(today=today)
        assert done == count, done
        if not sample:
            mail = OutboundMail.objects.filter(kind="expiry_reminder").first()
            assert mail is not None
            sample.update(text=mail.body_text, html=mail.body_html, subject=mail.subject)

    def raw() -> None:
        # As many outbox rows as the portal writes, with the same subject and bodies (so
        # TOAST compresses them alike), in one hand-written INSERT.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO notifications_outboundmail (kind, dedupe_key, "to", cc, subject,
                    body_text, body_html, status, attempts, last_error, related_object,
                    created_at)
                SELECT 'bench_raw', 'bench:' || g, '["it@example.com"]', '["rep@example.com"]',
                    %(subject)s, %(text)s, %(html)s, 'pending', 0, '', 'voucher:' || g, now()
                FROM generate_series(1, %(n)s) AS g
                """,
                {"n": count, **sample},
            )

    def reset() -> None:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM vouchers_remindermarker")
            cursor.execute("DELETE FROM notifications_outboundmail")
        _vacuum("vouchers_remindermarker", "notifications_outboundmail")

    reset()
    ours: list[float] = []
    base: list[float] = []
    for r in range(rounds):
        pair = [(ours, portal), (base, raw)]
        if r % 2 and sample:  # the raw rows copy the size of the portal's mails
            pair.reverse()
        for bucket, fn in pair:
            bucket.append(timed(fn))
            print(f"  {fn.__name__}: {bucket[-1]:.2f}s", file=sys.stderr, flush=True)
            reset()
    o, b = statistics.median(ours), statistics.median(base)
    return {"reminders_s": round(o, 3), "raw_insert_s": round(b, 3), "ratio": o / b}


def expiry(count: int = 1_000_000, rounds: int = 1) -> dict[str, Any]:
    """expire_vouchers over `count` due vouchers over one hand-written UPDATE of the same
    rows; between runs the rows are put back to issued (not measured)."""
    from bench.seed import bench_due_vouchers
    from vouchers.models import Voucher
    from vouchers.reminders import expire_vouchers

    today = timezone.localdate()
    if not Voucher.objects.filter(program__code="FY24-MWSDO").exists():
        bench_due_vouchers(
            count=count,
            program_code="FY24-MWSDO",
            issued_on=today - timedelta(days=400),
            expires_on=today - timedelta(days=200),
            contacts=False,
        )

    def portal() -> None:
        assert expire_vouchers(today=today) == count

    def raw() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE vouchers_voucher SET status = 'expired', updated_at = now() "
                "WHERE status IN ('issued', 'claimed') AND expires_on < %s",
                [today],
            )
            assert cursor.rowcount == count

    def reset() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE vouchers_voucher SET status = 'issued' WHERE status = 'expired' "
                "AND program_id = (SELECT id FROM programs_program WHERE code = 'FY24-MWSDO')"
            )
        _vacuum("vouchers_voucher", "core_event")

    ours: list[float] = []
    base: list[float] = []
    for r in range(rounds):
        pair = [(ours, portal), (base, raw)]
        for bucket, fn in pair if r % 2 == 0 else reversed(pair):
            bucket.append(timed(fn))
            print(f"  {fn.__name__}: {bucket[-1]:.2f}s", file=sys.stderr, flush=True)
            reset()
    o, b = statistics.median(ours), statistics.median(base)
    return {"expire_s": round(o, 3), "raw_update_s": round(b, 3), "ratio": o / b}


def api_setup() -> dict[str, Any]:
    """A token for the first bench partner's user and a voucher it has claimed."""
    from accounts.services import api_token_issue
    from vouchers.models import Voucher

    user = _user(None)
    _token, key = api_token_issue(user=user)
    code = (
        Voucher.objects.filter(partner=user.partner, status="claimed")
        .order_by("pk")
        .values_list("code", flat=True)[0]
    )
    return {"token": key, "code": code}


MEASURES: dict[str, Callable[[], dict[str, Any]]] = {
    "api_setup": api_setup,
    "pages": pages,
    "pdf": pdf,
    "imports": imports,
    "reminders": reminders,
    "expiry": expiry,
}

if __name__ == "__main__":
    result = MEASURES[sys.argv[1]]()
    buffer = io.StringIO()
    json.dump(result, buffer, default=str)
    print("BENCH-RESULT " + buffer.getvalue(), flush=True)
