"""Handing the order over: checks, per-line acceptance, and the stock leaving the store."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shelfcall.core import clock
from shelfcall.orders import hooks, policy, reservations
from shelfcall.orders.actions._common import fetch_with_lines, move, settle_new_total
from shelfcall.orders.errors import (
    IdCheckRequired,
    LineNotInOrder,
    PaymentRequired,
    PickupCodeMismatch,
    QuantityTooLarge,
    RejectReasonRequired,
)
from shelfcall.orders.events import Actor, EventType, record
from shelfcall.orders.models import Order, OrderLine, OrderStatus, ReservationReason
from shelfcall.orders.policy import OrderAction

REJECT_REASONS = {
    "damaged": _("Damaged"),
    "wrong_item": _("Wrong item"),
    "changed_mind": _("Changed mind"),
    "other": _("Other"),
}


@dataclass(frozen=True)
class Rejection:
    line_id: int
    qty: int
    reason: str  # a key of REJECT_REASONS


def check_hand_off(
    order: Order,
    lines: Sequence[OrderLine],
    *,
    by: Actor,
    pickup_code: str | None = None,
    rejections: Sequence[Rejection] = (),
    id_checked: bool = False,
) -> None:
    """Raise why the hand-off would be refused, reading and writing nothing: the rules `hand_off_order`
    applies, here on the order and all its lines as the caller read them (the review before the
    associate confirms). The one place these rules live, so a review never passes what the hand-off refuses.

    The store's checks are this action's own, whoever calls it: the pickup code when one is given, the
    ID check when the store requires it, payment unless the store lets shoppers pay at pick-up."""
    policy.require(by, order, OrderAction.HAND_OFF)
    if pickup_code is not None and not order.matches_pickup_code(pickup_code):
        raise PickupCodeMismatch()
    if order.store.require_id_check and not id_checked:
        raise IdCheckRequired()
    if order.owed_amount and not order.store.allow_pay_at_pickup:
        raise PaymentRequired(order.number)
    by_id = {line.pk: line for line in lines}
    turned_down: dict[int, int] = {}
    for rejection in rejections:
        line = by_id.get(rejection.line_id)
        if line is None:
            raise LineNotInOrder()
        if rejection.reason not in REJECT_REASONS:
            raise RejectReasonRequired()
        left = line.picked_qty - line.rejected_qty - turned_down.get(line.pk, 0)
        if not 1 <= rejection.qty <= left:
            raise QuantityTooLarge(line.name, left)
        turned_down[line.pk] = turned_down.get(line.pk, 0) + rejection.qty


# A caller that checks the rejections against the order first, with refusals of its own (the API names
# the field of the line it does not know), gives them as a function of the order read under the lock.
RejectionsOf = Callable[[Order], Sequence[Rejection]]


@transaction.atomic
def hand_off_order(
    order_id: int,
    *,
    by: Actor,
    pickup_code: str | None = None,
    rejections: Sequence[Rejection] | RejectionsOf = (),
    collected_by: str = "",
    id_checked: bool = False,
    signature_svg: str = "",
    within: Q | None = None,
) -> Order:
    """Mark Picked Up. Accepted units leave the stock; rejected ones go back and may fall due as refunds.
    Refused as `check_hand_off` says, on the order and lines as they are under the lock. Returns the order
    as it left it, with its lines and its event as the version.

    The order's row is locked from the first read, as payments lock it: a payment at the till in the
    same moment waits, so the payment status settled here is computed from the sums as they end up.
    `within` (e.g. an API key's stores): an order outside it is OrderNotFound, its row neither read nor locked.
    """
    order = fetch_with_lines(order_id, within=within)
    lines = {line.pk: line for line in order.lines.all()}
    if callable(rejections):
        rejections = rejections(order)
    check_hand_off(
        order, list(lines.values()), by=by, pickup_code=pickup_code, rejections=rejections, id_checked=id_checked
    )
    rejected = _apply_rejections(lines, rejections)
    closed = move(
        order_id,
        from_statuses=[OrderStatus.READY],
        action=OrderAction.HAND_OFF,
        actor=by,
        current=order,
        status=OrderStatus.COMPLETED,
        closed_at=clock.now(),
        total_amount=sum(line.line_total for line in lines.values()),
        alternate_pickup_name=collected_by.strip()[:120],
        id_checked=id_checked,
        signature_svg=signature_svg,
        **hooks.NO_TIMERS,
    )
    if rejected:
        OrderLine.objects.bulk_update(rejected, ["rejected_qty", "reject_reason"])
    reservations.settle(
        (
            (
                line.reservation,
                line.picked_qty - line.rejected_qty,
                line.reservation.held_qty - line.picked_qty + line.rejected_qty,
            )
            for line in lines.values()
        ),
        reason=ReservationReason.HANDED_OVER,
        release_reason=ReservationReason.REJECTED,
        by=by,
    )
    record(
        closed,
        EventType.COMPLETED,
        actor=by,
        accepted=[{"line_id": line.pk, "qty": line.picked_qty - line.rejected_qty} for line in lines.values()],
        rejected=[{"line_id": r.line_id, "qty": r.qty, "reason": r.reason} for r in rejections],
        collected_by=closed.alternate_pickup_name,
    )
    settle_new_total(closed, by)
    return closed


def _apply_rejections(lines: dict[int, OrderLine], rejections: Sequence[Rejection]) -> list[OrderLine]:
    """The units turned down, on lines `check_hand_off` accepted them for."""
    for rejection in rejections:
        line = lines[rejection.line_id]
        line.rejected_qty += rejection.qty
        line.reject_reason = rejection.reason
    return [line for line in lines.values() if line.rejected_qty]
