"""A realistic data set for the benchmark (`make bench`), written with bulk inserts.

`bench_seed(vouchers=N)` adds, in the live demo program and in FY24 (for vouchers that
have expired): customers with a contact each, partners with hundreds of vouchers each,
field reps, nominations in every status, vouchers in every status, payment requests at
every stage with their documents, payments (pending and paid in a batch) and the events
of all those state changes.

Rows are generated in Python with their primary keys chosen here (so children can point
at parents without reading anything back) and written with PostgreSQL's COPY (psycopg 3
`cursor.copy()`), the fastest way in; other databases get `executemany` INSERTs, which is
enough for the small sets the tests seed on SQLite. Every row satisfies the models'
database constraints (checked by tests/test_seed_bench.py). Events are only ever inserted
(R-REV-2: the table refuses UPDATE and DELETE on PostgreSQL).

`bench_due_vouchers(...)` is the benchmark's set-based helper for the batch jobs: a
million vouchers due for expiry, or 100,000 due for a reminder, in a few INSERT ... SELECT
statements (PostgreSQL only).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from core.bulk import Writer
from core.choices import Category, Role, Segment
from core.dates import add_months
from core.models import Event
from customers.models import Customer
from nominations.models import Nomination
from partners.models import Partner
from payments.models import FxRate, Payment, PaymentBatch
from programs.models import Offer, Program
from redemptions.models import PaymentRequest, RequestDocument
from vouchers.codes import generate_code
from vouchers.models import Voucher

BENCH_PASSWORD = "bench-portal-2024"  # noqa: S105 - local benchmark logins only
LIVE_PROGRAM = "DEMO-FY27"
PAST_PROGRAM = "FY24-MWSDO"
CENT = Decimal("0.01")
# Twenty slots: the share of each voucher status (30% issued, 35% claimed, 15% fully
# redeemed, 15% expired, 5% cancelled), cycled over the vouchers.
SLOTS = ["issued"] * 6 + ["claimed"] * 7 + ["fully_redeemed"] * 3 + ["expired"] * 3 + ["cancelled"]
# Claimed vouchers, cycled: where their payment requests stand.
CLAIMED_STAGES = [
    "none",
    "none",
    "none",
    "none",
    "initial_submitted",
    "initial_submitted",
    "initial_info",
    "initial_approved",
    "initial_approved",
    "final_submitted",
]


@dataclass
class SeedReport:
    vouchers: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, count: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + count


def _aware(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _value_for(purchase: Decimal, cap: Decimal) -> Decimal:
    """10% of the purchase rounded down to the cent, capped (the program's value rate)."""
    return min((purchase * Decimal("0.10")).quantize(CENT, rounding=ROUND_DOWN), cap)


def bench_users(*, reps: int, partners: Sequence[int], writer: Writer) -> dict[str, Any]:
    """The staff logins the benchmark acts as, the field reps and two users per partner."""
    password = make_password(BENCH_PASSWORD)
    now = timezone.now()
    start = writer.reserve(User, 3 + reps + 2 * len(partners))
    rows: list[tuple[Any, ...]] = []
    ids: dict[str, Any] = {"reps": [], "partner_users": {}}

    def add(username: str, role: str, partner: int | None = None, staff: bool = False) -> int:
        pk = start + len(rows)
        rows.append(
            (
                pk,
                password,
                username,
                f"{username}@bench.example",
                role,
                partner,
                None,
                True,
                staff,
                staff,
                now,
                "",
                "",
            )
        )
        return pk

    ids["pm"] = add("bench-pm", Role.PROGRAM_MANAGER, staff=True)
    ids["qtm"] = add("bench-qtm", Role.REVIEWER)
    ids["rep"] = add("bench-rep", Role.FIELD_REP)
    ids["reps"].append(ids["rep"])
    for i in range(1, reps):
        ids["reps"].append(add(f"bench-rep-{i}", Role.FIELD_REP))
    for p in partners:
        ids["partner_users"][p] = [
            add(f"bench-partner-{p}-{j}", Role.PARTNER, partner=p) for j in range(2)
        ]
    writer.insert(
        User,
        [
            "id",
            "password",
            "username",
            "email",
            "role",
            "partner",
            "customer",
            "is_active",
            "is_staff",
            "is_superuser",
            "date_joined",
            "first_name",
            "last_name",
        ],
        rows,
    )
    return ids


@transaction.atomic
def bench_seed(*, vouchers: int, today: date | None = None, seed: int = 9) -> SeedReport:
    """Adds `vouchers` vouchers with everything around them; see the module docstring.

    Run it once per database: the bench logins (`bench-pm`, `bench-qtm`, `bench-rep`,
    `bench-partner-0-0`, …) are created by the first run."""
    rng = random.Random(seed)
    today = today or timezone.localdate()
    writer = Writer()
    report = SeedReport(vouchers=vouchers)
    live = Program.objects.get(code=LIVE_PROGRAM)
    past = Program.objects.get(code=PAST_PROGRAM)
    offers = {(o.program_id, o.code): o for o in Offer.objects.filter(program__in=[live, past])}
    now = timezone.now()
    for currency in ("USD",):
        FxRate.objects.get_or_create(
            currency=currency, valid_from=past.window_start, defaults={"rate_per_usd": 1}
        )

    # Organisations. Partners run a few hundred vouchers each; customers one voucher each
    # (the R-OFFER-1 group constraint), a fifth of them with a second nomination.
    partner_count = max(10, vouchers // 300)
    first_partner = writer.reserve(Partner, partner_count)
    partner_ids = list(range(first_partner, first_partner + partner_count))
    writer.insert(
        Partner,
        [
            "id",
            "created_at",
            "updated_at",
            "partner_id",
            "name",
            "country",
            "currency",
            "company",
            "frp_approved",
            "payment_profile_ref",
        ],
        (
            (pk, now, now, f"P-B{pk:06d}", f"Bench Partner {pk}", "US", "USD", "", True, "PC-1")
            for pk in partner_ids
        ),
    )
    report.add("partners", partner_count)
    if not User.objects.filter(username="bench-pm").exists():
        # Partner 0 of the first run is the partner the benchmark signs in as.
        ids = bench_users(reps=max(5, vouchers // 2000), partners=partner_ids, writer=writer)
    else:
        existing = dict(
            User.objects.filter(username__startswith="bench-").values_list("username", "pk")
        )
        ids = {
            "pm": existing["bench-pm"],
            "qtm": existing["bench-qtm"],
            "rep": existing["bench-rep"],
            "reps": [pk for name, pk in existing.items() if name.startswith("bench-rep")],
        }
        extra = bench_users_for_partners(partner_ids, writer)
        ids["partner_users"] = extra
    report.add("users", len(ids["reps"]) + 2 + 2 * partner_count)

    first_customer = writer.reserve(Customer, vouchers)
    customers = range(first_customer, first_customer + vouchers)
    segments = [Segment.ENTERPRISE, Segment.ENTERPRISE, Segment.SMC_C]
    countries = ["US", "GB", "DE", "BR", "FR", "JP", "IN", "CA"]
    writer.insert(
        Customer,
        [
            "id",
            "created_at",
            "updated_at",
            "tpid",
            "name",
            "country",
            "category",
            "segment",
            "e3_licenses",
            "public_institution",
            "company",
        ],
        (
            (
                pk,
                now,
                now,
                f"B{pk:09d}",
                f"Bench Customer {pk}",
                countries[pk % len(countries)],
                Category.COMMERCIAL if pk % 3 else Category.SMC_CORPORATE,
                segments[pk % 3],
                rng.randrange(0, 400),
                False,
                "",
            )
            for pk in customers
        ),
    )
    report.add("customers", vouchers)
    password = "!"  # noqa: S105 - unusable: contacts sign in through the customer's identity provider, not here
    first_contact = writer.reserve(User, vouchers)
    writer.insert(
        User,
        [
            "id",
            "password",
            "username",
            "email",
            "role",
            "customer",
            "is_active",
            "date_joined",
            "is_staff",
            "is_superuser",
            "first_name",
            "last_name",
        ],
        (
            (
                first_contact + i,
                password,
                f"bench-c{pk}",
                f"it@c{pk}.bench.example",
                Role.CUSTOMER,
                pk,
                True,
                now,
                False,
                False,
                "",
                "",
            )
            for i, pk in enumerate(customers)
        ),
    )
    report.add("users", vouchers)

    # Vouchers and their nominations.
    nomination_rows: list[tuple[Any, ...]] = []
    voucher_rows: list[tuple[Any, ...]] = []
    request_rows: list[tuple[Any, ...]] = []
    document_rows: list[tuple[Any, ...]] = []
    payment_rows: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    first_nomination = writer.reserve(Nomination, vouchers + vouchers // 5 + 1)
    first_voucher = writer.reserve(Voucher, vouchers)
    first_request = writer.reserve(PaymentRequest, vouchers * 2)
    first_document = writer.reserve(RequestDocument, vouchers * 2)
    first_payment = writer.reserve(Payment, vouchers * 2)
    batch = PaymentBatch.objects.create(
        status=PaymentBatch.Status.CONFIRMED,
        created_by_id=ids["pm"],
        confirmed_by_id=ids["pm"],
        confirmed_at=now,
        reference="bench-run-1",
    )
    offer_codes = ["DEPLOY", "DEPLOY", "MIGRATE", "COPILOT"]
    live_days = max(1, (today - live.window_start).days)
    past_days = (past.window_end - past.window_start).days
    claimed_seen = 0

    def event(
        subject: str, pk: int, action: str, frm: str, to: str, actor: int | None, at: datetime
    ) -> None:
        events.append((subject, pk, action, frm, to, actor, at, "", {}))

    for i, customer in enumerate(customers):
        status = SLOTS[i % len(SLOTS)]
        program = past if status == "expired" or (status == "fully_redeemed" and i % 3) else live
        code = offer_codes[i % len(offer_codes)]
        offer = offers[(program.pk, code)]
        if program is live:
            issued_on = today - timedelta(days=1 + rng.randrange(live_days))
        else:
            issued_on = past.window_start + timedelta(days=rng.randrange(past_days))
        expires_on = add_months(issued_on, program.voucher_validity_months)
        purchase = Decimal(rng.randrange(60_000, 900_000)).quantize(CENT)
        cap = Decimal("75000.00") if offer.exclusive_group == "m365" else Decimal("50000.00")
        value = _value_for(purchase, cap)
        rep = ids["reps"][i % len(ids["reps"])]
        nomination_id = first_nomination + len(nomination_rows)
        created = _aware(issued_on - timedelta(days=20))
        nomination_rows.append(
            _nomination_row(
                nomination_id,
                program,
                customer,
                offer,
                rep,
                ids["pm"],
                created,
                status="issued",
                purchase=purchase,
                closed_on=issued_on,
                value=value,
                cap=cap,
            )
        )
        event("nomination", nomination_id, "submitted", "", "submitted", rep, created)
        event("nomination", nomination_id, "approved", "submitted", "approved", ids["pm"], created)
        voucher_id = first_voucher + i
        issued_at = _aware(issued_on)
        event("nomination", nomination_id, "issued", "approved", "issued", ids["pm"], issued_at)
        event("voucher", voucher_id, "issued", "", "issued", ids["pm"], issued_at)
        partner = None
        claimed_at = None
        paid_total = Decimal("0.00")
        stage = "none"
        if status in ("claimed", "fully_redeemed") or (status == "expired" and i % 2):
            partner = partner_ids[i % partner_count]
            claimed_at = _aware(issued_on + timedelta(days=2))
            event(
                "voucher",
                voucher_id,
                "claimed",
                "issued",
                "claimed",
                ids["partner_users"][partner][0],
                claimed_at,
            )
            if status == "claimed":
                stage = CLAIMED_STAGES[claimed_seen % len(CLAIMED_STAGES)]
                claimed_seen += 1
            elif status == "fully_redeemed":
                stage = "final_approved"
            else:
                stage = "initial_approved"
        submitter = ids["partner_users"][partner][0] if partner else None
        half = (value / 2).quantize(CENT, rounding=ROUND_DOWN)

        def request(
            kind: str,
            req_status: str,
            day: date,
            payout: Decimal | None,
            *,
            voucher_id: int = voucher_id,
            value: Decimal = value,
            submitter: int | None = submitter,
            partner: int | None = partner,
        ) -> None:
            nonlocal paid_total
            pk = first_request + len(request_rows)
            submitted_at = _aware(day, 9)
            decided = req_status in ("approved",)
            request_rows.append(
                (
                    pk,
                    now,
                    now,
                    voucher_id,
                    kind,
                    1,
                    req_status,
                    (value * 4).quantize(CENT) if kind == "initial" else None,
                    "Casey Customer",
                    day,
                    "Pat Partner",
                    day,
                    submitter,
                    submitted_at,
                    day + timedelta(days=7),
                    None,
                    ids["qtm"] if decided else None,
                    submitted_at if decided else None,
                    ids["qtm"] if decided else None,
                    _aware(day + timedelta(days=3)) if decided else None,
                    "",
                    "Which tenant is this for?" if req_status == "info_requested" else "",
                    payout if decided else None,
                    None,
                )
            )
            document_rows.append(
                (
                    first_document + len(document_rows),
                    pk,
                    1,
                    f"requests/{voucher_id}/bench-{pk}.pdf",
                    "0" * 64,
                    24000,
                    2,
                    f"signed-{kind}.pdf",
                    submitter,
                    submitted_at,
                )
            )
            event("request", pk, "submitted", "", "submitted", submitter, submitted_at)
            if req_status == "info_requested":
                event(
                    "request", pk, "asked", "submitted", "info_requested", ids["qtm"], submitted_at
                )
            if decided and payout:
                event(
                    "request",
                    pk,
                    "approved",
                    "submitted",
                    "approved",
                    ids["qtm"],
                    _aware(day + timedelta(days=3)),
                )
                approved_on = day + timedelta(days=3)
                paid = approved_on < today - timedelta(days=30)
                payment_rows.append(
                    (
                        first_payment + len(payment_rows),
                        "payout",
                        pk,
                        None,
                        voucher_id,
                        partner,
                        payout,
                        "USD",
                        Decimal("1.000000"),
                        payout,
                        approved_on,
                        "paid" if paid else "pending",
                        batch.pk if paid else None,
                        now if paid else None,
                        now,
                    )
                )
                paid_total += payout

        sow_day = min(issued_on + timedelta(days=10), today - timedelta(days=1))
        if sow_day < issued_on:
            sow_day = issued_on
        if stage == "initial_submitted":
            request("initial", "submitted", sow_day, None)
        elif stage == "initial_info":
            request("initial", "info_requested", sow_day, None)
        elif stage in ("initial_approved", "final_submitted", "final_approved"):
            request("initial", "approved", sow_day, half)
            poe_day = min(sow_day + timedelta(days=20), expires_on, today)
            if stage == "final_submitted":
                request("final", "submitted", poe_day, None)
            elif stage == "final_approved":
                request("final", "approved", poe_day, value - half)
        if status == "expired":
            event(
                "voucher",
                voucher_id,
                "expired",
                "claimed" if partner else "issued",
                "expired",
                None,
                _aware(expires_on + timedelta(days=1), 0),
            )
        if status == "fully_redeemed":
            event(
                "voucher",
                voucher_id,
                "redeemed_fully",
                "claimed",
                "fully_redeemed",
                ids["qtm"],
                now,
            )
        if status == "cancelled":
            event("voucher", voucher_id, "cancelled", "issued", "cancelled", ids["pm"], now)
        voucher_rows.append(
            (
                voucher_id,
                now,
                now,
                generate_code(),
                program.pk,
                nomination_id,
                customer,
                offer.pk,
                offer.exclusive_group,
                ["M365_E3"],
                "commercial",
                value,
                cap,
                "bench",
                value,
                issued_on,
                expires_on,
                status,
                partner,
                claimed_at,
                paid_total,
                ids["pm"],
            )
        )
        if i % 5 == 0:  # a second nomination, in the other group, at every stage before issue
            other = offers[(live.pk, "COPILOT" if offer.exclusive_group == "m365" else "DEPLOY")]
            second = ["submitted", "approved", "rejected", "withdrawn"][(i // 5) % 4]
            nid = first_nomination + len(nomination_rows)
            created = _aware(today - timedelta(days=1 + rng.randrange(live_days)))
            nomination_rows.append(
                _nomination_row(
                    nid,
                    live,
                    customer,
                    other,
                    rep,
                    ids["pm"],
                    created,
                    status=second,
                    purchase=purchase,
                    closed_on=None,
                    value=None,
                    cap=None,
                )
            )
            event("nomination", nid, "submitted", "", "submitted", rep, created)
            if second != "submitted":
                actor = rep if second == "withdrawn" else ids["pm"]  # the rep withdraws
                event("nomination", nid, second, "submitted", second, actor, created)

    report.add("nominations", writer.insert(Nomination, NOMINATION_FIELDS, nomination_rows))
    report.add("vouchers", writer.insert(Voucher, VOUCHER_FIELDS, voucher_rows))
    report.add("requests", writer.insert(PaymentRequest, REQUEST_FIELDS, request_rows))
    report.add("documents", writer.insert(RequestDocument, DOCUMENT_FIELDS, document_rows))
    report.add("payments", writer.insert(Payment, PAYMENT_FIELDS, payment_rows))
    report.add("events", writer.insert(Event, EVENT_FIELDS, events))
    if writer.postgres:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return report


def bench_users_for_partners(partner_ids: Sequence[int], writer: Writer) -> dict[int, list[int]]:
    """Two users for each partner added by a later run."""
    password = "!"  # noqa: S105 - an unusable password
    now = timezone.now()
    start = writer.reserve(User, 2 * len(partner_ids))
    rows = []
    out: dict[int, list[int]] = {}
    for n, p in enumerate(partner_ids):
        out[p] = [start + 2 * n, start + 2 * n + 1]
        for j in range(2):
            rows.append(
                (
                    start + 2 * n + j,
                    password,
                    f"bench-partner-{p}-{j}",
                    f"u{j}@p{p}.bench.example",
                    Role.PARTNER,
                    p,
                    True,
                    now,
                    False,
                    False,
                    "",
                    "",
                )
            )
    writer.insert(
        User,
        [
            "id",
            "password",
            "username",
            "email",
            "role",
            "partner",
            "is_active",
            "date_joined",
            "is_staff",
            "is_superuser",
            "first_name",
            "last_name",
        ],
        rows,
    )
    return out


NOMINATION_FIELDS = [
    "id",
    "created_at",
    "updated_at",
    "program",
    "customer",
    "offer",
    "exclusive_group",
    "workloads",
    "deal_value",
    "expected_close_date",
    "agreement_type",
    "upsell_expansion",
    "migration_sources",
    "ecif_funded",
    "notes",
    "nominated_by",
    "status",
    "decided_by",
    "decided_at",
    "rejection_reason",
    "withdrawal_reason",
    "estimated_value",
    "estimated_cap",
    "closed_on",
    "purchase_amount",
]


def _nomination_row(
    pk: int,
    program: Program,
    customer: int,
    offer: Offer,
    rep: int,
    pm: int,
    created: datetime,
    *,
    status: str,
    purchase: Decimal,
    closed_on: date | None,
    value: Decimal | None,
    cap: Decimal | None,
) -> tuple[Any, ...]:
    decided = status not in ("submitted", "withdrawn")
    return (
        pk,
        created,
        created,
        program.pk,
        customer,
        offer.pk,
        offer.exclusive_group,
        ["M365_COPILOT"] if offer.exclusive_group == "copilot" else ["M365_E3"],
        purchase,
        (closed_on or created.date() + timedelta(days=30)),
        "new",
        False,
        ["competitor"] if offer.requires_migration else [],
        False,
        "",
        rep,
        status,
        pm if decided else None,
        created if decided else None,
        "Deal lost to a competitor." if status == "rejected" else "",
        "Nominated twice by mistake." if status == "withdrawn" else "",
        value,
        cap,
        closed_on,
        purchase if status == "issued" else None,
    )


VOUCHER_FIELDS = [
    "id",
    "created_at",
    "updated_at",
    "code",
    "program",
    "nomination",
    "customer",
    "offer",
    "exclusive_group",
    "workloads",
    "scheme",
    "value",
    "cap",
    "cap_row",
    "suggested_value",
    "issued_on",
    "expires_on",
    "status",
    "partner",
    "claimed_at",
    "paid_total",
    "issued_by",
]
REQUEST_FIELDS = [
    "id",
    "created_at",
    "updated_at",
    "voucher",
    "kind",
    "attempt",
    "status",
    "sow_value",
    "customer_signer",
    "customer_signed_on",
    "partner_signer",
    "partner_signed_on",
    "submitted_by",
    "submitted_at",
    "due_by",
    "sla_remaining_days",
    "reviewer",
    "taken_at",
    "decided_by",
    "decided_at",
    "rejection_reason",
    "question",
    "payout_amount",
    "overdue_notified_at",
]
DOCUMENT_FIELDS = [
    "id",
    "request",
    "version",
    "file",
    "sha256",
    "size",
    "pages",
    "original_name",
    "uploaded_by",
    "uploaded_at",
]
PAYMENT_FIELDS = [
    "id",
    "kind",
    "request",
    "dispute",
    "voucher",
    "partner",
    "amount_usd",
    "currency",
    "fx_rate",
    "amount_local",
    "approved_on",
    "status",
    "batch",
    "paid_at",
    "created_at",
]
EVENT_FIELDS = [
    "subject",
    "subject_id",
    "action",
    "from_state",
    "to_state",
    "actor",
    "at",
    "reason",
    "data",
]


def bench_due_vouchers(
    *, count: int, program_code: str, issued_on: date, expires_on: date, contacts: bool
) -> int:
    """`count` issued vouchers (each with its customer and issued nomination, and a
    contact when `contacts`) expiring on `expires_on`, inserted by a few INSERT ... SELECT
    over generate_series (PostgreSQL). For the batch-job benchmarks: expiry and reminders."""
    assert connection.vendor == "postgresql", "set-based seeding needs PostgreSQL"
    program = Program.objects.get(code=program_code)
    offer = Offer.objects.get(program=program, code="DEPLOY")
    writer = Writer()
    pm = User.objects.get(username="bench-pm").pk
    rep = User.objects.get(username="bench-rep").pk
    customer0 = writer.reserve(Customer, count)
    nomination0 = writer.reserve(Nomination, count)
    voucher0 = writer.reserve(Voucher, count)
    user0 = writer.reserve(User, count) if contacts else 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO customers_customer (id, created_at, updated_at, tpid, name, country,
                category, segment, e3_licenses, public_institution, company)
            SELECT %(c0)s + g, now(), now(), 'D' || (%(c0)s + g), 'Due Customer ' || (%(c0)s + g),
                'US', 'commercial', 'enterprise', 10, false, ''
            FROM generate_series(0, %(n)s - 1) AS g;
            INSERT INTO nominations_nomination (id, created_at, updated_at, program_id,
                customer_id, offer_id, exclusive_group, workloads, deal_value,
                expected_close_date, agreement_type, upsell_expansion, migration_sources,
                ecif_funded, notes, nominated_by_id, status, decided_by_id, decided_at,
                rejection_reason, estimated_value, estimated_cap, closed_on, purchase_amount)
            SELECT %(n0)s + g, now(), now(), %(program)s, %(c0)s + g, %(offer)s, %(group)s,
                '["M365_E3"]', 100000, %(issued)s, 'new', false, '[]', false, '', %(rep)s,
                'issued', %(pm)s, now(), '', 10000, 75000, %(issued)s, 100000
            FROM generate_series(0, %(n)s - 1) AS g;
            INSERT INTO vouchers_voucher (id, created_at, updated_at, code, program_id,
                nomination_id, customer_id, offer_id, exclusive_group, workloads, scheme, value,
                cap, cap_row, suggested_value, issued_on, expires_on, status, partner_id,
                claimed_at, paid_total, issued_by_id)
            SELECT %(v0)s + g, now(), now(), 'DUE-' || lpad((%(v0)s + g)::text, 15, '0'),
                %(program)s, %(n0)s + g, %(c0)s + g, %(offer)s, %(group)s, '["M365_E3"]',
                'commercial', 10000, 75000, 'bench', 10000, %(issued)s, %(expires)s, 'issued',
                NULL, NULL, 0, %(pm)s
            FROM generate_series(0, %(n)s - 1) AS g;
            """,
            {
                "n": count,
                "c0": customer0,
                "n0": nomination0,
                "v0": voucher0,
                "program": program.pk,
                "offer": offer.pk,
                "group": offer.exclusive_group,
                "issued": issued_on,
                "expires": expires_on,
                "rep": rep,
                "pm": pm,
            },
        )
        if contacts:
            cursor.execute(
                """
                INSERT INTO accounts_user (id, password, username, email, role, customer_id,
                    partner_id, is_active, is_staff, is_superuser, date_joined, first_name,
                    last_name)
                SELECT %(u0)s + g, '!', 'due-c' || (%(c0)s + g),
                    'it@d' || (%(c0)s + g) || '.bench.example', 'customer', %(c0)s + g, NULL,
                    true, false, false, now(), '', ''
                FROM generate_series(0, %(n)s - 1) AS g
                """,
                {"n": count, "c0": customer0, "u0": user0},
            )
        cursor.execute("ANALYZE")
    return count
