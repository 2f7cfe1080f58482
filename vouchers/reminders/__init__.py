"""Voucher reminders and expiry (R-VOU-2, R-VOU-8, R-NOT-1, R-RED-5), one package: the run
of a reminder kind (here), the mails (`mail`) and the PostgreSQL batch (`sql`). Expiry
reminders are sent from here; POE reminders, which depend on the payment requests, from
redemptions.reminders through `reminders_send`.

Exactly once: each batch locks its vouchers (SKIP LOCKED, so workers share the work),
writes a ReminderMarker per threshold and the outbox mail in one transaction, and hands
the mail to the workers after commit. A re-run, a second worker or a worker killed
mid-batch can neither send twice (the marker is unique) nor skip (an uncommitted batch
leaves no marker, so the next run does it). Selections are one query per threshold
window on (status, expires_on).

Speed (`make bench`): a batch reads what its mails say in two queries, fills
the mail templates without rendering them per voucher (`vouchers.reminders.mail`), and on
PostgreSQL writes mails and markers with COPY; expiry is one UPDATE ... RETURNING feeding
the INSERT of its events, per batch of 50,000.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from core.bulk import Writer
from core.db import table
from core.models import Event
from notifications.models import OutboundMail
from notifications.services import mail_dispatch_on_commit
from programs.models import Program
from vouchers.expiry import EXPIRING_STATUSES
from vouchers.models import ReminderMarker, Voucher
from vouchers.reminders import sql as reminder_sql
from vouchers.reminders.mail import Due, MailRow, expiry_mail

if TYPE_CHECKING:  # for the annotation only: vouchers does not import redemptions
    from redemptions.models import PaymentRequest

BATCH = settings.REMINDER_BATCH
EXPIRE_BATCH = settings.REMINDER_BATCH
Candidates = Callable[[Program, "Window", date], QuerySet[Voucher]]
Builder = Callable[[Due, int, date], MailRow]


@dataclass(frozen=True)
class Window:
    """Vouchers expiring in [first, last] days whose nearest passed threshold is `days`."""

    days: int
    first: int
    last: int
    older: tuple[int, ...]  # thresholds already passed, counted as passed if never sent


def windows(thresholds: list[int]) -> list[Window]:
    """[90, 30, 7] -> 0..7 (7; older 30, 90), 8..30 (30; older 90), 31..90 (90)."""
    ordered = sorted(set(thresholds))
    out = []
    for i, days in enumerate(ordered):
        first = ordered[i - 1] + 1 if i else 0
        out.append(Window(days, first, days, tuple(ordered[i + 1 :])))
    return out


def _due(program: Program, kind: str, window: Window, today: date) -> QuerySet[Voucher]:
    marked = ReminderMarker.objects.filter(
        voucher=OuterRef("pk"), kind=kind, days_before=window.days
    )
    return (
        Voucher.objects.filter(
            program=program,
            expires_on__gte=today + timedelta(days=window.first),
            expires_on__lte=today + timedelta(days=window.last),
        )
        .exclude(Exists(marked))
        .order_by("pk")
    )


def reminder_due(program: Program, kind: str, window: Window, today: date) -> QuerySet[Voucher]:
    """The vouchers of `program` expiring within `window` that have no `kind` reminder for
    it yet, in primary-key order: what a run of that kind narrows down further."""
    return _due(program, kind, window, today)


def _expiry_candidates(program: Program, window: Window, today: date) -> QuerySet[Voucher]:
    """R-VOU-8: only while the voucher has no redemption, a payment request in one of
    `PaymentRequest.REDEMPTION_STATUSES` (pending, in review, waiting for information or
    approved). A rejected request is none, so reminders resume after it at the nearest
    threshold not sent yet. The requests are redemptions'; the model and its statuses are
    reached through the voucher's relation. Both paths (the ORM batch and the PostgreSQL
    statement in `sql`) lock and remind exactly the vouchers this selects."""
    requests = cast(
        "type[PaymentRequest]", Voucher._meta.get_field("payment_requests").related_model
    )
    redemption = requests._default_manager.filter(
        voucher=OuterRef("pk"), status__in=requests.REDEMPTION_STATUSES
    )
    return (
        _due(program, ReminderMarker.Kind.EXPIRY, window, today)
        .filter(status__in=EXPIRING_STATUSES)
        .exclude(Exists(redemption))
    )


# Kept as names so a test can make a builder fail mid-batch (a crashed worker).
_expiry_mail: Builder = expiry_mail


def _run(kind: str, *, today: date | None, candidates: Candidates, build: Builder) -> int:
    today = today or timezone.localdate()
    total = 0
    for program in Program.objects.filter(is_active=True):
        thresholds = (
            program.reminder_days
            if kind == ReminderMarker.Kind.EXPIRY
            else program.poe_reminder_days
        )
        for window in windows(thresholds):
            # A cursor on the primary key: each batch starts after the last one, so a run
            # reads the due vouchers once instead of skipping the ones it already marked
            # at every batch. Vouchers passed over because another worker held them are
            # that worker's; if it rolled back, the next run sends them.
            after = 0
            while True:
                qs = candidates(program, window, today).filter(pk__gt=after)
                done, after = _batch(kind, qs, window, today, build)
                total += done
                if done < BATCH:
                    break
                _refresh_statistics()
    return total


DUE_COLUMNS = (
    "pk",
    "code",
    "customer__name",
    "offer__name",
    "value",
    "expires_on",
    "partner__name",
    "nomination__nominated_by__email",
    "customer_id",
    "partner_id",
)


def _dues(rows: list[tuple[Any, ...]]) -> list[Due]:
    """The locked vouchers' rows with their recipients, read in one more query."""
    dues = [Due(*row[:8]) for row in rows]
    customers = {row[8] for row in rows}
    partners = {row[9] for row in rows if row[9] is not None}
    by_customer: dict[int, list[str]] = {}
    by_partner: dict[int, list[str]] = {}
    people = (
        User.objects.filter(is_active=True)
        .filter(Q(customer_id__in=customers) | Q(partner_id__in=partners))
        .exclude(email="")
        .order_by("pk")
        .values_list("customer_id", "partner_id", "email")
    )
    for customer, partner, email in people:
        if customer is not None:
            by_customer.setdefault(customer, []).append(email)
        if partner is not None:
            by_partner.setdefault(partner, []).append(email)
    for due, row in zip(dues, rows, strict=True):
        due.contacts = by_customer.get(row[8], [])
        due.partner_users = by_partner.get(row[9], []) if row[9] is not None else []
    return dues


