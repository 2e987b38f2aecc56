"""Moving an order nobody has started to another store of its organization (customer service).

Its stock moves with it, in the journal: each line's units are given back at the old store and held at
the new one in the same transaction, or nothing moves at all. The order takes the new store's next
number (numbers are per store), leaves its team (the new store's whole queue sees it) and its timers
start again from the new store's policy; the shopper is told where to collect it now (notify's outbox).
"""

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from shelfcall.catalog.models import StockLevel
from shelfcall.core import clock
from shelfcall.live.hub import announce_to_store
from shelfcall.orders import hooks, policy, reservations
from shelfcall.orders.actions._common import fetch, move
from shelfcall.orders.actions.creation import _next_order_number
from shelfcall.orders.errors import ActionNotAllowed, OrderError
from shelfcall.orders.events import Actor, EventType, record
from shelfcall.orders.models import Order, OrderLine, OrderSource, OrderStatus, Reservation, ReservationReason
from shelfcall.orders.policy import OrderAction
from shelfcall.stores import policy as stores_policy
from shelfcall.stores.models import Store


class UnknownTargetStore(OrderError):
    code = "unknown_store"
    status = 422
    field = "store"

    def __init__(self, currency: str) -> None:
        super().__init__(
            _("Choose another store of the same organization, selling in %(currency)s, to move the order to.")
            % {"currency": currency}
        )


class TargetLacksStock(OrderError):
    """The new store cannot hold every line: nothing was moved."""

    code = "not_enough_stock_there"
    status = 409
    field = "store"

    def __init__(self, store: str, lines: list[str]) -> None:
        self.lines = lines
        super().__init__(
            _("%(store)s does not have enough stock for: %(lines)s. Nothing was moved.")
            % {"store": store, "lines": "; ".join(lines)}
        )


def _target(order: Order, to_store_id: int, by: Actor) -> Store:
    target = (
        Store.objects.filter(pk=to_store_id, organization_id=order.store.organization_id, currency=order.currency)
        .exclude(pk=order.store_id)
        .first()
    )
    if target is None:
        raise UnknownTargetStore(order.currency)
    if by.user is None or not stores_policy.can(by.user, stores_policy.Perm.SERVE_CUSTOMERS, target):
        raise ActionNotAllowed(order.number, str(policy.ATTEMPTED[OrderAction.MOVE]))
    return target


def _line_label(line: OrderLine) -> str:
    return f"{line.requested_qty} × {line.name}" + (f" ({line.variant})" if line.variant else "")


@transaction.atomic
def move_order(order_id: int, *, to_store_id: int, by: Actor) -> Order:
    """Move the order to `to_store_id`, or raise why not (UnknownTargetStore, TargetLacksStock naming
    the lines, or the policy's refusal: picking has started, or the actor may not)."""
    order = fetch(order_id, lock=True)
    policy.require(by, order, OrderAction.MOVE)
    target = _target(order, to_store_id, by)
    lines = list(OrderLine.objects.filter(order=order).select_related("reservation"))
    levels = {
        level.product_id: level
        for level in StockLevel.objects.filter(store=target, product_id__in=[line.product_id for line in lines])
    }
    held = [line.reservation for line in lines if line.reservation.held_qty]
    missing = [line for line in lines if line.reservation.held_qty and line.product_id not in levels]
    if missing:
        raise TargetLacksStock(target.name, [_line_label(line) for line in missing])
    moves = [(reservation, reservation.held_qty) for reservation in held]
    reservations.withdraw(moves, reason=ReservationReason.MOVED, by=by)
    for reservation in held:
        reservation.stock_level = levels[reservation.line.product_id]
    Reservation.objects.bulk_update(held, ["stock_level"])
    if short := reservations.hold(moves, reason=ReservationReason.MOVED, by=by):
        raise TargetLacksStock(target.name, [_line_label(r.line) for r, _qty in moves if r.stock_level_id in short])
    source = order.store
    now = clock.now()
    moved = move(
        order.pk,
        from_statuses=[OrderStatus.SUBMITTED],
        action=OrderAction.MOVE,
        actor=by,
        condition=Q(assignee__isnull=True),
        current=order,
        store=target,
        number=_next_order_number(target.pk),
        team=None,
        drop_zone=None,
        origin_store_id=order.origin_store_id or (None if order.source == OrderSource.ONLINE else source.pk),
        escalation_level=0,
        next_escalation_at=hooks.timer_policy.first_escalation_at(target.pk, None, now),
        remind_at=None,
        expires_at=target.unclaimed_expiry_at(max(order.due_at, now)),
    )
    event = record(
        moved,
        EventType.MOVED,
        actor=by,
        from_store_id=source.pk,
        from_store=source.name,
        to_store_id=target.pk,
        to_store=target.name,
    )
    announce_to_store(event, store_id=source.pk)
    return moved
