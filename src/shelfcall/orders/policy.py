"""What an actor may do to an order right now: one answer for the actions, the workspace and the API.

It decides from the order's status, who holds it, and who asks: a staff member (by their role in the
order's store, through stores.policy), the shopper, an API key (it acts for its store: no holder of
its own, so it may work on any order of the store, as the actions' conditional UPDATEs let it), or the system's
timers. The actions call `require` before they write, so a refusal has its reason whoever calls; their
conditional UPDATEs stay the guard against a race that changes the order in between.
"""

from dataclasses import replace
from decimal import Decimal
from enum import Enum, StrEnum, auto

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from shelfcall.core.errors import ShelfcallError
from shelfcall.core.money import format_money
from shelfcall.core.people import display_name
from shelfcall.orders.errors import (
    ActionNotAllowed,
    AlreadyClaimed,
    NotASubstitute,
    NothingOwed,
    NothingToRefund,
    NotYourOrder,
    WrongStatus,
)
from shelfcall.orders.events import Actor, ActorKind
from shelfcall.orders.models import OPEN_STATUSES, Order, OrderStatus
from shelfcall.stores import policy as stores_policy
from shelfcall.stores.models import Role
from shelfcall.stores.policy import Perm


class OrderAction(StrEnum):
    CLAIM = "claim"
    UNCLAIM = "unclaim"  # give back an order one holds
    UNCLAIM_FOR_ANYONE = "unclaim_for_anyone"  # put back an order someone else holds
    REASSIGN = "reassign"
    PICK = "pick"
    NOT_FOUND = "not_found"
    STAGE = "stage"
    RESTAGE = "restage"
    PAY = "pay"
    REFUND = "refund"
    HAND_OFF = "hand_off"
    CANCEL = "cancel"
    RESEND = "resend"
    CHECK_IN = "check_in"
    SET_SUB_STATUS = "set_sub_status"
    SUBSTITUTE = "substitute"  # offer other products for units not found
    DECIDE_SUBSTITUTE = "decide_substitute"  # accept or decline a substitute offered
    SEND_STATUS_LINK = "send_status_link"  # the shopper's live status link again, by SMS or email
    MOVE = "move"  # to another store of the organization, while nobody has started it


# How a refusal names the action: "Order 1001 is ready now, so it can't be <claimed>."
ATTEMPTED = {
    OrderAction.CLAIM: pgettext_lazy("order action", "claimed"),
    OrderAction.UNCLAIM: pgettext_lazy("order action", "put back in the queue"),
    OrderAction.UNCLAIM_FOR_ANYONE: pgettext_lazy("order action", "put back in the queue"),
    OrderAction.REASSIGN: pgettext_lazy("order action", "reassigned"),
    OrderAction.PICK: pgettext_lazy("order action", "picked"),
    OrderAction.NOT_FOUND: pgettext_lazy("order action", "changed"),
    OrderAction.STAGE: pgettext_lazy("order action", "staged"),
    OrderAction.RESTAGE: pgettext_lazy("order action", "moved"),
    OrderAction.PAY: pgettext_lazy("order action", "paid"),
    OrderAction.REFUND: pgettext_lazy("order action", "refunded"),
    OrderAction.HAND_OFF: pgettext_lazy("order action", "handed over"),
    OrderAction.CANCEL: pgettext_lazy("order action", "cancelled"),
    OrderAction.RESEND: pgettext_lazy("order action", "sent again"),
    OrderAction.CHECK_IN: pgettext_lazy("order action", "checked in"),
    OrderAction.SET_SUB_STATUS: pgettext_lazy("order action", "given a sub-status"),
    OrderAction.SUBSTITUTE: pgettext_lazy("order action", "given a substitute"),
    OrderAction.DECIDE_SUBSTITUTE: pgettext_lazy("order action", "given an answer about a substitute"),
    OrderAction.SEND_STATUS_LINK: pgettext_lazy("order action", "sent its status link"),
    OrderAction.MOVE: pgettext_lazy("order action", "moved to another store"),
}

