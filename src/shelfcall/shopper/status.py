"""What the shopper's status page says about an order: progress steps, lines, and where to go next."""

import functools
import secrets
from dataclasses import dataclass
from enum import Enum

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from shelfcall.core import clock
from shelfcall.core.money import format_money
from shelfcall.live.hub import order_topic
from shelfcall.live.sse import GatheredReads, Message, shared_reads
from shelfcall.orders.events import SHOPPER
from shelfcall.orders.models import Order, OrderLine, OrderStatus, PaymentStatus, Substitution
from shelfcall.orders.policy import OrderAction, allowed_actions
from shelfcall.orders.promise import AHEAD_WHEN_READ, order_promise, queue_topics
from shelfcall.orders.queries import (
    QueuePlace,
    find_order_by_token,
    list_events_after,
    list_queue_orders,
    queue_places,
    weekly_hours_of,
)
from shelfcall.shopper.codes import barcode_svg

_STEP_ORDER: list[str] = [OrderStatus.SUBMITTED, OrderStatus.PICKING, OrderStatus.READY]


@dataclass(frozen=True)
class Step:
    label: str
    state: str  # done | current | todo


def progress_steps(order: Order) -> list[Step]:
    reached = _STEP_ORDER.index(order.status) if order.status in _STEP_ORDER else len(_STEP_ORDER)
    completed = order.status == OrderStatus.COMPLETED
    picker = order.assignee.first_name or order.assignee.get_username() if order.assignee else ""

    def state(index: int) -> str:
        if completed or index < reached:
            return "done"
        return "current" if index == reached else "todo"

    picking = _("Being picked by %(name)s") % {"name": picker} if picker else _("Being picked")
    ready = _("Ready at %(place)s") % {"place": order.staged_location} if order.staged_location else _("Ready")
    paid = order.is_paid
    return [
        Step(_("Sent"), state(0)),
        Step(picking, state(1)),
        Step(ready, state(2)),
        _payment_step(order),
        Step(
            _("Collected"),
            "done" if completed else ("current" if order.status == OrderStatus.READY and paid else "todo"),
        ),
    ]


def _payment_step(order: Order) -> Step:
    """Done when nothing is owed; under way, with what is left, after a deposit or a part."""
    if order.is_paid:
        return Step(_("Paid"), "done")
    if order.payment_status == PaymentStatus.PARTIALLY_PAID:
        owed = format_money(order.owed_amount, order.currency)
        return Step(_("Partly paid: %(amount)s still to pay") % {"amount": owed}, "current")
    return Step(_("Paid"), "todo")


def pickup_place(order: Order) -> str:
    """Where the order waits, with the drop zone's directions for someone who does not know the store."""
    directions = order.drop_zone.directions if order.drop_zone else ""
    return f"{order.staged_location} ({directions})" if directions else order.staged_location


def next_step_text(order: Order) -> str:
    paid = order.is_paid
    place = pickup_place(order)
    if order.status == OrderStatus.SUBMITTED:
        return _(
            "Your request is in. An associate will take it in a moment. Keep shopping: this page updates by itself."
        )
    if order.status == OrderStatus.PICKING:
        if paid:
            return _("Paid, thank you. Your items are being picked; we'll show you where to collect them.")
        return _("Your items are being picked. You can already pay: show the barcode below at any till.")
    if order.status == OrderStatus.READY:
        if paid:
            return _("Paid and ready. Collect your order at %(place)s.") % {"place": place}
        if order.store.allow_pay_at_pickup:
            return _("Ready at %(place)s. Pay at a till with the barcode below, or when you collect.") % {
                "place": place
            }
        return _("Ready at %(place)s. Pay at a till with the barcode below, then collect it there.") % {"place": place}
    if order.status == OrderStatus.COMPLETED:
        return _("Collected. Thank you for shopping with us!")
    if order.status == OrderStatus.EXPIRED:
        return _("This request expired and the items went back on the shelf. Ask an associate if you still want them.")
    return _("This request was cancelled. %(reason)s") % {"reason": order.cancel_reason}


def lapse_note(order: Order) -> str:
    """When a request nobody has started on is cancelled by the store's timer, in the store's time."""
    if order.status != OrderStatus.SUBMITTED or order.expires_at is None:
        return ""
    lapses = timezone.localtime(order.expires_at)
    same_day = lapses.date() == timezone.localtime(clock.now()).date()
    when = date_format(lapses, "TIME_FORMAT" if same_day else "SHORT_DATETIME_FORMAT")
    return _("If nobody has started on it by %(time)s, it is cancelled and the items go back on the shelf.") % {
        "time": when
    }


