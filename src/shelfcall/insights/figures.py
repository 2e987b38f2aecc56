"""The figures of the insights page, read from the order facts: the funnel, the rates, the times
(median and 90th percentile) and the share ready within each store's target, for a period and the
period before it, overall and by store, team, showcase, product, associate and local hour of day.

Each breakdown is grouped over both periods (the period is a grouping column), so the page's statements
do not grow with the number of stores, teams or associates. On PostgreSQL the five breakdowns are one
query (grouping sets: the facts are read once); SQLite, without grouping sets, runs one query each."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import BooleanField, Case, Count, F, Func, IntegerField, Min, Q, QuerySet, Sum, Value, When

from shelfcall.catalog.models import Product, Showcase
from shelfcall.core.people import display_name
from shelfcall.insights.models import LineFact, OrderFact
from shelfcall.insights.percentile import Percentile
from shelfcall.stores.models import Store, Team

# Fewer orders than this in a period: the page says its figures are too thin to rely on.
ENOUGH_ORDERS = 20
# Rows shown in a breakdown (the busiest first); the page says when there are more.
BREAKDOWN_ROWS = 25

STAGES = ("requested", "claimed", "picked", "ready", "paid", "collected")
FLAGS = ("claimed", "picked", "ready", "paid", "collected", "not_found", "rejected", "expired", "escalated")
INTERVALS = ("claim_seconds", "claim_ready_seconds", "ready_paid_seconds", "ready_collected_seconds")


@dataclass(frozen=True)
class Period:
    """Local days, both included, in each store's own time zone."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> "Period":
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))


@dataclass(frozen=True)
class Figures:
    """One group's counts and times in one period."""

    requested: int = 0
    claimed: int = 0
    picked: int = 0
    ready: int = 0
    paid: int = 0
    collected: int = 0
    not_found: int = 0
    rejected: int = 0
    expired: int = 0
    escalated: int = 0
    within_target: int = 0
    times: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)  # interval → (median, p90)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Figures":
        times = {name: (row[f"{name}_p50"], row[f"{name}_p90"]) for name in INTERVALS if f"{name}_p50" in row}
        counts = {name: row.get(name) or 0 for name in (*FLAGS, "requested", "within_target")}
        return cls(times=times, **counts)

    def count(self, name: str) -> int:
        return int(getattr(self, name))

    def share(self, name: str, of: str = "requested") -> float | None:
        """`name` as a percentage of `of`; None when there is nothing to divide by."""
        whole = self.count(of)
        return None if not whole else 100 * self.count(name) / whole

    @property
    def never_paid(self) -> int:
        return self.requested - self.paid

    @property
    def enough(self) -> bool:
        return self.requested >= ENOUGH_ORDERS


@dataclass(frozen=True)
class Group:
    key: Any
    label: str
    current: Figures
    previous: Figures


@dataclass(frozen=True)
class ProductGroup:
    key: int
    label: str
    current: dict[str, int]
    previous: dict[str, int]


@dataclass(frozen=True)
class Dashboard:
    stores: list[Store]
    period: Period
    overall: Group
    by: dict[str, list[Group]]  # store, team, showcase, associate, hour
    more: dict[str, int]  # how many groups of each breakdown are not shown
    products: list[ProductGroup]
    first_day: date | None  # the first day with an order, when the stores had none before the period

    @property
    def target_minutes(self) -> int | None:
        """The stores' target when they share one; None when it differs by store."""
        targets = {store.pick_target_minutes for store in self.stores}
        return targets.pop() if len(targets) == 1 else None

    @property
    def opened_during(self) -> bool:
        """The stores' first order came after the period began: less history than the period."""
        return self.first_day is not None and self.first_day > self.period.start


# What counts rows: never null, and in the covering indexes, so that counting reads no table page
# (the order's id is not in them; Django allows COUNT(*) no filter).
COUNTED = "local_date"


def _aggregates(intervals: tuple[str, ...], *, hashable: bool) -> dict[str, Any]:
    """The counts, and the median and 90th percentile of `intervals` (each costs a sort per group)."""
    return {
        "requested": Count(COUNTED),
        **{flag: Count(COUNTED, filter=Q(**{flag: True})) for flag in FLAGS},
        "within_target": Count(COUNTED, filter=Q(ready_seconds__lte=F("store__pick_target_minutes") * 60)),
        **{f"{name}_p50": Percentile(name, 0.5, hashable=hashable) for name in intervals},
        **{f"{name}_p90": Percentile(name, 0.9, hashable=hashable) for name in intervals},
    }