_PICKING, _READY = frozenset({OrderStatus.PICKING}), frozenset({OrderStatus.READY})
# Where each action applies at all. PAY also needs something owed, REFUND something due.
_STATUSES: dict[OrderAction, frozenset[str]] = {
    OrderAction.CLAIM: frozenset({OrderStatus.SUBMITTED}),
    OrderAction.UNCLAIM: _PICKING,
    OrderAction.UNCLAIM_FOR_ANYONE: _PICKING,
    OrderAction.REASSIGN: frozenset({OrderStatus.SUBMITTED, OrderStatus.PICKING}),
    OrderAction.PICK: _PICKING,
    OrderAction.NOT_FOUND: _PICKING,
    OrderAction.STAGE: _PICKING,
    OrderAction.RESTAGE: _READY,
    OrderAction.PAY: frozenset({*OPEN_STATUSES, OrderStatus.COMPLETED}),
    OrderAction.REFUND: frozenset(OrderStatus),
    OrderAction.HAND_OFF: _READY,
    OrderAction.CANCEL: frozenset(OPEN_STATUSES),
    OrderAction.RESEND: _READY,
    OrderAction.CHECK_IN: frozenset(OPEN_STATUSES),
    OrderAction.SET_SUB_STATUS: frozenset(OPEN_STATUSES),
    OrderAction.SUBSTITUTE: _PICKING,
    # A substitute is offered while picking; the order may have gone back to the queue since.
    OrderAction.DECIDE_SUBSTITUTE: frozenset({OrderStatus.SUBMITTED, OrderStatus.PICKING}),
    OrderAction.SEND_STATUS_LINK: frozenset(OrderStatus),
    OrderAction.MOVE: frozenset({OrderStatus.SUBMITTED}),
}
# Once an associate is picking, the shopper asks at the desk instead of cancelling alone.
SHOPPER_CAN_CANCEL = frozenset({OrderStatus.SUBMITTED})

_STORE_SIDE = frozenset({ActorKind.STAFF, ActorKind.API})
_KINDS: dict[OrderAction, frozenset[ActorKind]] = dict.fromkeys(OrderAction, _STORE_SIDE) | {
    OrderAction.CANCEL: frozenset(ActorKind),
    OrderAction.CHECK_IN: frozenset({ActorKind.SHOPPER}),
    # The shopper answers on the status page, staff or a till for them, the timers with the store's default.
    OrderAction.DECIDE_SUBSTITUTE: frozenset(ActorKind),
    OrderAction.SEND_STATUS_LINK: frozenset({ActorKind.STAFF}),
    OrderAction.MOVE: frozenset({ActorKind.STAFF}),
}
# What only the one who holds the order does (or a store system, for orders no person holds).
_HOLDER_ONLY = frozenset(
    {OrderAction.UNCLAIM, OrderAction.PICK, OrderAction.NOT_FOUND, OrderAction.STAGE, OrderAction.SUBSTITUTE}
)
# What staff do only as supervisors.
_SUPERVISOR_ONLY = frozenset({OrderAction.REASSIGN, OrderAction.UNCLAIM_FOR_ANYONE, OrderAction.REFUND})
# What customer service (and admins) do to any order of the stores they serve, whoever holds it; the
# last two only they do.
_SERVICE = frozenset({OrderAction.CANCEL, OrderAction.RESEND, OrderAction.SEND_STATUS_LINK, OrderAction.MOVE})
_SERVICE_ONLY = frozenset({OrderAction.SEND_STATUS_LINK, OrderAction.MOVE})


class _Why(Enum):
    NOT_ALLOWED = auto()
    WRONG_STATUS = auto()
    ALREADY_CLAIMED = auto()
    NOTHING_OWED = auto()
    NOTHING_TO_REFUND = auto()
    NOT_YOURS = auto()
    NOTHING_TO_DECIDE = auto()


def statuses_for(action: OrderAction, kind: ActorKind) -> frozenset[str]:
    """The statuses in which `kind` may take `action`: the conditional UPDATE's guard too."""
    if action == OrderAction.CANCEL and kind == ActorKind.SHOPPER:
        return SHOPPER_CAN_CANCEL
    return _STATUSES[action]


def holds(actor: Actor, order: Order) -> bool:
    """Whether the order is the actor's own to work on: staff hold what is assigned to them; a store
    system (an API key) holds what no person does."""
    if actor.kind == ActorKind.STAFF:
        return order.assignee_id is not None and order.assignee_id == actor.user_id
    return actor.kind == ActorKind.API and order.assignee_id is None


def holder_label(order: Order) -> str:
    """Who holds the order, for a refusal; an order claimed through the API holds no person."""
    return display_name(order.assignee) if order.assignee_id else str(_("the store's system"))


def allowed_actions(actor: Actor, order: Order) -> frozenset[OrderAction]:
    """Every action the actor may take on the order now. A staff actor without a role costs one query."""
    actor = _with_role(actor, order)
    return frozenset(action for action in OrderAction if _why_not(actor, order, action) is None)


