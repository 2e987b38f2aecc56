"""The pickup promise: where a waiting request stands in its queue, and when this store usually has it ready.

The shopper's status page and the associates' queue show the same promise. Its reads stay cheap:
- the queue position is one count on the queue index (store, status, due time);
- the store's usual times come from its own recent history at the hour of day the order was sent (the
  median over the 28 days before, of showcase orders sent in the same local hour ± 1), one bounded query
  kept per store and hour in each process (`HistoryCache`). With too little history (a store opened
  yesterday) there is no figure, and the shopper is promised no time;
- outside opening hours (stores.hours) a waiting request's promise is when the store opens.
"""

import math
import statistics
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from django.db.models import Case, Count, F, OuterRef, Q, Subquery, When, Window
from django.db.models.functions import Coalesce, ExtractHour, RowNumber, TruncDate

from shelfcall.core import clock
from shelfcall.live.hub import store_topic, team_topic
from shelfcall.orders.events import EventType
from shelfcall.orders.models import Order, OrderEvent, OrderSource, OrderStatus
from shelfcall.stores.hours import WeeklyHours, weekly_hours
from shelfcall.stores.models import Store

HISTORY_DAYS = 28
NEIGHBOUR_HOURS = 1  # the same local hour of day, and this many either side
PER_DAY = 20  # the most recent orders of those hours on each day: enough for a median, and a bounded read
HISTORY_ROWS = (HISTORY_DAYS + 1) * PER_DAY  # the window touches 29 local dates
# Enough history: this many orders, sent on this many different days (one busy first day is not a habit).
MIN_ORDERS = 10
MIN_DAYS = 3
CACHE_SIZE = 1024  # (store, time zone, hour) entries a process keeps, the least recently used dropped first

PENDING = (OrderStatus.SUBMITTED, OrderStatus.PICKING)


@dataclass(frozen=True)
class History:
    """What a store's recent orders say about the hour of day around `hour`."""

    orders: int  # how many orders the figures come from
    days: int  # on how many different local days they were sent
    ready_minutes: int | None  # sent → first ready, median, rounded up; None with too little history
    pick_minutes: int | None  # claimed → first ready, median, rounded up; None with too little history


def hour_start(at: datetime, timezone: str) -> datetime:
    """The start (in UTC) of the local clock hour `at` falls in, at the store's time zone."""
    local = at.astimezone(ZoneInfo(timezone))
    return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)


def load_history(store_id: int, timezone: str, hour: datetime) -> History:
    """One bounded query: orders of the store's neighbouring local hours of day on the days before `hour`,
    the most recent PER_DAY of each day, so that a busy store's median is its last four weeks', not its
    last two days'.

    Hours are those of the store's clock at each order's own moment (the database converts with the time
    zone rules of that date), so the 10 o'clock orders are the same ones on both sides of a daylight-saving
    change. The window ends an hour before `hour`: today's own hours are still running.
    """
    tz = ZoneInfo(timezone)
    local_hour = hour.astimezone(tz).hour
    hours = sorted({(local_hour + offset) % 24 for offset in range(-NEIGHBOUR_HOURS, NEIGHBOUR_HOURS + 1)})
    first_ready = (
        OrderEvent.objects.filter(order=OuterRef("pk"), type=EventType.FULFILLED).order_by("pk").values("created_at")
    )
    latest_of_its_day = Window(
        RowNumber(), partition_by=[TruncDate("created_at", tzinfo=tz)], order_by=F("created_at").desc()
    )
    sample = (
        Order.objects.filter(
            store_id=store_id,
            source=OrderSource.SHOWCASE,
            staged_at__isnull=False,
            created_at__gte=hour - timedelta(days=HISTORY_DAYS),
            created_at__lt=hour - timedelta(hours=NEIGHBOUR_HOURS),
        )
        .annotate(local_hour=ExtractHour("created_at", tzinfo=tz))
        .filter(local_hour__in=hours)
        .annotate(nth=latest_of_its_day)
        .filter(nth__lte=PER_DAY)
        .values("pk")
    )
    rows = (
        Order.objects.filter(pk__in=sample)
        .annotate(ready_at=Subquery(first_ready[:1]))
        .order_by("-created_at")
        .values_list("created_at", "claimed_at", "ready_at")[:HISTORY_ROWS]
    )
    return summarize(list(rows), tz)


