"""Reminder batches as one INSERT ... SELECT on PostgreSQL (the benchmark's reminder ratio).

The Python path (`vouchers.reminders.mail`) builds each mail in the worker and writes it;
at 100,000 reminders a run spent most of its time moving rows between PostgreSQL and
Python. Here the database composes the same mails from the same template fragments (a
`Stamp`, rendered once by Django) and writes mails and markers in one statement per
batch: numbers and dates are formatted by `to_char`, HTML is escaped as `html.escape`
does, addresses are cleaned as `clean_addresses` does. tests/test_reminder_mail.py checks
that both paths write identical rows.
"""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import User
from core.db import table
from customers.models import Customer
from notifications.models import OutboundMail
from partners.models import Partner
from programs.models import Offer
from vouchers.models import ReminderMarker, Voucher
from vouchers.reminders.mail import Stamp, _stamps, _url_parts

# The template slots, as SQL over the batch row `d`.
# Table names from the models. The nomination is reached through the voucher's relation:
# nominations sits above vouchers in the layers.
_USER = table(User)
_VOUCHER = table(Voucher)
_CUSTOMER = table(Customer)
_OFFER = table(Offer)
_PARTNER = table(Partner)
_NOMINATION = table(Voucher._meta.get_field("nomination").related_model)
_MAIL = table(OutboundMail)
_MARKER = table(ReminderMarker)

_SLOTS = {
    "voucher.customer.name": "d.customer",
    "voucher.code": "d.code",
    "voucher.offer.name": "d.offer",
    "voucher.partner.name": "d.partner",
    # intcomma(floatformat(value, 2)) for en-us, e.g. 12,345.60
    "value_text": "to_char(d.value, 'FM999,999,999,999,990.00')",
    # date:"j F Y", e.g. 3 December 2026 (to_char's month names are English)
    "expires_text": "to_char(d.expires_on, 'FMDD FMMonth YYYY')",
    "days_text": "d.left_days || ' day' || CASE WHEN d.left_days = 1 THEN '' ELSE 's' END",
    "voucher_url": "d.url",
}
# Only these can hold characters that need escaping: codes are letters, digits and dashes,
# numbers and dates are formatted here, and the URL's constant parts are escaped in Python.
_NAMES = {"voucher.customer.name", "voucher.offer.name", "voucher.partner.name"}
# html.escape(value, quote=True), which Django's autoescape uses.
_ESCAPE = (
    "replace(replace(replace(replace(replace({}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), "
    "'\"', '&quot;'), '''', '&#x27;')"
)
# clean_addresses: trimmed of whitespace, no line breaks, each once in first order. Most
# lists hold one address: that case skips the set operations.
_TRIM = "btrim({}, E' \\t\\n\\r\\x0b\\x0c')"
_ONE = (
    "CASE WHEN " + _TRIM + " <> '' AND strpos(" + _TRIM + ", E'\\n') = 0 "
    "AND strpos(" + _TRIM + ", E'\\r') = 0 THEN jsonb_build_array(" + _TRIM + ") "
    "ELSE '[]'::jsonb END"
)
_MANY = (
    "(SELECT COALESCE(jsonb_agg(e ORDER BY o), '[]'::jsonb) FROM ("
    "SELECT btrim(x, E' \\t\\n\\r\\x0b\\x0c') AS e, min(n) AS o "
    "FROM unnest({}) WITH ORDINALITY AS t(x, n) GROUP BY 1) AS c "
    "WHERE e <> '' AND strpos(e, E'\\n') = 0 AND strpos(e, E'\\r') = 0)"
)


def _clean(array: str) -> str:
    one = _ONE.format(*[f"({array})[1]"] * 4)
    return f"(CASE WHEN cardinality({array}) = 1 THEN {one} ELSE {_MANY.format(array)} END)"


def _fill(stamp: Stamp, params: list[Any]) -> str:
    parts = ["%s"]
    params.append(stamp.text[0])
    for name, text in zip(stamp.slots, stamp.text[1:], strict=True):
        expr = _SLOTS[name]
        if name == "voucher_url" and stamp.html:
            expr = "d.url_html"
        parts.append(_ESCAPE.format(expr) if stamp.html and name in _NAMES else f"({expr})")
        parts.append("%s")
        params.append(text)
    # concat() builds the body once; a chain of || copied the growing text at every step.
    return "concat(" + ", ".join(parts) + ")"


def _body(template: str, which: int, params: list[Any]) -> str:
    with_partner = _stamps(template, True, settings.SITE_URL)[which]
    without = _stamps(template, False, settings.SITE_URL)[which]
    if with_partner.text == without.text and with_partner.slots == without.slots:
        return _fill(with_partner, params)
    plain_sql = _fill(without, params)  # parameters in the order the SQL names them
    partner_sql = _fill(with_partner, params)
    return f"CASE WHEN d.partner IS NULL THEN {plain_sql} ELSE {partner_sql} END"


