"""Bulk inserts at the speed of the database, for batch jobs and the benchmark seed."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models


class Writer:
    """Inserts rows with chosen primary keys: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"

    def reserve(self, model: type[models.Model], count: int) -> int:
        """The first of `count` consecutive free primary keys, for seeding by a single
        writer (the sequence is moved past them, so later inserts cannot collide)."""
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "WITH s AS (SELECT nextval(pg_get_serial_sequence(%s, 'id')) AS first) "
                    "SELECT first, setval(pg_get_serial_sequence(%s, 'id'), first + %s) FROM s",
                    [table, table, max(count - 1, 0)],
                )
                return int(cursor.fetchone()[0])
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 - model table
            return int(cursor.fetchone()[0]) + 1

    def next_ids(self, model: type[models.Model], count: int) -> list[int]:
        """`count` primary keys drawn from the table's sequence (PostgreSQL), safe with
        concurrent writers: each nextval() is handed out once."""
        assert self.postgres
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [model._meta.db_table, count],
            )
            return [row[0] for row in cursor.fetchall()]

    def insert(
        self, model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> int:
        meta = model._meta
        model_fields = [meta.get_field(name) for name in fields]
        columns = [connection.ops.quote_name(str(f.column)) for f in model_fields]  # type: ignore[union-attr]
        json_at = [i for i, f in enumerate(model_fields) if isinstance(f, models.JSONField)]
        count = 0
        with connection.cursor() as cursor:
            if self.postgres:
                sql = f"COPY {meta.db_table} ({', '.join(columns)}) FROM STDIN"
                with cursor.cursor.copy(sql) as copy:
                    for row in rows:
                        if json_at:
                            row = list(row)
                            for i in json_at:
                                row[i] = json.dumps(row[i])
                        copy.write_row(row)
                        count += 1
                return count
            marks = ", ".join(["%s"] * len(columns))
            prepared = [
                [f.get_db_prep_value(v, connection) for f, v in zip(model_fields, row, strict=True)]  # type: ignore[union-attr]
                for row in rows
            ]
            if prepared:
                cursor.executemany(
                    f"INSERT INTO {meta.db_table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
                    prepared,
                )
            return len(prepared)
