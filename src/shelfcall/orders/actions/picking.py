"""Picking units, marking units not found, and staging the picked order at a drop zone."""

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from shelfcall.core import clock
from shelfcall.orders import hooks, reservations
from shelfcall.orders.actions._common import assignee_filter, fetch, flag_refund_due, move, refuse
from shelfcall.orders.actions.closing import close_order
from shelfcall.orders.errors import (
    LineNotInOrder,
    LocationRequired,
    NotFullyPicked,
    QuantityTooLarge,
    UnknownDropZone,
)
from shelfcall.orders.events import SYSTEM, Actor, EventType, record
from shelfcall.orders.models import Order, OrderLine, OrderStatus
from shelfcall.stores.models import DropZone


def _open_line(order_id: int, line_id: int, by: Actor, qty: int) -> QuerySet[OrderLine]:
    """The line, if its order is being picked by `by` and `qty` more units are still open on it."""
    return OrderLine.objects.filter(
        assignee_filter(by, via="order__"),
        pk=line_id,
        order_id=order_id,
        order__status=OrderStatus.PICKING,
        picked_qty__lte=F("requested_qty") - F("short_qty") - qty,
    )


def _explain_line_refusal(order_id: int, line_id: int, by: Actor, attempted: str) -> None:
    order = fetch(order_id)
    line = OrderLine.objects.filter(pk=line_id, order_id=order_id).first()
    if line is None:
        raise LineNotInOrder()
    if order.status != OrderStatus.PICKING or (by.is_staff_user and order.assignee_id != by.user_id):
        refuse(order, attempted, by)
    raise QuantityTooLarge(line.name, line.open_qty)


@transaction.atomic
def pick_line(order_id: int, line_id: int, *, by: Actor, qty: int = 1) -> OrderLine:
    """Confirm `qty` more units of a line are in hand."""
    won = qty >= 1 and _open_line(order_id, line_id, by, qty).update(picked_qty=F("picked_qty") + qty)
    if not won:
        _explain_line_refusal(order_id, line_id, by, pgettext("order action", "picked"))
    line = OrderLine.objects.select_related("order").get(pk=line_id)
    record(
        line.order,
        EventType.PICKING,
        actor=by,
        line_id=line.pk,
        sku=line.sku,
        qty=qty,
        picked_qty=line.picked_qty,
    )
    return line


@transaction.atomic
def mark_line_not_found(order_id: int, line_id: int, *, by: Actor, qty: int) -> OrderLine:
    """The units are not on the shelf: the order shrinks, the stock is released, a refund falls due if paid.

    When nothing at all is left to hand over, the order is cancelled.
    """
    won = qty >= 1 and _open_line(order_id, line_id, by, qty).update(short_qty=F("short_qty") + qty)
    if not won:
        _explain_line_refusal(order_id, line_id, by, pgettext("order action", "changed"))
    line = OrderLine.objects.select_related("order__store", "reservation").get(pk=line_id)
    reservations.release([(line.reservation, qty)])
    order = line.order
    Order.objects.filter(pk=order_id).update(total_amount=F("total_amount") - line.unit_price * qty)
    order.refresh_from_db(fields=["total_amount", "paid_amount", "refunded_amount"])
    record(
        order,
        EventType.LINE_NOT_FOUND,
        actor=by,
        line_id=line.pk,
        sku=line.sku,
        qty=qty,
        short_qty=line.short_qty,
    )
    if not OrderLine.objects.filter(order_id=order_id, requested_qty__gt=F("short_qty")).exists():
        close_order(order, status=OrderStatus.CANCELLED, by=SYSTEM, reason=_("None of the items could be found."))
    else:
        flag_refund_due(order, by)
    return line


@transaction.atomic
def stage_order(order_id: int, *, by: Actor, drop_zone: DropZone | None = None, note: str = "") -> Order:
    """1x for Customer: the picked order waits at a drop zone (or a place in free text).

    On a ready order this moves it, e.g. from the desk to a locker.
    """
    location = _location(drop_zone, note)
    in_store = Q(store_id=drop_zone.store_id) if drop_zone else Q()
    nothing_open = ~Exists(
        OrderLine.objects.filter(order_id=OuterRef("pk"), picked_qty__lt=F("requested_qty") - F("short_qty"))
    )
    changes = {"drop_zone": drop_zone, "staged_location": location, "staged_at": clock.now()}
    won = Order.objects.filter(
        assignee_filter(by) & in_store & nothing_open, pk=order_id, status=OrderStatus.PICKING
    ).update(status=OrderStatus.READY, updated_at=clock.now(), **changes)
    if won:
        order = fetch(order_id)
        _start_collection_timers(order)
        record(order, EventType.FULFILLED, actor=by, location=location, drop_zone_id=drop_zone and drop_zone.pk)
        return order
    return _restage(order_id, by, drop_zone, in_store, changes)


def _start_collection_timers(order: Order) -> None:
    """Reminders and expiry for a staged order, when the store has them (one UPDATE, only then)."""
    assert order.staged_at is not None, "staging sets it"
    timers = {k: v for k, v in hooks.timer_policy.collection_timers(order.store_id, order.staged_at).items() if v}
    if timers:
        Order.objects.filter(pk=order.pk).update(**timers)
        for field, value in timers.items():
            setattr(order, field, value)


def _restage(order_id: int, by: Actor, drop_zone: DropZone | None, in_store: Q, changes: dict) -> Order:
    """Staging did not apply: move an already-ready order, or explain why it cannot be staged."""
    current = fetch(order_id)
    if drop_zone is not None and drop_zone.store_id != current.store_id:
        raise UnknownDropZone()
    if current.status == OrderStatus.PICKING and not (by.is_staff_user and current.assignee_id != by.user_id):
        raise NotFullyPicked(sum(line.open_qty for line in OrderLine.objects.filter(order_id=order_id)))
    if current.status != OrderStatus.READY:
        refuse(current, pgettext("order action", "staged"), by)
    order = move(
        order_id,
        from_statuses=[OrderStatus.READY],
        attempted=pgettext("order action", "moved"),
        actor=by,
        condition=in_store,
        **changes,
    )
    record(
        order,
        EventType.RESTAGED,
        actor=by,
        location=order.staged_location,
        drop_zone_id=drop_zone and drop_zone.pk,
        previous_location=current.staged_location,
    )
    return order


def _location(drop_zone: DropZone | None, note: str) -> str:
    note = note.strip()
    if drop_zone is None and not note:
        raise LocationRequired()
    return " — ".join(part for part in (drop_zone.name if drop_zone else "", note) if part)[:200]