def require(actor: Actor, order: Order, action: OrderAction) -> None:
    """Raise why the actor may not take the action now: WrongStatus, NotYourOrder, AlreadyClaimed,
    NothingOwed, NothingToRefund, NotASubstitute or ActionNotAllowed."""
    why = _why_not(_with_role(actor, order), order, action)
    if why is not None:
        raise _error(why, order, action)


def _with_role(actor: Actor, order: Order) -> Actor:
    if actor.kind != ActorKind.STAFF or actor.role is not None or actor.user is None:
        return actor
    return replace(actor, role=stores_policy.role_in(actor.user, order.store))


def _why_not(actor: Actor, order: Order, action: OrderAction) -> _Why | None:
    """None when allowed. Decided from columns only: no query, no message built."""
    staff = actor.kind == ActorKind.STAFF
    if actor.kind not in _KINDS[action] or (staff and not _staff_may(actor.role, action)):
        return _Why.NOT_ALLOWED
    if order.status not in statuses_for(action, actor.kind):
        claimed = action == OrderAction.CLAIM and order.status == OrderStatus.PICKING
        return _Why.ALREADY_CLAIMED if claimed else _Why.WRONG_STATUS
    if action == OrderAction.PAY and not order.owed_amount:
        return _Why.NOTHING_OWED
    if action == OrderAction.REFUND and not order.refund_due_amount:
        return _Why.NOTHING_TO_REFUND
    if action == OrderAction.DECIDE_SUBSTITUTE and order.substitute_due_at is None:
        return _Why.NOTHING_TO_DECIDE  # no substitute waits for an answer
    if action in (OrderAction.RESEND, OrderAction.SEND_STATUS_LINK) and not (
        order.shopper_phone or order.shopper_email
    ):
        return _Why.NOT_ALLOWED
    mine = holds(actor, order)
    if action == OrderAction.UNCLAIM_FOR_ANYONE and mine:
        return _Why.NOT_ALLOWED  # one's own order is given back with UNCLAIM
    if action == OrderAction.UNCLAIM and not mine:
        return _Why.NOT_YOURS
    return _staff_why_not(actor.role, order, action, mine) if staff else None


def _staff_may(role: Role | None, action: OrderAction) -> bool:
    """Associates and supervisors work orders; customer service only serves shoppers (never picks)."""
    if action in _SERVICE_ONLY:
        return stores_policy.grants(role, Perm.SERVE_CUSTOMERS)
    return stores_policy.grants(role, Perm.WORK_ORDERS) or (
        action in _SERVICE and stores_policy.grants(role, Perm.SERVE_CUSTOMERS)
    )


def _staff_why_not(role: Role | None, order: Order, action: OrderAction, mine: bool) -> _Why | None:
    """Staff work on the orders they hold; supervisors also on their colleagues'; customer service
    (and admins) serve the shopper of any order."""
    if action in _SERVICE and stores_policy.grants(role, Perm.SERVE_CUSTOMERS):
        return None
    supervisor = stores_policy.grants(role, Perm.SUPERVISE)
    if action in _HOLDER_ONLY and not mine:
        return _Why.NOT_YOURS
    if action in _SUPERVISOR_ONLY and not supervisor:
        return _Why.NOT_YOURS if action == OrderAction.UNCLAIM_FOR_ANYONE else _Why.NOT_ALLOWED
    if action == OrderAction.CANCEL and order.assignee_id is not None and not mine and not supervisor:
        return _Why.NOT_YOURS if order.status == OrderStatus.PICKING else _Why.NOT_ALLOWED
    held_by_other = order.status == OrderStatus.PICKING and order.assignee_id is not None and not mine
    if action == OrderAction.SET_SUB_STATUS and held_by_other and not supervisor:
        return _Why.NOT_YOURS  # what the picker is doing is theirs to say
    return None


def _error(why: _Why, order: Order, action: OrderAction) -> ShelfcallError:
    attempted = str(ATTEMPTED[action])
    match why:
        case _Why.WRONG_STATUS:
            return WrongStatus(order.number, order.get_status_display().lower(), attempted)
        case _Why.ALREADY_CLAIMED:
            return AlreadyClaimed(order.number, holder_label(order))
        case _Why.NOT_YOURS:
            return NotYourOrder(order.number, holder_label(order))
        case _Why.NOTHING_OWED:
            return NothingOwed(order.number)
        case _Why.NOTHING_TO_REFUND:
            return NothingToRefund(format_money(Decimal("0"), order.currency))
        case _Why.NOTHING_TO_DECIDE:
            return NotASubstitute()
        case _:
            return ActionNotAllowed(order.number, attempted)