def tune_for_batch() -> None:
    """For the rest of the transaction: a batch's sorts, joins and text fit in memory
    instead of spilling to disk (PostgreSQL's default work_mem is 4 MB), and no JIT: the
    batch statement's cost estimate made PostgreSQL compile it with LLVM, 1.2 s of every
    5.3 s batch of 50,000 (EXPLAIN ANALYZE), for a statement that runs once."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute("SET LOCAL jit = off")


def remind(*, kind: str, ids: list[int], days: int, today: date) -> list[int]:
    """Writes the reminder mails and SENT markers of the locked vouchers `ids`; returns
    the mail ids. One statement: the batch's rows never leave the database."""
    expiry = kind == ReminderMarker.Kind.EXPIRY
    template = "mail/expiry_reminder" if expiry else "mail/poe_reminder"
    before, after = _url_parts(settings.SITE_URL)
    now = timezone.now()
    text_params: list[Any] = []
    html_params: list[Any] = []
    body_text = _body(template, 0, text_params)
    body_html = _body(template, 1, html_params)
    if expiry:
        subject = "'Your FastTrack voucher ' || d.code || ' expires in ' || ({})"
        to = (
            f"CASE WHEN cardinality(d.people) > 0 THEN {_clean('d.people')} "
            f"ELSE {_clean('ARRAY[d.rep]')} END"
        )
        cc = _clean("ARRAY[d.rep]")
    else:
        subject = "'Submit the POE for voucher ' || d.code || ': ' || ({}) || ' left'"
        to = _clean("d.people")
        cc = "'[]'::jsonb"
    subject = subject.format(_SLOTS["days_text"])
    # The recipients: the customer's contacts (expiry, R-NOT-1) or the partner's users (POE).
    people = "customer" if expiry else "partner"
    # Only SQL is formatted in; every value, template fragment included, is a parameter.
    sql = f"""
    -- d is materialized: its `people` subquery is named several times in to and cc.
    WITH d AS MATERIALIZED (
        SELECT v.id, v.code, c.name AS customer, o.name AS offer, p.name AS partner,
            v.value, v.expires_on, (v.expires_on - %s::date) AS left_days,
            %s || v.code || %s AS url, %s || v.code || %s AS url_html, rep.email AS rep,
            ARRAY(SELECT u.email FROM {_USER} u WHERE u.{people}_id = v.{people}_id
                  AND u.is_active AND u.email <> '' ORDER BY u.id) AS people
        FROM {_VOUCHER} v
        JOIN {_CUSTOMER} c ON c.id = v.customer_id
        JOIN {_OFFER} o ON o.id = v.offer_id
        LEFT JOIN {_PARTNER} p ON p.id = v.partner_id
        JOIN {_NOMINATION} n ON n.id = v.nomination_id
        JOIN {_USER} rep ON rep.id = n.nominated_by_id
        WHERE v.id = ANY(%s)
    ), mails AS (
        INSERT INTO {_MAIL} (kind, dedupe_key, "to", cc, subject,
            body_text, body_html, status, attempts, last_error, related_object, created_at)
        SELECT %s, %s || d.id || ':' || %s, a."to",
            CASE WHEN a.cc_all = '[]'::jsonb OR a."to" @> a.cc_all THEN '[]'::jsonb
            ELSE a.cc_all END,
            left({subject}, 250), {body_text}, {body_html}, %s, 0, '', 'voucher:' || d.code, %s
        FROM d
        -- The addresses once per row (OFFSET 0 keeps the subquery from being folded into
        -- the SELECT, which would compute them again for the CASE); the bodies go straight
        -- into the INSERT: a materialized CTE of 50,000 bodies spilled 110 MB to disk.
        CROSS JOIN LATERAL (SELECT {to} AS "to", {cc} AS cc_all OFFSET 0) AS a
        RETURNING id, dedupe_key
    )
    INSERT INTO {_MARKER} (voucher_id, kind, days_before, outcome, mail_id,
        created_at)
    SELECT split_part(m.dedupe_key, ':', 3)::bigint, %s, %s, %s, m.id, %s FROM mails m
    RETURNING mail_id
    """  # noqa: S608
    params = [
        today,
        before,
        after,
        escape(before),
        escape(after),
        ids,
        "expiry_reminder" if expiry else "poe_reminder",
        f"reminder:{'expiry' if expiry else 'poe'}:",
        days,
        *text_params,
        *html_params,
        OutboundMail.Status.PENDING,
        now,
        kind,
        days,
        ReminderMarker.Outcome.SENT,
        now,
    ]
    # Parameters in the order they appear: the row CTE's, the mail's kind and key, the
    # bodies' fragments (subject, to and cc take none), the rest of the mail, the marker's.
    with connection.cursor() as cursor:
        # For this statement only: a batch looks up 50,000 customers and nominations by key;
        # costed for disk, PostgreSQL hashed both whole tables instead (two scans of a
        # million rows), twice the time of the lookups (EXPLAIN ANALYZE).
        cursor.execute("SET LOCAL enable_hashjoin = off")
        cursor.execute(sql, params)
        mail_ids = sorted(row[0] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_hashjoin = on")
    return mail_ids
