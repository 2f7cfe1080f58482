"""`GET /api/v1/vouchers/{code}/` on PostgreSQL as one statement that returns the JSON.

The detail is the API's hottest read (partners and their tools poll it). Through the ORM
and DRF it took three queries and about 5 ms of Python per call, most of it building
querysets and serialising the voucher's history field by field (the benchmark's `api_ratio`).
Here PostgreSQL builds the same document (`VoucherSerializer` with its events) in one
statement and the view sends the bytes as they are.

Which vouchers a user may see is not restated: the statement filters on the SQL of
`vouchers_visible_to(user)`, the selector every other read uses, so another tenant's
voucher answers 404 exactly as before. `tests/test_voucher_detail_sql.py` holds the two
representations equal for every role and status; SQLite and non-UTC deployments use the
serializer.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection

from accounts.models import User
from core.db import fetch_one_prepared, table
from core.models import Event
from core.scopes import effective_role
from customers.models import Customer
from partners.models import Partner
from programs.models import Offer, Program
from vouchers.models import Voucher
from vouchers.selectors import vouchers_visible_to

# DRF renders an aware datetime as isoformat() with "Z" for UTC: microseconds only when
# there are some.
_AT = (
    "to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
    " || CASE WHEN mod(date_part('microseconds', e.at)::int, 1000000) = 0 THEN ''"
    " ELSE to_char(e.at AT TIME ZONE 'UTC', '.US') END || 'Z'"
)

_DETAIL = f"""
SELECT json_build_object(
    'code', v.code,
    'offer', o.code,
    'customer', c.tpid,
    'customer_name', c.name,
    'program', p.code,
    'value', v.value::text,
    'issued_on', v.issued_on,
    'expires_on', v.expires_on,
    'status', v.status,
    'partner', pa.partner_id,
    'partner_name', pa.name,
    'paid_total', v.paid_total::text,
    'scheme', v.scheme,
    'workloads', v.workloads,
    'cap', v.cap::text,
    'cap_row', v.cap_row,
    'events', COALESCE(
        (
            SELECT json_agg(
                json_build_object(
                    'at', {_AT},
                    'action', e.action,
                    'from_state', e.from_state,
                    'to_state', e.to_state,
                    'actor', u.username,
                    'reason', e.reason,
                    'data', e.data
                )
                ORDER BY e.at, e.id
            )
            FROM {table(Event)} e
            LEFT JOIN {table(User)} u ON u.id = e.actor_id
            WHERE e.subject = 'voucher' AND e.subject_id = v.id
        ),
        '[]'::json
    )
)::text
FROM {table(Voucher)} v
JOIN {table(Offer)} o ON o.id = v.offer_id
JOIN {table(Customer)} c ON c.id = v.customer_id
JOIN {table(Program)} p ON p.id = v.program_id
LEFT JOIN {table(Partner)} pa ON pa.id = v.partner_id
WHERE v.code = %s AND v.id IN ({{visible}})
"""  # noqa: S608 - fixed SQL, table names from _meta; {visible} is the ORM's own compiled selector, values are params


@lru_cache(maxsize=4096)
def _visible_sql(
    role: str, user_id: int, customer_id: int | None, partner_id: int | None
) -> tuple[str, tuple[Any, ...]]:
    """The SQL of `vouchers_visible_to` for a user with these attributes (all it reads),
    compiled once per user: compiling it cost more than running the whole statement."""
    user = User(
        pk=user_id, role=role, customer_id=customer_id, partner_id=partner_id, is_active=True
    )
    try:
        sql, params = vouchers_visible_to(user).order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # a role that sees no voucher
        return "SELECT NULL::bigint WHERE FALSE", ()
    return sql, tuple(params)


def fast_detail_available() -> bool:
    """PostgreSQL, and timestamps rendered in UTC as the serializer does."""
    return connection.vendor == "postgresql" and settings.TIME_ZONE == "UTC"


def voucher_detail_json(*, user: User, code: str) -> bytes | None:
    """The voucher `code` (canonical form) as `VoucherSerializer` renders it with its
    events, or None when the user may not see it (or it does not exist)."""
    visible, params = _visible_sql(effective_role(user), user.pk, user.customer_id, user.partner_id)
    row = fetch_one_prepared(_DETAIL.format(visible=visible), [code, *params])
    return row[0].encode() if row else None
