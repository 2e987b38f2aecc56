"""Changing an order's lines (add one, change a quantity, void one) while nobody has started picking.

Optimistic concurrency: the caller sends the version it read, the id of the order's latest event (every
change writes one, so no writer has to bump a column). It is compared under the order's row lock, so
two edits made from the same version cannot both apply. Each edit moves the stock reservation (holding
more, or giving units back) with its journal entries, keeps the total and the held units in step, and
records `order.lines_changed`: all or nothing.
"""

from django.db import transaction
from django.utils.translation import pgettext

from shelfcall.catalog.models import Product, StockLevel
from shelfcall.core import clock
from shelfcall.orders import reservations
from shelfcall.orders.actions._common import fetch, refuse
from shelfcall.orders.actions.creation import hold_for_new_lines, new_line, not_enough
from shelfcall.orders.errors import CartProblems, LastLine, LineNotInOrder, VersionMismatch
from shelfcall.orders.event_payloads import as_amount
from shelfcall.orders.events import Actor, EventType, record
from shelfcall.orders.line_checks import check_order_size, line_problem
from shelfcall.orders.models import Order, OrderLine, OrderStatus, ReservationReason
from shelfcall.orders.queries import last_event_id


@transaction.atomic
def add_line(order_id: int, product_id: int, qty: int, *, by: Actor, version: int) -> Order:
    """A product the order does not have yet, priced from the catalogue."""
    order, lines = _editable(order_id, version, by)
    product = Product.objects.filter(pk=product_id, organization_id=order.store.organization_id, active=True).first()
    level = StockLevel.objects.filter(store_id=order.store_id, product_id=product_id).first()
    _check(order, lines, product_id, qty, product=product, available=level.available if level else 0)
    assert product is not None and level is not None, "_check refuses a product not offered or not stocked"
    line = OrderLine.objects.bulk_create([new_line(order, product, qty)])[0]
    hold_for_new_lines(order, [line], {product_id: level}, reason=ReservationReason.LINE_ADDED, by=by)
    return _changed(order, line, 0, by)


@transaction.atomic
def change_line_qty(order_id: int, line_id: int, qty: int, *, by: Actor, version: int) -> Order:
    """Set a line's quantity; 0 voids the line (it stays on the order, with nothing requested)."""
    order, lines = _editable(order_id, version, by)
    line = next((line for line in lines if line.pk == line_id), None)
    if line is None:
        raise LineNotInOrder()
    from_qty, more = line.requested_qty, qty - line.requested_qty
    if more > 0:
        product = Product.objects.filter(pk=line.product_id, active=True).first()
        # What the line holds already is free for it: only the extra units must be on the shelf.
        free = line.reservation.stock_level.available + line.reservation.held_qty
        _check(order, lines, line.product_id, qty, product=product, available=free, line=line)
        if reservations.hold([(line.reservation, more)], reason=ReservationReason.LINE_CHANGED, by=by):
            raise CartProblems([not_enough(line.reservation.stock_level, qty)])
    elif more < 0:
        if qty < 0:
            _check(order, lines, line.product_id, qty, product=line.product, available=0, line=line)
        if qty == 0 and not any(other.requested_qty for other in lines if other.pk != line.pk):
            raise LastLine()
        reason = ReservationReason.LINE_VOIDED if qty == 0 else ReservationReason.LINE_CHANGED
        reservations.withdraw([(line.reservation, -more)], reason=reason, by=by)
    else:
        return order
    line.requested_qty = qty
    OrderLine.objects.filter(pk=line.pk).update(requested_qty=qty)
    return _changed(order, line, from_qty, by)


def _editable(order_id: int, version: int, by: Actor) -> tuple[Order, list[OrderLine]]:
    """The order, locked, if it is still waiting for a picker and at the version the caller read."""
    order = fetch(order_id, lock=True)
    if order.status != OrderStatus.SUBMITTED:
        refuse(order, pgettext("order action", "changed"), by)
    current = last_event_id(order.pk)
    if current != version:
        raise VersionMismatch(current)
    lines = list(OrderLine.objects.filter(order_id=order_id).select_related("product", "reservation__stock_level"))
    return order, lines


def _check(
    order: Order,
    lines: list[OrderLine],
    product_id: int,
    qty: int,
    *,
    product: Product | None,
    available: int,
    line: OrderLine | None = None,
) -> None:
    """The line as it would be, checked as a new order's line is; and the order as it would be."""
    if problem := line_problem(product_id, qty, product=product, available=available, store=order.store):
        raise CartProblems([problem])
    others = [other for other in lines if other.requested_qty and other is not line]
    check_order_size(
        order.store,
        [other.product_id for other in others] + [product_id],
        sum(other.requested_qty for other in others) + qty,
    )


def _changed(order: Order, line: OrderLine, from_qty: int, by: Actor) -> Order:
    """The order's row is locked: its total, held units and sums are current in memory, so its payment
    status (owed again, or a refund due) is settled in the same UPDATE."""
    more = line.requested_qty - from_qty
    order.total_amount += line.unit_price * more
    order.held_units += more
    order.payment_status = order.payment_status_by_sums
    order.updated_at = clock.now()
    Order.objects.filter(pk=order.pk).update(
        total_amount=order.total_amount,
        held_units=order.held_units,
        payment_status=order.payment_status,
        updated_at=order.updated_at,
    )
    record(
        order,
        EventType.LINES_CHANGED,
        actor=by,
        changes=[
            {
                "line_id": line.pk,
                "sku": line.sku,
                "name": line.name,
                "variant": line.variant,
                "from_qty": from_qty,
                "to_qty": line.requested_qty,
            }
        ],
        total=as_amount(order.total_amount),
    )
    return order