BREAKDOWN_INTERVALS = ("claim_ready_seconds",)  # the one time each breakdown row shows
_OVERALL = _aggregates(INTERVALS, hashable=False)  # two large groups
_BREAKDOWN = _aggregates(BREAKDOWN_INTERVALS, hashable=True)  # ~1,000 small groups in five grouping sets

PERIOD_COLUMN = "current"  # True: the period asked for; False: the one before it
_DIMENSIONS = {
    "store": "store_id",
    "team": "team_id",
    "showcase": "showcase_id",
    "associate": "associate_id",
    "hour": "local_hour",
}


def _both_periods(stores: Iterable[Store], period: Period) -> tuple[Q, dict[str, Case]]:
    """The filter on facts (of orders or of lines) of both the period and the one before it, and the
    annotation telling each row which one it belongs to."""
    in_both = Q(store_id__in=[store.pk for store in stores], local_date__range=(period.previous.start, period.end))
    which = Case(
        When(local_date__gte=period.start, then=Value(True)), default=Value(False), output_field=BooleanField()
    )
    return in_both, {PERIOD_COLUMN: which}


def facts_of(stores: Iterable[Store], period: Period) -> QuerySet[OrderFact]:
    in_both, which = _both_periods(stores, period)
    return OrderFact.objects.filter(in_both).annotate(**which).order_by()


def _split(rows: Iterable[dict[str, Any]], column: str | None) -> dict[Any, dict[bool, Figures]]:
    grouped: dict[Any, dict[bool, Figures]] = {}
    for row in rows:
        grouped.setdefault(row[column] if column else None, {})[row[PERIOD_COLUMN]] = Figures.from_row(row)
    return grouped


def _labels(dimension: str, keys: list[Any], stores: list[Store]) -> dict[Any, str]:
    ids = [key for key in keys if key is not None]
    if dimension == "store":
        return {store.pk: store.name for store in stores}
    if dimension == "hour":
        return {hour: f"{hour:02d}:00" for hour in ids}
    if dimension == "associate":
        return {user.pk: display_name(user) for user in get_user_model().objects.filter(pk__in=ids)}
    model = Team if dimension == "team" else Showcase
    return dict(model.objects.filter(pk__in=ids).values_list("pk", "name"))


def _groups(
    dimension: str, rows: list[dict[str, Any]], stores: list[Store], none_label: str
) -> tuple[list[Group], int]:
    split = _split(rows, _DIMENSIONS[dimension])
    if dimension == "hour":
        keys = list(range(24))  # every hour, empty ones too: the chart's axis
    else:
        keys = sorted(
            split,
            key=lambda key: (
                -split[key].get(True, Figures()).requested,
                -split[key].get(False, Figures()).requested,
                str(key),
            ),
        )
    shown = keys if dimension == "hour" else keys[:BREAKDOWN_ROWS]
    labels = _labels(dimension, shown, stores)
    groups = [
        Group(
            key,
            labels.get(key, none_label),
            split.get(key, {}).get(True, Figures()),
            split.get(key, {}).get(False, Figures()),
        )
        for key in shown
    ]
    return groups, len(keys) - len(shown)


class _Grouping(Func):
    """GROUPING(a, b, …) of a grouping-sets query: a bit set for each column the row is not grouped by
    (the first column is the highest bit). Computed per group, so it is no grouping column itself."""

    function = "GROUPING"
    output_field = IntegerField()
    contains_aggregate = True


def _breakdown_rows(facts: QuerySet[OrderFact]) -> dict[str, list[dict[str, Any]]]:
    """The rows of every breakdown, by dimension. PostgreSQL: one query whose grouping sets are the five
    breakdowns, so the facts are read once, not five times; SQLite has no grouping sets: a query each."""
    return (rows_by_grouping_sets if connection.vendor == "postgresql" else rows_by_dimension)(facts)


def rows_by_dimension(facts: QuerySet[OrderFact]) -> dict[str, list[dict[str, Any]]]:
    return {
        dimension: list(facts.values(PERIOD_COLUMN, column).annotate(**_BREAKDOWN))
        for dimension, column in _DIMENSIONS.items()
    }


