"""Conditional updates shared by the actions: the database, not Python, decides who wins a race."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet

from shelfcall.core import clock
from shelfcall.core.people import display_name
from shelfcall.orders import hooks, policy
from shelfcall.orders.compiled import Argument, CompiledGet, CompiledList, CompiledSet, CompiledUpdate, is_row_id
from shelfcall.orders.errors import NotYourOrder, OrderNotFound, WrongStatus
from shelfcall.orders.event_payloads import as_amount
from shelfcall.orders.events import Actor, EventType, record
from shelfcall.orders.models import Order, OrderLine, OrderStatus, PaymentStatus
from shelfcall.orders.policy import OrderAction
from shelfcall.stores.models import Store

M = TypeVar("M", bound=Model)


def holder_name(order: Order) -> str:
    return display_name(order.assignee)


@dataclass(frozen=True)
class Reach:
    """The orders a store system (an API key) works on: a store's, and those it took for pick-up at another
    store (`store_id`); or, with no store, all of an organization's. The one rule for every read and write."""

    organization_id: int
    store_id: int | None = None

    def orders(self, via: str = "") -> Q:
        """As a filter on orders, or on rows that reach the order through `via` (e.g. "order__")."""
        if self.store_id is None:
            return Q(**{f"{via}store__organization_id": self.organization_id})
        return Q(**{f"{via}store_id": self.store_id}) | Q(**{f"{via}origin_store_id": self.store_id})

    def on_the_row(self) -> Q:
        """As `orders()`, on the order's own columns (no join): what a conditional UPDATE of the order carries,
        checked again, on PostgreSQL, on the row as a concurrent change left it."""
        if self.store_id is None:
            return Q(store_id__in=Store.objects.filter(organization_id=self.organization_id).values("pk"))
        return self.orders()


class WrittenWithin:
    """A store system's conditional UPDATE of an order it reaches, compiled once for each kind of reach:
    `build(reach)` is the statement, whose last argument `reach_id` names what it reaches (`reach(reach_id)`)."""

    def __init__(self, build: Callable[[Callable[[int], Reach]], CompiledUpdate]) -> None:
        self._at_a_store = build(lambda store_id: Reach(organization_id=0, store_id=store_id))
        self._in_an_organization = build(lambda organization_id: Reach(organization_id))

    def run_rows(self, within: Reach, *args: Argument) -> list[tuple[Any, ...]]:
        """The statement's rows (`CompiledUpdate.run_rows`) for `args`, within what `within` reaches."""
        if within.store_id is not None:
            return self._at_a_store.run_rows(*args, within.store_id)
        return self._in_an_organization.run_rows(*args, within.organization_id)


# What an action reads with its order. A caller that reads the order with these (`with_action_relations`)
# may hand it to an action that reads it unlocked, as `current`, so that one read serves both.
ACTION_RELATIONS = ("store", "assignee")


def with_action_relations(orders: QuerySet[M], *, via: str = "") -> QuerySet[M]:
    """`orders` (or rows reaching the order through `via`, e.g. "order__") with what the actions read."""
    return orders.select_related(*(via + relation for relation in ACTION_RELATIONS))


# Every action reads its order this way, most of them several times a lifecycle: compiled once.
_ORDER = CompiledGet(lambda order_id: with_action_relations(Order.objects.filter(pk=order_id)), int)
_LOCKED_ORDER = CompiledGet(
    lambda order_id: with_action_relations(Order.objects.select_for_update(of=("self",)).filter(pk=order_id)), int
)


def fetch(order_id: int, *, lock: bool = False, current: Order | None = None, within: Q | None = None) -> Order:
    """The order with its store and assignee; `lock` holds its row (FOR UPDATE) until the transaction ends.

    `current` is the order as the caller has just read it: it is the answer, unread again. Only for an
    unlocked read, where the action's conditional UPDATE still refuses what a stale read would allow; a
    lock must be taken by the action's own read, in its transaction. `within` narrows the read to the
    caller's orders (an API key's stores): another's is OrderNotFound, and its row is not locked."""
    if current is not None:
        if lock:
            raise ValueError("a caller's read holds no lock: an action that locks reads the order itself")
        return _as_read_for_actions(current, order_id)
    if within is not None:  # the caller's own filter: not a compiled statement
        orders = Order.objects.select_for_update(of=("self",)) if lock else Order.objects
        order = with_action_relations(orders.filter(within, pk=order_id)).first()
    else:
        order = (_LOCKED_ORDER if lock else _ORDER).first(order_id)
    if order is None:
        raise OrderNotFound()
    return order


