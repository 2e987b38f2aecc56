"""Conditional updates shared by the actions: the database, not Python, decides who wins a race."""

from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet

from shelfcall.core import clock
from shelfcall.core.people import display_name
from shelfcall.orders import policy
from shelfcall.orders.compiled import CompiledGet
from shelfcall.orders.errors import NotYourOrder, OrderNotFound, WrongStatus
from shelfcall.orders.event_payloads import as_amount
from shelfcall.orders.events import Actor, EventType, record
from shelfcall.orders.models import Order, OrderStatus, PaymentStatus
from shelfcall.orders.policy import OrderAction


def holder_name(order: Order) -> str:
    return display_name(order.assignee)


def assignee_filter(actor: Actor, *, via: str = "") -> Q:
    """Staff act only on orders they hold; the till's API key and the system's timers act for the store.

    `via` is the path to the order from the model being filtered, e.g. "order__" for order lines.
    """
    return Q(**{f"{via}assignee": actor.user}) if actor.is_staff_user else Q()


def _with_store_and_assignee() -> QuerySet[Order]:
    return Order.objects.select_related("store", "assignee")


# Every action reads its order this way, most of them several times a lifecycle: compiled once.
_ORDER = CompiledGet(lambda order_id: _with_store_and_assignee().filter(pk=order_id), int)
_LOCKED_ORDER = CompiledGet(
    lambda order_id: _with_store_and_assignee().select_for_update(of=("self",)).filter(pk=order_id), int
)


def fetch(order_id: int, *, lock: bool = False) -> Order:
    """The order with its store and assignee; `lock` holds its row (FOR UPDATE) until the transaction ends."""
    order = (_LOCKED_ORDER if lock else _ORDER).first(order_id)
    if order is None:
        raise OrderNotFound()
    return order


def refuse(order: Order, attempted: str, actor: Actor | None = None, action: OrderAction | None = None) -> None:
    """Raise the error that explains why a conditional update touched no row: the policy's refusal of
    the order as it is now, when the caller names its action."""
    if actor is not None and action is not None:
        policy.require(actor, order, action)
    held_by_someone_else = (
        order.status == OrderStatus.PICKING
        and actor is not None
        and actor.is_staff_user
        and order.assignee_id not in (None, actor.user_id)
    )
    if held_by_someone_else:
        raise NotYourOrder(order.number, holder_name(order))
    raise WrongStatus(order.number, order.get_status_display().lower(), attempted)


def move(
    order_id: int,
    *,
    from_statuses: Iterable[str],
    attempted: str = "",
    actor: Actor | None = None,
    action: OrderAction | None = None,
    condition: Q | None = None,
    current: Order | None = None,
    **changes: Any,
) -> Order:
    """Apply `changes` only if the order is still in `from_statuses` (and `condition` holds).

    Returns the order as it is after the update, or raises the reason nothing changed (`action`, or
    `attempted` for what the policy does not list, names it). A caller that already read the order
    passes it as `current`: it is updated in memory instead of read again.
    """
    changes["updated_at"] = clock.now()
    if "status" in changes:
        changes.setdefault("sub_status", None)  # a sub-status lives inside one status only
    won = Order.objects.filter(condition or Q(), pk=order_id, status__in=list(from_statuses)).update(**changes)
    if won and current is not None:
        for field, value in changes.items():
            setattr(current, field, value)
        return current
    order = fetch(order_id)
    if not won:
        refuse(order, attempted or (str(policy.ATTEMPTED[action]) if action is not None else ""), actor, action)
    return order


def settle_new_total(order: Order, by: Actor) -> None:
    """After the order shrank or closed, `order` holding its sums as just written (its row locked by that
    UPDATE): the payment status the sums now say, written only if it moved, and a refund due said once.

    The status is no event of its own: the event that changed the total already says what it follows from.
    """
    status = order.payment_status_by_sums
    if status != order.payment_status:
        order.payment_status = status
        changes: dict[str, Any] = {"payment_status": status}
        if status == PaymentStatus.PAID and order.paid_at is None:
            # What was paid now covers the smaller total: the order became paid at this moment.
            order.paid_at = changes["paid_at"] = clock.now()
        Order.objects.filter(pk=order.pk).update(**changes)
    if order.refund_due_amount:
        record(order, EventType.REFUND_DUE, actor=by, amount=as_amount(order.refund_due_amount))
