"""Picking units, marking units not found, and staging the picked order at a drop zone."""

from collections.abc import Callable
from typing import Any, NoReturn

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from shelfcall.core import clock
from shelfcall.orders import hooks, policy, reservations
from shelfcall.orders.actions._common import Reach, WrittenWithin, fetch, move, settle_new_total
from shelfcall.orders.actions.closing import close_order
from shelfcall.orders.compiled import CompiledGet, CompiledSet, CompiledUpdate, is_row_id
from shelfcall.orders.errors import (
    CodeNotInOrder,
    LineNotInOrder,
    LocationRequired,
    NotFullyPicked,
    QuantityTooLarge,
    SubstituteNotAccepted,
    SubstitutesWaiting,
    UnknownDropZone,
)
from shelfcall.orders.events import SYSTEM, Actor, ActorKind, EventType, record
from shelfcall.orders.models import Order, OrderLine, OrderStatus, ReservationReason, Substitution
from shelfcall.orders.order_json import order_and_lines_as_json, order_of_json
from shelfcall.orders.policy import OrderAction
from shelfcall.stores.models import DropZone


def _open_line(
    order_id: int, line_id: int, qty: int, *, assignee_id: int | None, within: Q | None = None
) -> QuerySet[OrderLine]:
    """The line, if its order is being picked (by `assignee_id`, for staff) and `qty` more units are still
    open on it; `within`: among these orders.

    The order is asked in an EXISTS, so that the line's counts are conditions on the row updated itself
    (a filter through the relation would put them in a subquery): on PostgreSQL, an UPDATE that waited for
    another one's on the line checks them again on the row as that one left it. Of two counting the last
    unit at once, one counts it, with no lock taken before."""
    being_picked = Order.objects.filter(
        Q(assignee_id=assignee_id) if assignee_id is not None else Q(),
        within or Q(),
        pk=order_id,
        status=OrderStatus.PICKING,
    )
    return OrderLine.objects.filter(
        Exists(being_picked),
        pk=line_id,
        order_id=order_id,
        picked_qty__lte=F("requested_qty") - F("short_qty") - qty,
    )


def _line_with_its_order(*, lock: bool, related: tuple[str, ...] = ()) -> CompiledGet[OrderLine]:
    lines = OrderLine.objects.select_for_update(of=("self",)) if lock else OrderLine.objects
    return CompiledGet(
        lambda order_id, line_id: lines.select_related("order__store", "order__assignee", *related).filter(
            pk=line_id, order_id=order_id
        ),
        int,
        int,
    )


# Each unit picked counts its line, and most read it first: compiled once (orders/compiled.py).
_LINE = _line_with_its_order(lock=False)
_LOCKED_LINE_WITH_RESERVATION = _line_with_its_order(lock=True, related=("reservation",))


def _counting_picked(
    open_line: Callable[..., QuerySet[OrderLine]], *more: type[int], reads: Callable[..., Any] | None = None
) -> CompiledUpdate:
    """`qty` more units picked on the line `open_line(order_id, line_id, qty, *more)` finds, returning its
    units picked now."""
    return CompiledUpdate(
        lambda order_id, line_id, qty, *rest: (
            open_line(order_id, line_id, qty, *rest),
            {"picked_qty": F("picked_qty") + qty},
        ),
        int,
        int,
        int,
        *more,
        returning="picked_qty",
        reads=reads,
    )


_COUNT_PICKED_BY_HOLDER = _counting_picked(
    lambda order_id, line_id, qty, assignee_id: _open_line(order_id, line_id, qty, assignee_id=assignee_id), int
)
_COUNT_PICKED_FOR_THE_STORE = _counting_picked(
    lambda order_id, line_id, qty: _open_line(order_id, line_id, qty, assignee_id=None)
)
# A store system's count on an order it reaches, never of a substitute waiting for an answer; returning the
# order and its lines too.
_COUNT_PICKED_WITHIN = WrittenWithin(
    lambda reach: _counting_picked(
        lambda order_id, line_id, qty, reach_id: _open_line(
            order_id, line_id, qty, assignee_id=None, within=reach(reach_id).orders()
        ).exclude(substitution=Substitution.PROPOSED),
        int,
        reads=order_and_lines_as_json,
    )
)


