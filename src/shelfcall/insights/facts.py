"""Order facts from the event log, and the periodic job that keeps them in step with it.

The job reads the events written since its cursor in commit order (the API's events feed's order, so
no event committed late is skipped), and rebuilds the facts of every order they touch from all of that
order's events. A late event (a payment a week after the order, a hand-off after midnight) therefore
recomputes its order's row like any other: the facts never depend on the order events arrived in."""

import bisect
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum

from shelfcall.api.feed import _in_commit_order as in_commit_order
from shelfcall.core import clock
from shelfcall.insights.models import LineFact, OrderFact, RefreshCursor, StoreTimezone
from shelfcall.orders.events import EventType
from shelfcall.orders.models import Order, OrderEvent, OrderLine
from shelfcall.stores.models import Store

BATCH_EVENTS = 20_000
REFRESH_EVERY = timedelta(seconds=30)  # once caught up: how stale the page's figures may get
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The payload keys read, taken out by the database: a hand-off's first rejection says whether any unit was turned down.
_EVENT_FIELDS = (
    "order_id",
    "type",
    "created_at",
    "actor_id",
    "payload__assignee_id",
    "payload__owed",
    "payload__rejected__0__qty",
)
_FACT_FIELDS = [f.name for f in OrderFact._meta.concrete_fields if not f.primary_key]


@dataclass(frozen=True)
class EventRow:
    """What the facts need of one event; `rejected` only for hand-offs."""

    type: str
    created_at: datetime
    actor_id: int | None = None
    assignee_id: int | None = None
    owed: str | float | None = None  # SQLite's JSON_EXTRACT reads "0.00" as a number
    rejected: bool = False


class Timezones:
    """Each store's time zone at any moment: its history (StoreTimezone), else its time zone now."""

    def __init__(self, store_ids: Iterable[int]) -> None:
        ids = set(store_ids)
        self._now = dict(Store.objects.filter(pk__in=ids).values_list("pk", "timezone"))
        self._history: dict[int, tuple[list[datetime], list[str]]] = {}
        for store_id, since, name in (
            StoreTimezone.objects.filter(store_id__in=ids)
            .order_by("store_id", "since")
            .values_list("store_id", "since", "timezone")
        ):
            starts, names = self._history.setdefault(store_id, ([], []))
            starts.append(since)
            names.append(name)

    def at(self, store_id: int, moment: datetime) -> zoneinfo.ZoneInfo:
        starts, names = self._history.get(store_id, ([], []))
        index = bisect.bisect_right(starts, moment) - 1
        return zoneinfo.ZoneInfo(names[index] if index >= 0 else self._now[store_id])


def store_saving(sender: type[Store], instance: Store, raw: bool = False, **kwargs: Any) -> None:
    """pre_save receiver: a store's time zone is changing, orders placed before keep the old one."""
    if raw or instance.pk is None:
        return
    previous = Store.objects.filter(pk=instance.pk).values_list("timezone", flat=True).first()
    if previous is not None and previous != instance.timezone:
        remember_timezone_change(instance, previous, clock.now())


def remember_timezone_change(store: Store, previous: str, at: datetime) -> None:
    if not StoreTimezone.objects.filter(store=store).exists():
        StoreTimezone.objects.create(store=store, timezone=previous, since=EPOCH)
    StoreTimezone.objects.create(store=store, timezone=store.timezone, since=at)


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    return None if start is None or end is None else int((end - start).total_seconds())


def build_fact(order: Mapping[str, Any], events: Sequence[EventRow], timezones: Timezones) -> OrderFact:
    """The facts of one order from its events, oldest first. `order` holds id, store_id, team_id,
    showcase_id and created_at (used when the creation event is missing)."""
    first: dict[str, EventRow] = {}
    holder: int | None = None
    paid_at: datetime | None = None
    for event in events:
        first.setdefault(event.type, event)
        if event.type in (EventType.CLAIMED, EventType.REASSIGNED):
            holder = event.assignee_id
        if event.type == EventType.PAID and event.owed is not None and not Decimal(str(event.owed)) and paid_at is None:
            paid_at = event.created_at
    created = first[EventType.CREATED].created_at if EventType.CREATED in first else order["created_at"]
    at = {
        kind: first[kind].created_at
        for kind in (EventType.CLAIMED, EventType.FULFILLED, EventType.COMPLETED)
        if kind in first
    }
    claimed_at, ready_at, collected_at = (
        at.get(k) for k in (EventType.CLAIMED, EventType.FULFILLED, EventType.COMPLETED)
    )
    ready_paid = _seconds(ready_at, paid_at)
    local = created.astimezone(timezones.at(order["store_id"], created))
    return OrderFact(
        order_id=order["id"],
        store_id=order["store_id"],
        team_id=order["team_id"],
        showcase_id=order["showcase_id"],
        associate_id=first[EventType.FULFILLED].actor_id if EventType.FULFILLED in first else holder,
        created_at=created,
        local_date=local.date(),
        local_hour=local.hour,
        claimed=claimed_at is not None,
        picked=EventType.PICKING in first,
        ready=ready_at is not None,
        paid=paid_at is not None,
        collected=collected_at is not None,
        not_found=EventType.LINE_NOT_FOUND in first,
        rejected=any(event.rejected for event in events),
        expired=EventType.EXPIRED in first,
        escalated=EventType.ESCALATED in first,
        claim_seconds=_seconds(created, claimed_at),
        claim_ready_seconds=_seconds(claimed_at, ready_at),
        ready_paid_seconds=None if ready_paid is None else max(ready_paid, 0),
        ready_collected_seconds=_seconds(ready_at, collected_at),
        ready_seconds=_seconds(created, ready_at),
    )