def rows_by_grouping_sets(facts: QuerySet[OrderFact]) -> dict[str, list[dict[str, Any]]]:
    """rows_by_dimension's rows in one query (PostgreSQL): Django writes it grouped by every dimension at
    once, and its GROUP BY becomes one grouping set per dimension. Each row also holds the other
    dimensions' columns (null) and `grouping`."""
    columns = list(_DIMENSIONS.values())
    query = facts.values(PERIOD_COLUMN, *columns).annotate(**_BREAKDOWN, grouping=_Grouping(*columns))
    sql, params = query.query.sql_with_params()
    select, _one_group_by_all = sql.rsplit(" GROUP BY ", 1)
    sets = ", ".join(f'("{PERIOD_COLUMN}", "{column}")' for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"{select} GROUP BY GROUPING SETS ({sets})", params)
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    everything = (1 << len(columns)) - 1
    dimension_of = {everything ^ (1 << (len(columns) - 1 - n)): name for n, name in enumerate(_DIMENSIONS)}
    by: dict[str, list[dict[str, Any]]] = {dimension: [] for dimension in _DIMENSIONS}
    for row in rows:
        by[dimension_of[row["grouping"]]].append(row)
    return by


def _products(stores: list[Store], period: Period) -> list[ProductGroup]:
    in_both, which = _both_periods(stores, period)
    rows = (
        LineFact.objects.filter(in_both)
        .annotate(**which)
        .order_by()
        .values(PERIOD_COLUMN, "product_id")
        .annotate(
            orders=Count(COUNTED),
            units=Sum("requested_qty"),
            not_found_units=Sum("short_qty"),
            rejected_units=Sum("rejected_qty"),
        )
    )
    split: dict[int, dict[bool, dict[str, Any]]] = {}
    for row in rows:
        split.setdefault(row["product_id"], {})[row[PERIOD_COLUMN]] = row
    empty = {"orders": 0, "units": 0, "not_found_units": 0, "rejected_units": 0}
    keys = sorted(
        split, key=lambda key: (-split[key].get(True, empty)["orders"], -split[key].get(False, empty)["orders"], key)
    )[:BREAKDOWN_ROWS]
    names = dict(Product.objects.filter(pk__in=keys).values_list("pk", "name"))
    return [
        ProductGroup(
            key,
            names.get(key, str(key)),
            {name: split[key].get(True, empty)[name] for name in empty},
            {name: split[key].get(False, empty)[name] for name in empty},
        )
        for key in keys
    ]


# Each figure query sorts its rows by group (percentiles need it): a whole organization's two months are
# ~170,000 rows, ~7 MB, which PostgreSQL's default work_mem (4 MB) would sort on disk.
SORT_MEMORY = "32MB"


def build_dashboard(
    stores: list[Store], period: Period, *, none_label: str = "—", breakdowns: bool = True
) -> Dashboard:
    """The figures of `stores` over `period` and the period before. `breakdowns=False`: the overall
    figures only (the weekly summary). In a transaction of their own: the sort memory is set for it alone."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL work_mem = '{SORT_MEMORY}'")
        return _dashboard(stores, period, none_label=none_label, breakdowns=breakdowns)


def _dashboard(stores: list[Store], period: Period, *, none_label: str, breakdowns: bool) -> Dashboard:
    facts = facts_of(stores, period)
    rows = {
        row[PERIOD_COLUMN]: row for row in facts.values(PERIOD_COLUMN).annotate(**_OVERALL, first_day=Min("local_date"))
    }
    overall = {current: Figures.from_row(row) for current, row in rows.items()}
    by: dict[str, list[Group]] = {}
    more: dict[str, int] = {}
    if breakdowns and overall:
        for dimension, rows_of_dimension in _breakdown_rows(facts).items():
            by[dimension], more[dimension] = _groups(dimension, rows_of_dimension, stores, none_label)
    first_day = rows[True]["first_day"] if True in rows else None
    if False in rows or (
        first_day is not None
        and OrderFact.objects.filter(store_id__in=[s.pk for s in stores], local_date__lt=period.previous.start).exists()
    ):
        first_day = None
    return Dashboard(
        stores=stores,
        period=period,
        overall=Group(None, "", overall.get(True, Figures()), overall.get(False, Figures())),
        by=by,
        more=more,
        products=_products(stores, period) if breakdowns and overall else [],
        first_day=first_day,
    )