def _save(kind: str, days: int, dues: list[Due], mails: list[MailRow]) -> list[int]:
    """The mails and a SENT marker for each: COPY on PostgreSQL (ids drawn from the
    sequence first, so markers can point at their mails), bulk_create elsewhere."""
    writer = Writer()
    sent = ReminderMarker.Outcome.SENT
    if not writer.postgres:
        saved = OutboundMail.objects.bulk_create([m.model() for m in mails])
        ReminderMarker.objects.bulk_create(
            ReminderMarker(voucher_id=d.pk, kind=kind, days_before=days, outcome=sent, mail=m)
            for d, m in zip(dues, saved, strict=True)
        )
        return [m.pk for m in saved]
    now = timezone.now()
    ids = writer.next_ids(OutboundMail, len(mails))
    pending = OutboundMail.Status.PENDING
    writer.insert(
        OutboundMail,
        [
            *("id", "kind", "dedupe_key", "to", "cc", "subject", "body_text", "body_html"),
            *("status", "attempts", "last_error", "related_object", "created_at"),
        ],
        (
            (
                pk,
                m.kind,
                m.dedupe_key,
                m.to,
                m.cc,
                m.subject,
                m.body_text,
                m.body_html,
                pending,
                0,
                "",
                m.related_object,
                now,
            )
            for pk, m in zip(ids, mails, strict=True)
        ),
    )
    writer.insert(
        ReminderMarker,
        ["voucher", "kind", "days_before", "outcome", "mail", "created_at"],
        ((d.pk, kind, days, sent, pk, now) for d, pk in zip(dues, ids, strict=True)),
    )
    return ids


def _passed(kind: str, vouchers: list[int], older: tuple[int, ...]) -> None:
    """R-VOU-8: a run that finds several thresholds passed sends only the nearest; the
    older ones are recorded as passed unless they were dealt with already."""
    passed = ReminderMarker.Outcome.PASSED
    if connection.vendor != "postgresql":
        ReminderMarker.objects.bulk_create(
            [
                ReminderMarker(voucher_id=pk, kind=kind, days_before=d, outcome=passed)
                for pk in vouchers
                for d in older
            ],
            ignore_conflicts=True,
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table(ReminderMarker)} (voucher_id, kind, days_before, outcome, "  # noqa: S608 - names from _meta
            "mail_id, created_at) SELECT v, %s, d, %s, NULL, %s "
            "FROM unnest(%s::bigint[]) AS v CROSS JOIN unnest(%s::int[]) AS d "
            "ON CONFLICT DO NOTHING",
            [kind, passed, timezone.now(), vouchers, list(older)],
        )


def _refresh_statistics() -> None:
    """PostgreSQL plans the next batch's "no marker yet" check from the table statistics;
    a first run over a near-empty marker table, told it is empty, chose a nested loop over
    a materialized scan of every marker just written (seconds turned into minutes at
    100,000 vouchers, `make bench`). Refreshing them between large batches keeps the plan an
    index probe per voucher."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table(ReminderMarker)}")


def _locked_ids(qs: QuerySet[Voucher]) -> list[int]:
    """The next batch's primary keys, locked (SKIP LOCKED: another worker's are its own).
    Read with the cursor, not the queryset: turning 50,000 rows into Python through the
    ORM's iterator cost more than the query (`make bench`)."""
    locked = qs.select_for_update(skip_locked=True, of=("self",)).values_list("pk")[:BATCH]
    sql, params = locked.query.get_compiler(using=locked.db).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [pk for (pk,) in cursor.fetchall()]


