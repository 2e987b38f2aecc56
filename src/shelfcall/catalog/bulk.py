"""`INSERT … ON CONFLICT DO UPDATE` of many rows, written the way each database takes it fastest.

PostgreSQL: one array parameter per column (`SELECT * FROM unnest(%s::text[], …)`), so a statement of
10,000 rows is as short to send, parse and plan as one of a single row; a `VALUES` list of 20,000
parameters costs more in planning than in writing. SQLite (in-process, no planning cost to speak of,
but a limit on parameters): a `VALUES` list per batch.
"""

from collections.abc import Iterator, Sequence
from typing import Any

from django.db import connection

POSTGRESQL_BATCH = 10_000  # rows a statement: bounds the size of one statement's parameters in memory
_LIMIT_ROWS = 2000  # elsewhere, at most this many rows (and the backend's parameter limit)


def upsert(
    table: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]], *, tail: str
) -> Iterator[tuple[Any, ...]]:
    """Insert `rows` (values in the order of `columns`: (name, PostgreSQL type)) in batches, in their
    order; `tail` is the `ON CONFLICT … RETURNING …` clause. Yields the rows returned."""
    names = ", ".join(connection.ops.quote_name(name) for name, _type in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{kind}[]" for _name, kind in columns)
            sql = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) {tail}"  # noqa: S608
            for start in range(0, len(rows), POSTGRESQL_BATCH):
                batch = rows[start : start + POSTGRESQL_BATCH]
                cursor.execute(sql, [list(column) for column in zip(*batch, strict=True)])
                yield from cursor.fetchall()
            return
        size = min(connection.ops.bulk_batch_size([name for name, _type in columns], rows) or 1, _LIMIT_ROWS)
        one = f"({', '.join(['%s'] * len(columns))})"
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            values = ", ".join([one] * len(batch))
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {values} {tail}",  # noqa: S608
                [value for row in batch for value in row],
            )
            yield from cursor.fetchall()