def summarize(rows: Sequence[tuple[datetime, datetime | None, datetime | None]], tz: ZoneInfo) -> History:
    """Medians of (sent, claimed, first ready) rows, or none when they are too few or from too few days."""
    ready = [(sent, claimed, ready_at) for sent, claimed, ready_at in rows if ready_at is not None]
    days = len({sent.astimezone(tz).date() for sent, _claimed, _ready in ready})
    if len(ready) < MIN_ORDERS or days < MIN_DAYS:
        return History(orders=len(ready), days=days, ready_minutes=None, pick_minutes=None)
    picks = [ready_at - claimed for _sent, claimed, ready_at in ready if claimed is not None and claimed <= ready_at]
    return History(
        orders=len(ready),
        days=days,
        ready_minutes=_median_minutes([ready_at - sent for sent, _claimed, ready_at in ready]),
        pick_minutes=_median_minutes(picks) if picks else None,
    )


def _median_minutes(durations: Iterable[timedelta]) -> int:
    seconds = statistics.median(duration.total_seconds() for duration in durations)
    return max(1, math.ceil(seconds / 60))


class HistoryCache:
    """Each store's history for an hour is read at most once per process: the figure for an hour is fixed
    once that hour has begun. A change of the store's time zone is a new key (its hours are other hours)."""

    def __init__(self, load: Callable[[int, str, datetime], History] = load_history, size: int = CACHE_SIZE) -> None:
        self._load = load
        self._size = size
        self._entries: OrderedDict[tuple[int, str, datetime], History] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, store: Store, at: datetime) -> History:
        """The history for the local hour of `at` (a moment, not necessarily now)."""
        key = (store.pk, store.timezone, hour_start(at, store.timezone))
        # Loading under the lock: one query an hour per store, and no two threads make it twice.
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                found = self._entries[key] = self._load(*key)
                if len(self._entries) > self._size:
                    self._entries.popitem(last=False)
            else:
                self._entries.move_to_end(key)
            return found

    def forget(self) -> None:
        with self._lock:
            self._entries.clear()


history = HistoryCache()


def waiting_in_queue(store_id: int | OuterRef, team_id: int | OuterRef | None) -> Q:
    """The requests of one queue (the store's, or a team's) still waiting to be taken (the ids given, or
    an outer query's columns)."""
    team = Q(team_id=team_id) if team_id else Q(team__isnull=True)
    return team & Q(store_id=store_id, status=OrderStatus.SUBMITTED)


# How the queue orders its waiting requests: earlier due first, then the one sent first.
QUEUE_ORDER = ("due_at", "pk")


def _ahead_of(due_at: datetime | OuterRef, pk: int | OuterRef) -> Q:
    """The requests the queue puts before the one with this due time and id (QUEUE_ORDER)."""
    return Q(due_at__lt=due_at) | Q(due_at=due_at, pk__lt=pk)


def orders_ahead(order: Order) -> int:
    """Requests of the same store and team still waiting to be taken that the queue puts before this one
    (QUEUE_ORDER). One count, on the queue index, counted now."""
    queue = waiting_in_queue(order.store_id, order.team_id)
    return Order.objects.filter(queue, _ahead_of(order.due_at, order.pk)).count()


# The order's attribute for `ahead_in_queue` read with it: the count as of that read, which another order's
# change moves without touching this one. Only a promise made right after the read may use it (the status
# page, each panel or promise its stream sends: shopper.status); a kept instance counts again (`orders_ahead`).
AHEAD_WHEN_READ = "ahead_when_read"


