"""Who is picking: claim ("Picking"), give back to the queue, and reassign."""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q, Value

from shelfcall.core import clock
from shelfcall.orders import hooks, policy
from shelfcall.orders.actions._common import Reach, WrittenWithin, fetch, holder_name, move
from shelfcall.orders.compiled import CompiledUpdate, is_row_id, moment_argument
from shelfcall.orders.errors import AlreadyClaimed, UnknownAssociate
from shelfcall.orders.events import Actor, ActorKind, EventType, record
from shelfcall.orders.models import Order, OrderStatus
from shelfcall.orders.order_json import order_and_lines_as_json, order_of_json
from shelfcall.orders.policy import OrderAction
from shelfcall.stores import policy as stores_policy


@transaction.atomic
def claim_order(order_id: int, *, by: Actor, holder: User | None = None, current: Order | None = None) -> Order:
    """Exactly one of any number of simultaneous claimers wins; the others learn who did.

    `holder` is who picks when a store system (an API key) claims for a named associate; a staff
    member claims for themselves, a store system without a holder for the store. Pressing "Picking"
    twice is harmless: the holder gets their order back, with no second event. `current`: the order as
    the caller just read it (see `fetch`); returned as it now is.
    """
    holder = by.user if by.is_staff_user else holder
    order = fetch(order_id, current=current)
    if _held_by(order, holder):
        return order
    policy.require(by, order, OrderAction.CLAIM)
    if holder is not None and not by.is_staff_user:
        _require_member(holder, order)
    try:
        order = move(
            order_id,
            from_statuses=[OrderStatus.SUBMITTED],
            action=OrderAction.CLAIM,
            actor=by,
            current=order,
            **_claimed(holder, clock.now()),
        )
    except AlreadyClaimed:  # claimed between our read and our update: by this very holder, in another tab?
        if _held_by(order := fetch(order_id), holder):
            return order
        raise
    record(order, EventType.CLAIMED, actor=by, assignee_id=holder and holder.pk, assignee_name=holder_name(order))
    return order


def _claimed(holder: User | None, now: Any) -> dict[str, Any]:
    """What a claim writes besides the time of the change."""
    return {
        "status": OrderStatus.PICKING,
        "assignee": holder,
        "claimed_at": now,
        "next_escalation_at": None,  # someone has it: escalation stops, and it no longer lapses unclaimed
        "expires_at": None,
    }


def _claimed_within(reach: Callable[[int], Reach]) -> CompiledUpdate:
    """A store system's claim for the store (no holder) of a waiting order it reaches (`reach(id)`), at a
    moment given as text (`moment_argument`); returning the order and its lines as the statement found them."""
    return CompiledUpdate(
        lambda order_id, moment, reach_id: (
            Order.objects.filter(reach(reach_id).on_the_row(), pk=order_id, status=OrderStatus.SUBMITTED),
            _claimed(None, Value(moment)) | {"updated_at": Value(moment), "sub_status": None},
        ),
        int,
        str,
        int,
        returning="id",
        reads=order_and_lines_as_json,
    )


_CLAIMED_WITHIN = WrittenWithin(_claimed_within)


@transaction.atomic
def try_claim_order(order_id: int, *, by: Actor, within: Reach) -> Order | None:
    """For a store system (an API key): claim a waiting order `within` reaches for the store, written first.
    The conditional UPDATE is the whole check and answers with the order and its lines (orders/order_json.py):
    one statement and the event. None when it refuses: nothing is written, and the caller reads the order to
    say why (`claim_order` with it as `current` gives the reason, or nothing to do for a second claim)."""
    if by.kind != ActorKind.API:
        raise ValueError("staff claim for themselves: claim_order")
    if not is_row_id(order_id):
        return None
    now = clock.now()
    moment = moment_argument(now, Order)
    claimed = _CLAIMED_WITHIN.run_rows(within, order_id, moment)
    if not claimed:
        return None
    [(_id, order_text, lines_text)] = claimed
    order = order_of_json(order_text, lines_text)  # as found: on PostgreSQL, before the update
    changes = _claimed(None, now) | {"updated_at": now, "sub_status": None}
    for field, value in changes.items():
        setattr(order, field, value)
    hooks.timers_written(changes)
    record(order, EventType.CLAIMED, actor=by, assignee_id=None, assignee_name=holder_name(order))
    return order


@transaction.atomic
def unclaim_order(order_id: int, *, by: Actor, current: Order | None = None) -> Order:
    """Put a picking order back in the queue. Picked units stay picked for whoever takes it next.

    Anyone may give back their own; someone else's takes a supervisor (or a store system). `current`:
    the order as the caller just read it (see `fetch`).
    """
    current = fetch(order_id, current=current)
    mine = policy.holds(by, current)
    action = OrderAction.UNCLAIM if mine else OrderAction.UNCLAIM_FOR_ANYONE
    policy.require(by, current, action)
    previous_name = holder_name(current)
    now = clock.now()
    order = move(
        order_id,
        from_statuses=[OrderStatus.PICKING],
        action=action,
        actor=by,
        condition=Q(assignee=current.assignee_id),  # still held by whom the policy judged
        current=current,
        status=OrderStatus.SUBMITTED,
        assignee=None,
        claimed_at=None,
        escalation_level=0,
        next_escalation_at=hooks.timer_policy.first_escalation_at(current.store_id, current.team_id, now),
        expires_at=current.store.unclaimed_expiry_at(now),
    )
    record(order, EventType.UNCLAIMED, actor=by, previous_assignee_name=previous_name)
    return order


@transaction.atomic
def reassign_order(order_id: int, *, to: User, by: Actor, current: Order | None = None) -> Order:
    """A supervisor (or a store system) hands a waiting or picking order to a named associate of the store.

    `current`: the order as the caller just read it (see `fetch`)."""
    current = fetch(order_id, current=current)
    policy.require(by, current, OrderAction.REASSIGN)
    _require_member(to, current)
    previous_name = holder_name(current)
    order = move(
        order_id,
        from_statuses=[OrderStatus.SUBMITTED, OrderStatus.PICKING],
        action=OrderAction.REASSIGN,
        actor=by,
        current=current,
        status=OrderStatus.PICKING,
        assignee=to,
        claimed_at=current.claimed_at or clock.now(),
        next_escalation_at=None,
        expires_at=None,
    )
    record(
        order,
        EventType.REASSIGNED,
        actor=by,
        assignee_id=to.pk,
        assignee_name=holder_name(order),
        previous_assignee_name=previous_name,
    )
    return order


def _held_by(order: Order, holder: User | None) -> bool:
    return order.status == OrderStatus.PICKING and order.assignee_id == (holder.pk if holder else None)


def _require_member(user: User, order: Order) -> None:
    if not stores_policy.can(user, stores_policy.Perm.WORK_ORDERS, order.store):
        raise UnknownAssociate()
