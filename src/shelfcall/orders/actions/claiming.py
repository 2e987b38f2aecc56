"""Who is picking: claim ("Picking"), give back to the queue, and reassign."""

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q

from shelfcall.core import clock
from shelfcall.orders import hooks, policy
from shelfcall.orders.actions._common import fetch, holder_name, move
from shelfcall.orders.errors import AlreadyClaimed, UnknownAssociate
from shelfcall.orders.events import Actor, EventType, record
from shelfcall.orders.models import Order, OrderStatus
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
            status=OrderStatus.PICKING,
            assignee=holder,
            claimed_at=clock.now(),
            next_escalation_at=None,  # someone has it: escalation stops, and it no longer lapses unclaimed
            expires_at=None,
        )
    except AlreadyClaimed:  # claimed between our read and our update: by this very holder, in another tab?
        if _held_by(order := fetch(order_id), holder):
            return order
        raise
    record(order, EventType.CLAIMED, actor=by, assignee_id=holder and holder.pk, assignee_name=holder_name(order))
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