def rebuild_facts(order_ids: Iterable[int]) -> int:
    """Recompute (insert or replace) the facts of these orders from all their events."""
    ids = sorted(set(order_ids))
    if not ids:
        return 0
    orders = list(Order.objects.filter(pk__in=ids).values("id", "store_id", "team_id", "showcase_id", "created_at"))
    events: dict[int, list[EventRow]] = {}
    rows = OrderEvent.objects.filter(order_id__in=ids).order_by("order_id", "pk").values_list(*_EVENT_FIELDS)
    for order_id, kind, created_at, actor_id, assignee_id, owed, rejected_qty in rows.iterator(chunk_size=5000):
        events.setdefault(order_id, []).append(
            EventRow(kind, created_at, actor_id, assignee_id, owed, rejected_qty is not None)
        )
    timezones = Timezones(order["store_id"] for order in orders)
    facts = [build_fact(order, events.get(order["id"], []), timezones) for order in orders]
    OrderFact.objects.bulk_create(facts, update_conflicts=True, unique_fields=["order"], update_fields=_FACT_FIELDS)
    _rebuild_line_facts(ids, {fact.order_id: fact for fact in facts})
    return len(facts)


def _rebuild_line_facts(order_ids: list[int], facts: dict[int, OrderFact]) -> None:
    lines = (
        OrderLine.objects.filter(order_id__in=order_ids)
        .order_by()
        .values_list("order_id", "product_id")
        .annotate(Sum("requested_qty"), Sum("short_qty"), Sum("rejected_qty"))
    )
    LineFact.objects.filter(order_id__in=order_ids).delete()
    LineFact.objects.bulk_create(
        LineFact(
            order_id=order_id,
            store_id=facts[order_id].store_id,
            local_date=facts[order_id].local_date,
            product_id=product_id,
            requested_qty=requested,
            short_qty=short,
            rejected_qty=rejected,
        )
        for order_id, product_id, requested, short, rejected in lines
    )


def refresh_facts(batch: int = BATCH_EVENTS) -> int:
    """One batch of the job: the facts of the orders whose events came since the cursor. Returns how
    many events it read (0: up to date, or another worker holds the cursor)."""
    with transaction.atomic():
        cursor = RefreshCursor.objects.select_for_update(skip_locked=True).filter(pk=1).first()
        if cursor is None:
            if RefreshCursor.objects.filter(pk=1).exists():
                return 0  # another worker is refreshing
            cursor, _created = RefreshCursor.objects.get_or_create(pk=1)
        events = list(
            in_commit_order(OrderEvent.objects.all(), cursor.xact_id, cursor.event_id).values_list(
                "xact_id", "pk", "order_id"
            )[:batch]
        )
        if events:
            rebuild_facts(order_id for _xact, _pk, order_id in events)
            cursor.xact_id, cursor.event_id = events[-1][0] or 0, events[-1][1]
        cursor.refreshed_at = clock.now()
        cursor.next_at = cursor.refreshed_at + (REFRESH_EVERY if len(events) < batch else timedelta(0))
        cursor.save()
        return len(events)


def refresh_all() -> int:
    """Every batch until the facts are up to date (the weekly summary and the benchmarks)."""
    total = 0
    while done := refresh_facts():
        total += done
    return total


def next_refresh_at() -> datetime | None:
    """When the job is next due (the worker asks): at once before its first run and while behind."""
    cursor = RefreshCursor.objects.filter(pk=1).values_list("next_at", flat=True).first()
    return cursor or clock.now()


def refreshed_at() -> datetime | None:
    return RefreshCursor.objects.filter(pk=1).values_list("refreshed_at", flat=True).first()
