"""Raw SQL helpers: a server-side prepared statement on Django's connection, for the few
hot reads, and table names from the models.

Django's psycopg cursor binds parameters on the client, so PostgreSQL plans every
statement afresh; for the token lookup and the voucher detail (the benchmark's `api_ratio`)
planning cost more than running. psycopg's own cursor on the same connection (same
transaction, same session) prepares a statement once per connection and reuses the plan.
Behind a transaction-pooling PgBouncer set DATABASE_PREPARED_STATEMENTS=false: a
prepared statement belongs to a server session the pooler does not keep.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection
from django.db.models import Model


def fetch_one_prepared(sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
    """The first row of `sql` (%s placeholders), run as a prepared statement."""
    # What Django's cursor() does first: drop a connection that failed its health check
    # (PostgreSQL restarted while it sat idle), connect, and map driver errors to Django's
    # (so a broken connection is closed at the end of the request).
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            sql,  # our own SQL text, never user input
            params,
            prepare=settings.DATABASE_PREPARED_STATEMENTS,
        )
        row: tuple[Any, ...] | None = cursor.fetchone()
    return row


def table(model: type[Model]) -> str:
    """A model's table name, quoted, for raw SQL: statements take table names from the
    models (`_meta`), so a renamed table or app cannot leave a statement behind."""
    return connection.ops.quote_name(model._meta.db_table)
