"""Who is picking: claim ("Picking"), and give back to the queue."""

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils.translation import pgettext

from shelfcall.core import clock
from shelfcall.orders import hooks
from shelfcall.orders.actions._common import fetch, holder_name, move
from shelfcall.orders.errors import AlreadyClaimed, NotYourOrder, WrongStatus
from shelfcall.orders.events import Actor, EventType, record
from shelfcall.orders.models import Order, OrderStatus


@transaction.atomic
def claim_order(order_id: int, *, by: Actor) -> Order:
    """Exactly one of any number of simultaneous claimers wins; the others learn who did.

    Pressing "Picking" twice is harmless: the holder gets their order back, with no second event.
    """
    try:
        order = move(
            order_id,
            from_statuses=[OrderStatus.SUBMITTED],
            attempted=pgettext("order action", "claimed"),
            actor=by,
            status=OrderStatus.PICKING,
            assignee=by.user,
            claimed_at=clock.now(),
            next_escalation_at=None,  # someone has it: escalation stops, and it no longer lapses unclaimed
            expires_at=None,
        )
    except NotYourOrder as taken:
        raise AlreadyClaimed(taken.number, taken.holder) from None
    except WrongStatus:
        order = fetch(order_id)
        if order.status == OrderStatus.PICKING and order.assignee_id == by.user_id:
            return order
        raise
    record(order, EventType.CLAIMED, actor=by, assignee_id=by.user_id, assignee_name=holder_name(order))
    return order


@transaction.atomic
def unclaim_order(order_id: int, *, by: Actor, for_anyone: bool = False) -> Order:
    """Put a picking order back in the queue. Picked units stay picked for whoever takes it next.

    `for_anyone` is for supervisors (the policy module decides); others may only give back their own.
    """
    current = fetch(order_id)
    previous_name = holder_name(current)
    now = clock.now()
    order = move(
        order_id,
        from_statuses=[OrderStatus.PICKING],
        attempted=pgettext("order action", "put back in the queue"),
        actor=by,
        condition=Q() if for_anyone else Q(assignee=by.user),
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
def reassign_order(order_id: int, *, to: User, by: Actor) -> Order:
    """A supervisor hands a waiting or picking order to a named associate."""
    current = fetch(order_id)
    previous_name = holder_name(current)
    order = move(
        order_id,
        from_statuses=[OrderStatus.SUBMITTED, OrderStatus.PICKING],
        attempted=pgettext("order action", "reassigned"),
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
