"""The insights page's tables, each exactly what its chart draws and its CSV export holds.

Every value is formatted here once: the page shows these strings, the CSV writes the same strings, and
the chart draws the numbers they were formatted from."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shelfcall.insights.figures import INTERVALS, STAGES, Dashboard, Figures, Group

NO_VALUE = "—"

STAGE_LABELS = {
    "requested": gettext_lazy("Requested"),
    "claimed": gettext_lazy("Claimed"),
    "picked": gettext_lazy("Picked"),
    "ready": gettext_lazy("Ready"),
    "paid": gettext_lazy("Paid"),
    "collected": gettext_lazy("Collected"),
}
INTERVAL_LABELS = {
    "claim_seconds": gettext_lazy("Time to claim"),
    "claim_ready_seconds": gettext_lazy("Claim to ready"),
    "ready_paid_seconds": gettext_lazy("Ready to paid"),
    "ready_collected_seconds": gettext_lazy("Ready to collected"),
}


@dataclass(frozen=True)
class Chart:
    """What the page's script draws: one label per row, one series of numbers per line or bar set."""

    kind: str  # bars | lines
    unit: str
    labels: list[str]
    series: list[tuple[str, list[float | None]]]

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "unit": self.unit, "labels": self.labels, "series": [list(s) for s in self.series]}


@dataclass(frozen=True)
class Table:
    slug: str
    caption: str
    headers: list[str]
    rows: list[list[str]]
    chart: Chart | None = None
    note: str = ""

    @property
    def chart_data_id(self) -> str:
        return f"chart-data-{self.slug}"


def percent(value: float | None) -> str:
    return NO_VALUE if value is None else f"{number_format(round(value, 1), 1)} %"


def duration(seconds: int | None) -> str:
    """4 min 05 s, 1 h 02 min."""
    if seconds is None:
        return NO_VALUE
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return _("%(hours)s h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)s min %(seconds)02d s") % {"minutes": minutes, "seconds": secs}


def count_change(current: int, previous: int) -> str:
    if not previous:
        return NO_VALUE
    change = 100 * (current - previous) / previous
    return f"{'+' if change > 0 else ''}{number_format(round(change, 1), 1)} %"


def points_change(current: float | None, previous: float | None) -> str:
    if current is None or previous is None:
        return NO_VALUE
    change = current - previous
    return _("%(sign)s%(points)s pts") % {
        "sign": "+" if change > 0 else "",
        "points": number_format(round(change, 1), 1),
    }


def time_change(current: int | None, previous: int | None) -> str:
    if current is None or previous is None:
        return NO_VALUE
    change = current - previous
    return ("+" if change > 0 else "-" if change < 0 else "") + duration(abs(change))


def minutes(seconds: int | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 2)


def _target_label(dashboard: Dashboard) -> str:
    target = dashboard.target_minutes
    if target is None:
        return _("Ready within each store's target")
    return _("Ready within %(minutes)s minutes (the store's target)") % {"minutes": target}


def funnel_table(dashboard: Dashboard) -> Table:
    now, before = dashboard.overall.current, dashboard.overall.previous
    rows = [
        [
            str(STAGE_LABELS[stage]),
            str(now.count(stage)),
            percent(now.share(stage)),
            str(before.count(stage)),
            percent(before.share(stage)),
            points_change(now.share(stage), before.share(stage)),
        ]
        for stage in STAGES
    ]
    chart = Chart(
        "bars",
        _("orders"),
        [str(STAGE_LABELS[s]) for s in STAGES],
        [(_("This period"), [now.count(s) for s in STAGES]), (_("Previous period"), [before.count(s) for s in STAGES])],
    )
    headers = [_("Stage"), _("Orders"), _("Of requests"), _("Orders before"), _("Of requests before"), _("Change")]
    return Table("funnel", _("Funnel: requested to collected"), headers, rows, chart)


def _rates(figures: Figures) -> list[tuple[str, float | None]]:
    return [
        (
            _("Requested but never paid"),
            None if not figures.requested else 100 * figures.never_paid / figures.requested,
        ),
        (_("Not found (some item)"), figures.share("not_found")),
        (_("Rejected at hand-off (of collected)"), figures.share("rejected", of="collected")),
        (_("Expired"), figures.share("expired")),
        (_("Escalated"), figures.share("escalated")),
    ]


def rates_table(dashboard: Dashboard) -> Table:
    now, before = dashboard.overall.current, dashboard.overall.previous
    current = [*_rates(now), (_target_label(dashboard), now.share("within_target"))]
    previous = [*_rates(before), ("", before.share("within_target"))]
    rows = [
        [label, percent(value), percent(prior), points_change(value, prior)]
        for (label, value), (_l, prior) in zip(current, previous, strict=True)
    ]
    headers = [_("Rate"), _("This period"), _("Previous period"), _("Change")]
    return Table("rates", _("Rates, as a share of requests"), headers, rows)


