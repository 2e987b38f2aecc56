"""What the shopper's status page says about an order: progress steps, lines, and where to go next."""

import secrets
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from shelfcall.core import clock
from shelfcall.core.money import format_money
from shelfcall.live.sse import Message
from shelfcall.orders.events import SHOPPER
from shelfcall.orders.models import Order, OrderLine, OrderStatus, PaymentStatus, Substitution
from shelfcall.orders.policy import OrderAction, allowed_actions
from shelfcall.orders.promise import order_promise, orders_ahead
from shelfcall.orders.queries import find_order_by_token, list_events_after
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


@dataclass(frozen=True)
class StatusReading:
    """What a read found, for every stream of the order that asked it (`StatusPoll.key`)."""

    order: Order  # as read: the stream watches this one from now on
    shown: int | None  # the place in the queue the stream now shows
    message: Message | None  # its panel carries CSRF_STAND_IN


class StatusPoll:
    """The SSE poll for one order's stream: one cheap query (two while it waits in the queue), then the
    re-rendered panel if new events exist or its place in the queue moved. The streams of the order in
    this process share each read and render (`sse.SharedPoll`); the panel's forms (check in, answer a
    substitute) carry each stream's own CSRF token, its page's, since no request renders them.

    A waiting request's place moves with another order's change (claimed, cancelled, a request due
    sooner), which has no event of its own: while the request waits, each wake-up counts again (one
    statement), and the panel is sent again when the count differs from the one shown. The page says
    which one it shows (`?ahead=` on the stream's address); a stream not told takes the first count as
    shown.
    """

    def __init__(self, order: Order, language: str, csrf_token: str, shown_ahead: int | None = None) -> None:
        self.order, self.language, self.csrf_token, self.shown = order, language, csrf_token, shown_ahead

    def key(self, since: int) -> tuple:
        return self.order.pk, self.language, since, self.shown

    def read(self, since: int) -> StatusReading:
        order, shown = self.order, self.shown
        events = list(list_events_after(order.pk, since).values_list("pk", "type"))
        if not events:
            ahead = orders_ahead(order) if order.status == OrderStatus.SUBMITTED else shown
            if shown is None or ahead == shown:
                return StatusReading(order, ahead, None)
        current = find_order_by_token(order.public_token)
        if current is None:
            return StatusReading(order, shown, None)
        with translation.override(self.language), timezone.override(current.store.timezone):
            context = panel_context(current)
            html = render_to_string("shopper/_status_panel.html", context | {"csrf_token": CSRF_STAND_IN})
        promise = context["promise"]
        data = {"types": [t for _, t in events], "status": current.status, "html": html}
        message = Message(events[-1][0] if events else since, "order", data)
        return StatusReading(current, promise.ahead if promise else None, message)

    def message(self, reading: StatusReading) -> Message | None:
        self.order, self.shown = reading.order, reading.shown
        found = reading.message
        if found is None:
            return None
        html = found.data["html"].replace(CSRF_STAND_IN, self.csrf_token)
        return Message(found.id, found.event, found.data | {"html": html})

    def __call__(self, since: int) -> Message | None:
        """The poll read by itself (`sse.Poll`)."""
        return self.message(self.read(since))