def _batch(
    kind: str, qs: QuerySet[Voucher], window: Window, today: date, build: Builder
) -> tuple[int, int]:
    """One batch in one transaction; returns how many were reminded and the last pk."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            reminder_sql.tune_for_batch()
        ids = _locked_ids(qs)
        if not ids:
            return 0, 0
        if connection.vendor == "postgresql":
            saved = reminder_sql.remind(kind=kind, ids=ids, days=window.days, today=today)
        else:
            rows = Voucher.objects.filter(pk__in=ids).order_by("pk").values_list(*DUE_COLUMNS)
            dues = _dues(list(rows))
            saved = _save(kind, window.days, dues, [build(d, window.days, today) for d in dues])
        if window.older:
            _passed(kind, ids, window.older)
        mail_dispatch_on_commit(saved)
    return len(ids), max(ids)


def send_expiry_reminders(*, today: date | None = None) -> int:
    """R-VOU-8: to the customer's contacts, the account team cc'd, while the voucher has no
    redemption (`_expiry_candidates`)."""
    return _run(
        ReminderMarker.Kind.EXPIRY, today=today, candidates=_expiry_candidates, build=_expiry_mail
    )


def reminders_send(
    *, kind: str, today: date | None = None, candidates: Candidates, build: Builder
) -> int:
    """Runs one kind of reminder over every active program's thresholds: `candidates`
    narrows `reminder_due` down, `build` writes a voucher's mail. Exactly once per voucher
    and threshold, as the module says."""
    return _run(kind, today=today, candidates=candidates, build=build)


def expire_vouchers(*, today: date | None = None) -> int:
    """R-VOU-2: vouchers past their expiry date expire, a batch at a time, with one event
    row per voucher (R-RED-5: approved payments stay paid). SKIP LOCKED lets workers
    share the work; a voucher changes state and gets its event in the same transaction."""
    today = today or timezone.localdate()
    if connection.vendor == "postgresql":
        return _expire_set_based(today)
    total = 0
    while True:
        with transaction.atomic():
            rows = list(
                Voucher.objects.select_for_update(skip_locked=True)
                .filter(status__in=EXPIRING_STATUSES, expires_on__lt=today)
                .order_by("pk")
                .values_list("pk", "status")[:EXPIRE_BATCH]
            )
            if not rows:
                break
            now = timezone.now()
            Voucher.objects.filter(pk__in=[pk for pk, _ in rows]).update(
                status=Voucher.Status.EXPIRED, updated_at=now
            )
            Event.objects.bulk_create(
                (
                    Event(
                        subject="voucher",
                        subject_id=pk,
                        action="expired",
                        from_state=status,
                        to_state=Voucher.Status.EXPIRED,
                        at=now,
                    )
                    for pk, status in rows
                ),
                batch_size=BATCH,
            )
        total += len(rows)
        if len(rows) < EXPIRE_BATCH:
            break
    return total


# One statement per batch: lock due vouchers (SKIP LOCKED: another worker's rows are left
# to it; the lock also reads the state each is in now), expire them, and insert one event
# per voucher from the UPDATE's RETURNING, with the state it left. Batches walk the primary
# key (`id > after`), so each reads only rows the last one did not: restarting from the
# (status, expires_on) index made every batch step over the index entries of all the
# vouchers expired before it. `make bench`: within 2x a bare UPDATE of the same rows.
_EXPIRE_SQL = f"""
WITH due AS (
    SELECT id, status FROM {table(Voucher)}
    WHERE status IN (%(issued)s, %(claimed)s) AND expires_on < %(today)s AND id > %(after)s
    ORDER BY id
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
), changed AS (
    UPDATE {table(Voucher)} AS v SET status = %(expired)s, updated_at = %(now)s
    FROM due WHERE v.id = due.id
    RETURNING v.id, due.status AS from_state
), events AS (
    INSERT INTO {table(Event)} (subject, subject_id, action, from_state, to_state, actor_id, at,
        reason, data)
    SELECT 'voucher', id, 'expired', from_state, %(expired)s, NULL, %(now)s, '', '{{}}'::jsonb
    FROM changed
    RETURNING subject_id
)
SELECT count(*), COALESCE(max(subject_id), 0) FROM events
"""  # noqa: S608 - table names from _meta, values are parameters


def _expire_set_based(today: date) -> int:
    total = after = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                _EXPIRE_SQL,
                {
                    "issued": Voucher.Status.ISSUED,
                    "claimed": Voucher.Status.CLAIMED,
                    "expired": Voucher.Status.EXPIRED,
                    "today": today,
                    "now": timezone.now(),
                    "after": after,
                    "batch": EXPIRE_BATCH,
                },
            )
            done, after = cursor.fetchone()
        total += done
        if done < EXPIRE_BATCH:
            return int(total)