def _through(condition: Q, via: str) -> Q:
    """`condition`, lookups on an order, for rows that reach the order through `via` (e.g. "order__")."""

    def moved(child: Any) -> Any:
        if isinstance(child, Q):
            return _through(child, via)
        lookup, value = child
        return via + lookup, value

    return Q(*map(moved, condition.children), _connector=condition.connector, _negated=condition.negated)


def _locked_lines(order_id: int, within: Q) -> QuerySet[OrderLine]:
    """The order's lines by id with their reservations, each joined to the order (and what the actions read
    with it), whose row alone is locked: `within` is checked on that row as it is once locked."""
    # By the order's own id (order__pk, not order_id): an id past the column's range finds nothing, unsent.
    lines = OrderLine.objects.select_for_update(of=("order",)).filter(_through(within, "order__"), order__pk=order_id)
    return with_action_relations(lines, via="order__").select_related("reservation").order_by("pk")


_LOCKED_ORDER_WITH_LINES = CompiledList(lambda order_id: _locked_lines(order_id, Q()), int)


def fetch_with_lines(order_id: int, *, within: Q | None = None) -> Order:
    """As `fetch(lock=True)`, with the order's lines and their reservations (`order.lines.all()`, by id) in
    the same statement: what the hand-off works on, and a payment's answer.

    On PostgreSQL the lines are as the statement found them: a change committed while it waited for the
    order's lock is in the order (its row is read again once locked) but not in them. Sound for a ready
    order, the hand-off's: its lines and reservations change only with its status (a cancel, an expiry,
    another hand-off), which the hand-off then refuses. A payment decides on no line: only the lines of its
    answer may then be a change behind."""
    lines = _LOCKED_ORDER_WITH_LINES.all(order_id) if within is None else list(_locked_lines(order_id, within))
    if not lines:  # no such order (or not the caller's), or one without lines (the schema allows it)
        return fetch(order_id, lock=True, within=within)
    return order_of_lines(lines)


def order_of_lines(lines: Sequence[OrderLine]) -> Order:
    """The order `lines` were read with (each joined to it), one instance for all, as a prefetch gives,
    its lines kept on it."""
    order = lines[0].order
    for line in lines:
        line.order = order
    keep_lines(order, lines)
    return order


def _as_read_for_actions(order: Order, order_id: int) -> Order:
    """`order`, if it is order `order_id` read with ACTION_RELATIONS: else the action would read them one
    by one (or act on another order), so this is a programming error."""
    missing = [name for name in ACTION_RELATIONS if not Order._meta.get_field(name).is_cached(order)]  # type: ignore[union-attr]
    if order.pk != order_id or missing:
        raise ValueError(f"order {order.pk} is not order {order_id} read with_action_relations (lacks {missing})")
    return order


def keep_lines(order: Order, lines: Sequence[OrderLine]) -> None:
    """Make `order.lines.all()` answer with `lines`, in hand already (read, or just written): what
    prefetch_related stores, stored here."""
    kept = order.lines.all()
    kept._result_cache = list(lines)
    kept._prefetch_done = True  # type: ignore[attr-defined]  # the stubs leave out this QuerySet field
    order._prefetched_objects_cache = {"lines": kept}  # type: ignore[attr-defined]  # Django's prefetch cache


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


# Each kind of move (its statuses and the columns it writes, as a call of `move` in the code names them), its
# UPDATE compiled once: claim and hand-off run one in every lifecycle.
_MOVES: dict[tuple[tuple[str, ...], tuple[str, ...]], CompiledSet] = {}


def _moving(statuses: tuple[str, ...], fields: tuple[str, ...]) -> CompiledSet:
    if (statement := _MOVES.get((statuses, fields))) is None:
        statement = _MOVES.setdefault(
            (statuses, fields),
            CompiledSet(lambda order_id: Order.objects.filter(pk=order_id, status__in=statuses), int, fields=fields),
        )
    return statement


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
    statuses = tuple(from_statuses)
    if condition is None and is_row_id(order_id):
        won = bool(_moving(statuses, tuple(changes)).run([order_id], list(changes.values())))
    else:  # the caller's own condition: not a compiled statement
        won = bool(Order.objects.filter(condition or Q(), pk=order_id, status__in=statuses).update(**changes))
    if won:
        hooks.timers_written(changes)
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