def sub_status_text(order: Order) -> str:
    """The store's own word on where the order is ("Your item is being engraved"), in the page's language."""
    sub = order.current_sub_status
    return sub.shopper_text(translation.get_language() or order.locale) if sub else ""


def line_state(line: OrderLine) -> str:
    if line.is_proposed:
        return _("Offered instead: waiting for your answer")
    if line.substitution == Substitution.DECLINED:
        return _("Offered instead: you declined it")
    if line.short_qty and line.short_qty >= line.requested_qty:
        return _("Not found")
    parts = []
    if line.picked_qty:
        parts.append(_("%(done)s of %(count)s picked") % {"done": line.picked_qty, "count": line.requested_qty})
    if line.short_qty:
        parts.append(_("%(count)s not found") % {"count": line.short_qty})
    if line.rejected_qty:
        parts.append(_("%(count)s returned") % {"count": line.rejected_qty})
    return ", ".join(parts) or _("Waiting")


def panel_context(order: Order) -> dict:
    lines = list(order.lines.all())
    by_id = {line.pk: line for line in lines}
    return {
        "order": order,
        "steps": progress_steps(order),
        "next_step": next_step_text(order),
        "lapse_note": lapse_note(order),
        "sub_status_text": sub_status_text(order),
        "lines": [(line, line_state(line)) for line in lines],
        # Each substitute waiting for the shopper's answer, with the line it stands in for.
        "substitutes": [
            (line, by_id[line.substitute_for_id])
            for line in lines
            if line.is_proposed and line.substitute_for_id is not None and order.is_open
        ],
        "barcode_svg": barcode_svg(order.barcode_value) if order.is_open else "",
        "can_cancel": OrderAction.CANCEL in allowed_actions(SHOPPER, order),
        "promise": order_promise(order),
    }


# Stands for the page's CSRF token in a panel rendered once for all the streams of its order: each
# stream puts its own in. Random in each process, so that no text of an order can spell it.
CSRF_STAND_IN = secrets.token_hex(16)


@dataclass(frozen=True, slots=True)
class Watched:
    """What a status stream keeps of its order between reads: its queue, and how to read it again. Not
    the Order itself, with its store: that is 4 KB more for each of 10,000 open streams."""

    pk: int
    public_token: str
    status: str
    store_id: int
    team_id: int | None

    @classmethod
    def of(cls, order: Order) -> "Watched":
        return cls(order.pk, order.public_token, order.status, order.store_id, order.team_id)


@dataclass(frozen=True)
class StatusReading:
    """What a read found, for every stream of the order that asked it (`StatusPoll.key`)."""

    order: Watched  # as read: the stream watches this one from now on
    shown: int | None  # the place in the queue the stream now shows
    message: Message | None  # its panel carries CSRF_STAND_IN


@dataclass(frozen=True)
class PromiseReading:
    """A waiting request's promise alone (shopper/_promise.html), for its streams in one language."""

    ahead: int
    html: str


def promise_readings(asked: list[tuple[int, str]]) -> dict[tuple[int, str], PromiseReading]:
    """The promises of the (order id, language) pairs asked, for those orders still waiting: two
    statements for them all (the orders with their stores, the stores' opening hours), the stores' usual
    times from the process's history."""
    orders = {order.pk: order for order in list_queue_orders({order_id for order_id, _ in asked})}
    hours = weekly_hours_of(list({order.store_id: order.store for order in orders.values()}.values()))
    found = {}
    for order_id, language in asked:
        if order_id not in orders:
            continue  # taken or cancelled since: its own event brings the whole panel
        order = orders[order_id]
        with translation.override(language), timezone.override(order.store.timezone):
            promise = order_promise(order, hours=hours[order.store_id])
            html = render_to_string("shopper/_promise.html", {"promise": promise}).strip()
        found[order_id, language] = PromiseReading(getattr(order, AHEAD_WHEN_READ), html)
    return found


_promise_reads: GatheredReads[tuple[int, str], PromiseReading] = GatheredReads(promise_readings)