def times_table(dashboard: Dashboard) -> Table:
    now, before = dashboard.overall.current, dashboard.overall.previous
    none = (None, None)
    rows = [
        [
            str(INTERVAL_LABELS[name]),
            duration(now.times.get(name, none)[0]),
            duration(now.times.get(name, none)[1]),
            duration(before.times.get(name, none)[0]),
            duration(before.times.get(name, none)[1]),
            time_change(now.times.get(name, none)[0], before.times.get(name, none)[0]),
        ]
        for name in INTERVALS
    ]
    chart = Chart(
        "bars",
        _("minutes"),
        [str(INTERVAL_LABELS[name]) for name in INTERVALS],
        [
            (_("Median"), [minutes(now.times.get(name, none)[0]) for name in INTERVALS]),
            (_("90th percentile"), [minutes(now.times.get(name, none)[1]) for name in INTERVALS]),
        ],
    )
    headers = [
        _("Interval"),
        _("Median"),
        _("90th percentile"),
        _("Median before"),
        _("90th percentile before"),
        _("Change of the median"),
    ]
    return Table("times", _("How long each step takes"), headers, rows, chart)


def _group_row(group: Group) -> list[str]:
    now, before = group.current, group.previous
    claim_ready = now.times.get("claim_ready_seconds", (None, None))
    return [
        group.label,
        str(now.requested),
        str(before.requested),
        count_change(now.requested, before.requested),
        percent(now.share("within_target")),
        duration(claim_ready[0]),
        duration(claim_ready[1]),
        percent(now.share("not_found")),
        percent(now.share("collected")),
    ]


BREAKDOWN_CAPTIONS = {
    "store": gettext_lazy("By store"),
    "team": gettext_lazy("By team"),
    "showcase": gettext_lazy("By showcase"),
    "associate": gettext_lazy("By associate (who made it ready)"),
    "hour": gettext_lazy("By hour of day (store time)"),
}
BREAKDOWN_FIRST_COLUMN = {
    "store": gettext_lazy("Store"),
    "team": gettext_lazy("Team"),
    "showcase": gettext_lazy("Showcase"),
    "associate": gettext_lazy("Associate"),
    "hour": gettext_lazy("Hour"),
}


def breakdown_table(dashboard: Dashboard, dimension: str) -> Table:
    groups = dashboard.by.get(dimension, [])
    headers = [
        str(BREAKDOWN_FIRST_COLUMN[dimension]),
        _("Requests"),
        _("Requests before"),
        _("Change"),
        _("Ready within target"),
        _("Median claim to ready"),
        _("90th percentile claim to ready"),
        _("Not found"),
        _("Collected"),
    ]
    chart = None
    if dimension == "hour":
        chart = Chart(
            "bars",
            _("orders"),
            [group.label for group in groups],
            [
                (_("This period"), [group.current.requested for group in groups]),
                (_("Previous period"), [group.previous.requested for group in groups]),
            ],
        )
    more = dashboard.more.get(dimension, 0)
    note = (
        _("The %(shown)s busiest are shown; %(more)s more are left out.") % {"shown": len(groups), "more": more}
        if more
        else ""
    )
    return Table(dimension, str(BREAKDOWN_CAPTIONS[dimension]), headers, [_group_row(g) for g in groups], chart, note)


def products_table(dashboard: Dashboard) -> Table:
    rows = []
    for product in dashboard.products:
        now, before = product.current, product.previous
        rows.append(
            [
                product.label,
                str(now["orders"]),
                str(before["orders"]),
                count_change(now["orders"], before["orders"]),
                str(now["units"]),
                percent(100 * now["not_found_units"] / now["units"] if now["units"] else None),
                percent(100 * now["rejected_units"] / now["units"] if now["units"] else None),
            ]
        )
    headers = [
        _("Product"),
        _("Orders"),
        _("Orders before"),
        _("Change"),
        _("Units"),
        _("Units not found"),
        _("Units rejected"),
    ]
    return Table("product", _("By product (the most requested)"), headers, rows)


SECTIONS: dict[str, Callable[[Dashboard], Table]] = {
    "funnel": funnel_table,
    "rates": rates_table,
    "times": times_table,
    **{
        dimension: partial(breakdown_table, dimension=dimension)
        for dimension in ("hour", "store", "team", "showcase", "associate")
    },
    "product": products_table,
}


def all_tables(dashboard: Dashboard) -> list[Table]:
    return [build(dashboard) for build in SECTIONS.values()]