def _count_picked(order_id: int, line_id: int, qty: int, by: Actor) -> int | None:
    """The line's units picked, `qty` more now; None when the count is refused. Staff count units only on
    the orders they hold; a store system (an API key) on any being picked."""
    if by.user_id is not None and by.is_staff_user:
        counted = _COUNT_PICKED_BY_HOLDER.run(order_id, line_id, qty, by.user_id)
    else:
        counted = _COUNT_PICKED_FOR_THE_STORE.run(order_id, line_id, qty)
    return counted[0] if counted else None


def _read_line(order_id: int, line_id: int, read: CompiledGet[OrderLine]) -> OrderLine:
    line = read.first(order_id, line_id)
    if line is None:
        fetch(order_id)  # no such order at all: say that
        raise LineNotInOrder()
    return line


def line_to_work_on(order_id: int, line_id: int, by: Actor, action: OrderAction) -> OrderLine:
    """The line with its order and its reservation, locked until the transaction ends (its counts and its
    stock stay exact), once the policy lets `by` mark its units not found (or offer substitutes for them);
    never a substitute the shopper has not accepted."""
    return _workable(_read_line(order_id, line_id, _LOCKED_LINE_WITH_RESERVATION), by, action)


def _workable(line: OrderLine, by: Actor, action: OrderAction) -> OrderLine:
    """`line`, read with its order, if `by` may work on it now. A line is a substitute waiting for the
    shopper's answer from its making until that answer: read unlocked, one answered since is refused as it
    was read; read locked, the answer waits for this transaction."""
    policy.require(by, line.order, action)
    if line.is_proposed:
        raise SubstituteNotAccepted(line.name)
    return line


def _line_by_code(order_id: int, code: str) -> OrderLine | None:
    """The order's line a scanned barcode or typed SKU names, with its order: of several, the one with the
    most units still open."""
    return (
        OrderLine.objects.select_related("order__store", "order__assignee")
        .filter(Q(product__upc=code) | Q(sku__iexact=code), order_id=order_id)
        .annotate(still_open=F("requested_qty") - F("short_qty") - F("picked_qty"))
        .order_by("-still_open", "pk")
        .first()
    )


def _explain_line_refusal(order_id: int, line_id: int, by: Actor, action: OrderAction) -> NoReturn:
    """The line's UPDATE touched nothing: the order moved on meanwhile, or too few units are open, as the
    line is now (a count that raced this one changed it since it was read)."""
    line = _read_line(order_id, line_id, _LINE)
    policy.require(by, line.order, action)
    raise QuantityTooLarge(line.name, line.open_qty)


@transaction.atomic
def pick_line(order_id: int, line_id: int, *, by: Actor, qty: int = 1, current: Order | None = None) -> OrderLine:
    """Confirm `qty` more units of a line are in hand. Nothing is locked: the count's conditional UPDATE
    alone decides (see `_open_line`).

    `current`: the order as the caller just read it with its lines (see `fetch`): the line is one of
    those, read no more; it is returned as counted now."""
    line = (
        _read_line(order_id, line_id, _LINE) if current is None else _line_of(fetch(order_id, current=current), line_id)
    )
    return _pick(_workable(line, by, OrderAction.PICK), by, qty)


