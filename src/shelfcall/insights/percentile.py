"""The 50th and 90th percentiles in SQL on both engines: PostgreSQL's percentile_disc, and the same
definition as an aggregate function registered on each SQLite connection."""

import math
from typing import TYPE_CHECKING, Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Aggregate, Expression, IntegerField
from django.db.models.sql.compiler import SQLCompiler

if TYPE_CHECKING:
    from django.db.models.sql.compiler import _AsSqlType

SQLITE_FUNCTION = "insights_percentile"


def nearest_rank(values: list[int], fraction: float) -> int | None:
    """The smallest value with at least `fraction` of all values at or below it (percentile_disc)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)), 1) - 1]


class _SqlitePercentile:
    def __init__(self) -> None:
        self.values: list[int] = []
        self.fraction = 0.5

    def step(self, value: int | None, fraction: float) -> None:
        self.fraction = fraction
        if value is not None:
            self.values.append(value)

    def finalize(self) -> int | None:
        return nearest_rank(self.values, self.fraction)


def register_on_sqlite(connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """connection_created receiver: SQLite learns the percentile aggregate."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate(SQLITE_FUNCTION, 2, _SqlitePercentile)


class Percentile(Aggregate):
    """The value at `fraction` (0.5: the median) of the non-null values of an integer expression.

    `hashable`: on PostgreSQL, the group's values are gathered (array_agg) and their percentile taken
    by a subquery, the same value. percentile_disc itself makes PostgreSQL sort all the rows by group
    first, once per grouping set; array_agg lets it hash them instead, which pays when there are many
    small groups (the breakdowns' grouping sets), not for a few large ones (each fraction then sorts
    its group on its own, where percentile_disc sorts it once for all of them)."""

    output_field = IntegerField()
    template = f"{SQLITE_FUNCTION}(%(expressions)s, %(fraction)s)"

    def __init__(self, expression: Expression | str, fraction: float, *, hashable: bool = False, **extra: Any) -> None:
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], not {fraction}")
        self.hashable = hashable
        super().__init__(expression, fraction=repr(float(fraction)), **extra)

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> "_AsSqlType":
        template = _GATHERED if self.hashable else _ORDERED
        return self.as_sql(compiler, connection, template=template, **extra_context)


_ORDERED = "percentile_disc(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
_GATHERED = (
    "(SELECT percentile_disc(%(fraction)s) WITHIN GROUP (ORDER BY v) FROM unnest(array_agg(%(expressions)s)) AS v)"
)