class QueueNews(Enum):
    """What a queue move means for one stream (`StatusPoll.queue_news`)."""

    QUIET = "quiet"  # its place is the one shown
    PROMISE = "promise"  # its place moved: send its promise
    PANEL = "panel"  # the order itself changed: send its panel


class StatusPoll:
    """The SSE poll for one order's stream: the re-rendered panel when the order has new events, and its
    promise alone when its place in the queue moved. The streams of the order in this process share each
    read and render (`sse.SharedPoll`); the panel's forms (check in, answer a substitute) carry each
    stream's own CSRF token, its page's, since no request renders them.

    A waiting request's place moves with another order's change (claimed, cancelled, a request due
    sooner), which has no event of its own, and that change wakes the streams of every request of the
    queue. They share one read of the queue's places (`queue_places`, one statement); those whose place
    moved are read together (`promise_readings`, two statements) and each is sent its promise, a few
    hundred bytes, instead of its panel with its barcode. The page says which place it shows (`?ahead=`
    on the stream's address); a stream not told takes the first one read as shown.
    """

    def __init__(self, order: Order, language: str, csrf_token: str, shown_ahead: int | None = None) -> None:
        self.order, self.language, self.csrf_token, self.shown = Watched.of(order), language, csrf_token, shown_ahead

    async def next_message(self, since: int, news_at: float) -> Message | None:
        """`sse.AsyncPoll`: what a wake-up brings this stream."""
        news = QueueNews.PANEL
        if self.order.status == OrderStatus.SUBMITTED:
            read = functools.partial(queue_places, self.order.store_id, self.order.team_id)
            news = self.queue_news(since, await shared_reads.result(("queue", *read.args), read, news_at))
        if news is QueueNews.PROMISE:
            return self.promise_message(since, await _promise_reads.get((self.order.pk, self.language)))
        return None if news is QueueNews.QUIET else await shared_reads.message(self, since, news_at)

    def __call__(self, since: int) -> Message | None:
        """The poll run in this thread (`sse.Poll`), as `next_message` runs it."""
        news = QueueNews.PANEL
        if self.order.status == OrderStatus.SUBMITTED:
            news = self.queue_news(since, queue_places(self.order.store_id, self.order.team_id))
        if news is QueueNews.PROMISE:
            asked = (self.order.pk, self.language)
            return self.promise_message(since, promise_readings([asked]).get(asked))
        return None if news is QueueNews.QUIET else self.message(self.read(since))

    def topics(self) -> list[str]:
        """What its stream follows: the order, and its queue while it waits (`sse.Topics`)."""
        return [order_topic(self.order.pk), *queue_topics(self.order)]

    def queue_news(self, since: int, places: dict[int, QueuePlace]) -> QueueNews:
        place = places.get(self.order.pk)
        if place is None or place.last_event_id > since:
            return QueueNews.PANEL  # new events, or it left the queue (taken, cancelled)
        if self.shown is None:
            self.shown = place.ahead
        return QueueNews.QUIET if place.ahead == self.shown else QueueNews.PROMISE

    def promise_message(self, since: int, reading: PromiseReading | None) -> Message | None:
        if reading is None:
            return None
        self.shown = reading.ahead
        return Message(since, "order", {"types": [], "status": OrderStatus.SUBMITTED, "promise": reading.html})

    def key(self, since: int) -> tuple:
        return self.order.pk, self.language, since

    def read(self, since: int) -> StatusReading:
        """The panel, when the order has events after `since`."""
        events = list(list_events_after(self.order.pk, since).values_list("pk", "type"))
        current = find_order_by_token(self.order.public_token) if events else None
        if current is None:
            return StatusReading(self.order, self.shown, None)
        with translation.override(self.language), timezone.override(current.store.timezone):
            context = panel_context(current)
            html = render_to_string("shopper/_status_panel.html", context | {"csrf_token": CSRF_STAND_IN})
        promise = context["promise"]
        data = {"types": [t for _, t in events], "status": current.status, "html": html}
        shown = promise.ahead if promise else None
        return StatusReading(Watched.of(current), shown, Message(events[-1][0], "order", data))

    def message(self, reading: StatusReading) -> Message | None:
        self.order, self.shown = reading.order, reading.shown
        found = reading.message
        if found is None:
            return None
        html = found.data["html"].replace(CSRF_STAND_IN, self.csrf_token)
        return Message(found.id, found.event, found.data | {"html": html})