def ahead_in_queue() -> Coalesce:
    """`orders_ahead` as a column of the order's own read (annotate it as AHEAD_WHEN_READ): the status page's
    count. One count for a team's queue, another for a store's requests of no team: each an index range
    (order_waiting_queue_idx) over the requests ahead only."""

    def count(team_id: OuterRef | None) -> Subquery:
        waiting = (
            Order.objects.filter(
                waiting_in_queue(OuterRef("store_id"), team_id), _ahead_of(OuterRef("due_at"), OuterRef("pk"))
            )
            .order_by()
            .values("store_id")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return Subquery(waiting)

    of_its_team, of_no_team = count(OuterRef("team_id")), count(None)
    return Coalesce(Case(When(team__isnull=True, then=of_no_team), default=of_its_team), 0)


class InQueue(Protocol):
    """An order as far as its queue goes: an Order, or what a status stream keeps of one."""

    @property
    def status(self) -> str: ...
    @property
    def store_id(self) -> int: ...
    @property
    def team_id(self) -> int | None: ...


def queue_topics(order: InQueue) -> list[str]:
    """What a waiting request's status stream also follows: its queue, whose changes move its position."""
    if order.status != OrderStatus.SUBMITTED:
        return []
    return [team_topic(order.team_id)] if order.team_id else [store_topic(order.store_id)]


def started_at(order: Order, hours: WeeklyHours) -> datetime | None:
    """When the store could start on the order: when it was sent, or the opening after that when the store
    was closed then (None: no opening in the week after)."""
    return order.created_at if hours.is_open(order.created_at) else hours.next_opening(order.created_at)


def _usual(order: Order, store: Store, start: datetime | None) -> History | None:
    """Showcase orders only: an online order's promise is its pick-up time, not the shop floor's pace."""
    if start is None or order.source != OrderSource.SHOWCASE:
        return None
    return history.get(store, start)


@dataclass(frozen=True)
class Promise:
    """What the status page tells a shopper whose order is not ready yet."""

    now: datetime
    ahead: int | None = None  # requests before this one in the queue; None once someone has it
    usual_minutes: int | None = None  # None: too little history to say
    ready_by: datetime | None = None
    closed: bool = False  # closed now, with the request still waiting
    opens_at: datetime | None = None  # when closed: the next opening (None: none in the coming week)
    timezone: str = "UTC"

    @property
    def late(self) -> bool:
        return self.ready_by is not None and self.now >= self.ready_by

    @property
    def opens_on(self) -> str:
        """today | tomorrow | later, on the store's calendar."""
        if self.opens_at is None:
            return ""
        tz = ZoneInfo(self.timezone)
        days = (self.opens_at.astimezone(tz).date() - self.now.astimezone(tz).date()).days
        return {0: "today", 1: "tomorrow"}.get(days, "later")


def order_promise(order: Order, *, now: datetime | None = None, hours: WeeklyHours | None = None) -> Promise | None:
    """The promise for an order that is sent or being picked (None otherwise).

    Two statements for a waiting request (the store's opening hours: none when given as `hours`; its position:
    none when the order was read with `ahead_in_queue`), one once it is being picked; the history is the
    process's (HistoryCache).
    """
    if order.status not in PENDING:
        return None
    now = now or clock.now()
    if hours is None:
        hours = weekly_hours(order.store)
    waiting = order.status == OrderStatus.SUBMITTED
    # Read with the order when it was (the status page): counted then, the moment it is shown. The caller
    # makes the promise right after that read; an older instance would show an old count (AHEAD_WHEN_READ).
    ahead = None
    if waiting:
        ahead = getattr(order, AHEAD_WHEN_READ, None)
        ahead = orders_ahead(order) if ahead is None else ahead
    if waiting and not hours.is_open(now):
        return Promise(
            now=now, ahead=ahead, closed=True, opens_at=hours.next_opening(now), timezone=order.store.timezone
        )
    start = started_at(order, hours)
    usual = _usual(order, order.store, start)
    minutes = usual.ready_minutes if usual else None
    ready_by = start + timedelta(minutes=minutes) if start and minutes else None
    return Promise(now=now, ahead=ahead, usual_minutes=minutes, ready_by=ready_by, timezone=order.store.timezone)


@dataclass(frozen=True)
class QueuePromise:
    """An open order's promise in the associates' queue, and whether the usual pace keeps it."""

    ready_by: datetime
    from_history: bool  # the time the shopper was told; otherwise the order's due time (the store's target)
    missed: bool  # not ready, and the time has passed
    at_risk: bool  # not missed yet, but at the usual picking pace it will be


def queue_promises(
    store: Store, orders: Iterable[Order], *, now: datetime | None = None, hours: WeeklyHours | None = None
) -> dict[int, QueuePromise]:
    """The promise of each order of the queue not ready yet, by order id: one statement (the store's
    opening hours, unless given) when there is any, and the history of each hour they were sent in, once
    per process."""
    pending = [order for order in orders if order.status in PENDING]
    if not pending:
        return {}
    now = now or clock.now()
    hours = weekly_hours(store) if hours is None else hours
    promises = {}
    for order in pending:
        start = started_at(order, hours)
        usual = _usual(order, store, start)
        if start and usual and usual.ready_minutes:
            ready_by, from_history = start + timedelta(minutes=usual.ready_minutes), True
        else:
            ready_by, from_history = order.due_at, False
        expected = _expected_ready(order, start, usual.pick_minutes if usual else None, now)
        missed = now >= ready_by
        promises[order.pk] = QueuePromise(ready_by, from_history, missed, not missed and expected > ready_by)
    return promises


def _expected_ready(order: Order, start: datetime | None, pick_minutes: int | None, now: datetime) -> datetime:
    """When the order is ready at the usual picking pace: a waiting one once somebody takes it now (or
    when the store opens), one being picked after its usual picking time since the claim."""
    if pick_minutes is None:
        return now
    pick = timedelta(minutes=pick_minutes)
    if order.status == OrderStatus.PICKING and order.claimed_at is not None:
        return max(now, order.claimed_at + pick)
    return max(now, start or now) + pick