@transaction.atomic
def try_pick_line(order_id: int, line_id: int, *, by: Actor, qty: int, within: Reach) -> OrderLine | None:
    """For a store system (an API key): count `qty` more units picked on a line of an order `within` reaches,
    written first. The count's conditional UPDATE is the whole check (the order being picked, the line its own
    and no substitute waiting for an answer, that many units still open) and answers with the order and its
    lines as it found them, the line as counted now: one statement and the event. None when it refuses:
    nothing is written, and the caller reads the order to say why (`pick_line` with it as `current` gives
    the reason, or counts if the order changed meanwhile)."""
    if by.kind != ActorKind.API:
        raise ValueError("staff count units on the orders they hold: pick_line")
    if qty < 1 or not (is_row_id(order_id) and is_row_id(line_id)):
        return None
    counted = _COUNT_PICKED_WITHIN.run_rows(within, order_id, line_id, qty)
    if not counted:
        return None
    [(picked, order_text, lines_text)] = counted
    line = _line_of(order_of_json(order_text, lines_text), line_id)
    return _record_pick(line, by, qty, picked)


def _line_of(order: Order, line_id: int) -> OrderLine:
    """The line among those read with `order`, holding that very order (the one its event is recorded on)."""
    line = next((line for line in order.lines.all() if line.pk == line_id), None)
    if line is None:
        raise LineNotInOrder()
    line.order = order
    return line


@transaction.atomic
def pick_by_code(order_id: int, code: str, *, by: Actor) -> OrderLine:
    """A scan (camera or keyboard-wedge scanner) or a typed SKU: one more unit of the line it names is in
    hand. The line is found in one read, and counted as `pick_line` counts it."""
    line = _line_by_code(order_id, code)
    if line is None:
        fetch(order_id)  # no such order at all: say that
        raise CodeNotInOrder(code)
    return _pick(_workable(line, by, OrderAction.PICK), by, 1)


def _pick(line: OrderLine, by: Actor, qty: int) -> OrderLine:
    """Count `qty` more units picked on `line`, workable, and record it."""
    picked = _count_picked(line.order_id, line.pk, qty, by) if qty >= 1 else None
    if picked is None:
        _explain_line_refusal(line.order_id, line.pk, by, OrderAction.PICK)
    return _record_pick(line, by, qty, picked)


def _record_pick(line: OrderLine, by: Actor, qty: int, picked: int) -> OrderLine:
    """`qty` more units were counted on `line`, `picked` in all now: its event."""
    line.picked_qty = picked
    record(
        line.order,
        EventType.PICKING,
        actor=by,
        line_id=line.pk,
        sku=line.sku,
        qty=qty,
        picked_qty=picked,
    )
    return line


@transaction.atomic
def mark_line_not_found(order_id: int, line_id: int, *, by: Actor, qty: int) -> OrderLine:
    """The units are not on the shelf: the order shrinks, the stock is released, a refund falls due if paid.

    When nothing at all is left to hand over, the order is cancelled.
    """
    line = line_to_work_on(order_id, line_id, by, OrderAction.NOT_FOUND)
    order = count_not_found(line, qty, by)
    if not OrderLine.objects.filter(order_id=order_id, requested_qty__gt=F("short_qty")).exists():
        close_order(order, status=OrderStatus.CANCELLED, by=SYSTEM, reason=_("None of the items could be found."))
    else:
        settle_new_total(order, by)
    return line


def count_not_found(line: OrderLine, qty: int, by: Actor) -> Order:
    """Inside the caller's transaction, `line` locked: `qty` units are short, their stock goes back and the
    total shrinks. Returns the order with its sums as now written; its payment status is the caller's."""
    order_id, line_id = line.order_id, line.pk
    won = qty >= 1 and _open_line(order_id, line_id, qty, assignee_id=by.user_id if by.is_staff_user else None).update(
        short_qty=F("short_qty") + qty
    )
    if not won:
        _explain_line_refusal(order_id, line_id, by, OrderAction.NOT_FOUND)
    line.short_qty += qty
    reservations.release([(line.reservation, qty)], reason=ReservationReason.NOT_FOUND, by=by)
    order = line.order
    Order.objects.filter(pk=order_id).update(total_amount=F("total_amount") - line.unit_price * qty)
    order.refresh_from_db(fields=["total_amount", "paid_amount", "refunded_amount", "payment_status"])
    record(
        order,
        EventType.LINE_NOT_FOUND,
        actor=by,
        line_id=line.pk,
        sku=line.sku,
        qty=qty,
        short_qty=line.short_qty,
    )
    return order


def _staging(order_id: int, *holder: int) -> QuerySet[Order]:
    """The order, if it is being picked (by `holder`, when one is given) and no line has units still open."""
    nothing_open = ~Exists(
        OrderLine.objects.filter(order_id=OuterRef("pk"), picked_qty__lt=F("requested_qty") - F("short_qty"))
    )
    held = Q(assignee_id=holder[0]) if holder else Q()
    return Order.objects.filter(held & nothing_open, pk=order_id, status=OrderStatus.PICKING)


# Staging writes these, on every order: its UPDATE compiled once (orders/compiled.py).
_STAGED = ("drop_zone", "staged_location", "staged_at", "status", "sub_status", "updated_at")
_STAGE_HELD = CompiledSet(_staging, int, int, fields=_STAGED)
_STAGE_FOR_THE_STORE = CompiledSet(_staging, int, fields=_STAGED)


@transaction.atomic
def stage_order(
    order_id: int, *, by: Actor, drop_zone: DropZone | None = None, note: str = "", current: Order | None = None
) -> Order:
    """1x for Customer: the picked order waits at a drop zone (or a place in free text).

    On a ready order this moves it, e.g. from the desk to a locker. `current`: the order as the caller
    just read it (see `fetch`); returned as it now is.
    """
    location = _location(drop_zone, note)
    order = fetch(order_id, current=current)
    if drop_zone is not None and drop_zone.store_id != order.store_id:
        raise UnknownDropZone()
    changes = {"drop_zone": drop_zone, "staged_location": location, "staged_at": clock.now()}
    if order.status == OrderStatus.READY:
        return _restage(order, by, drop_zone, changes)
    policy.require(by, order, OrderAction.STAGE)
    changes |= {"status": OrderStatus.READY, "sub_status": None, "updated_at": clock.now()}
    if by.is_staff_user:  # staff stage only the orders they hold
        won = _STAGE_HELD.run([order_id, by.user_id or 0], list(changes.values()))
    else:
        won = _STAGE_FOR_THE_STORE.run([order_id], list(changes.values()))
    if not won:
        policy.require(by, fetch(order_id), OrderAction.STAGE)  # it moved on meanwhile
        lines = list(OrderLine.objects.filter(order_id=order_id))
        if waiting := sum(line.is_proposed for line in lines):
            raise SubstitutesWaiting(waiting)
        raise NotFullyPicked(sum(line.open_qty for line in lines))
    for field, value in changes.items():
        setattr(order, field, value)
    _start_collection_timers(order)
    record(order, EventType.FULFILLED, actor=by, location=location, drop_zone_id=drop_zone and drop_zone.pk)
    return order


def _start_collection_timers(order: Order) -> None:
    """Reminders and expiry for a staged order, when the store has them (one UPDATE, only then)."""
    assert order.staged_at is not None, "staging sets it"
    timers = {k: v for k, v in hooks.timer_policy.collection_timers(order.store_id, order.staged_at).items() if v}
    if timers:
        Order.objects.filter(pk=order.pk).update(**timers)
        hooks.timers_written(timers)
        for field, value in timers.items():
            setattr(order, field, value)


def _restage(order: Order, by: Actor, drop_zone: DropZone | None, changes: dict) -> Order:
    """Move a ready order to another place."""
    policy.require(by, order, OrderAction.RESTAGE)
    previous_location = order.staged_location
    order = move(
        order.pk, from_statuses=[OrderStatus.READY], action=OrderAction.RESTAGE, actor=by, current=order, **changes
    )
    record(
        order,
        EventType.RESTAGED,
        actor=by,
        location=order.staged_location,
        drop_zone_id=drop_zone and drop_zone.pk,
        previous_location=previous_location,
    )
    return order


def _location(drop_zone: DropZone | None, note: str) -> str:
    note = note.strip()
    if drop_zone is None and not note:
        raise LocationRequired()
    return " — ".join(part for part in (drop_zone.name if drop_zone else "", note) if part)[:200]
