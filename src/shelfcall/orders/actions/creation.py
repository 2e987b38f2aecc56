"""Every order is made here, whatever its source: a showcase cart, a POS customer order, a webshop import.

One transaction: the lines are checked (orders.line_checks, as the cart checks them), the store's next
number is taken, the stock is held for every line or for none, the order, its lines, reservations and
journal are written with its `order.created` event. Showcase orders add what only they need: the price
the shopper saw, the showcase's items, and the store's holding caps per phone and network address.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from shelfcall.catalog.models import Product, Showcase, StockLevel
from shelfcall.core import clock
from shelfcall.orders import holdings, hooks, reservations
from shelfcall.orders.actions._common import keep_lines
from shelfcall.orders.compiled import CompiledGet, CompiledInsert
from shelfcall.orders.creation_read import (
    SAME_EXTERNAL_ID,
    SAME_SUBMISSION,
    CreationRead,
    SameOrder,
    read_for_import,
    read_for_showcase,
)
from shelfcall.orders.errors import CartProblems, ContactRequired, LineProblem
from shelfcall.orders.events import Actor, EventType, record
from shelfcall.orders.line_checks import check_order_size, line_problem, shortage
from shelfcall.orders.models import Order, OrderLine, OrderSource, Reservation, ReservationReason
from shelfcall.orders.queries import phone_key
from shelfcall.stores.models import Store


@dataclass(frozen=True)
class CartLine:
    product_id: int
    qty: int
    # The price the shopper agreed to; a change must be shown before ordering. None: priced from the catalogue.
    seen_price: Decimal | None = None


@dataclass(frozen=True)
class ShopperContact:
    name: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class ShowcaseSubmission:
    """What a showcase order brings besides its lines: its showcase, the cart's submission key (bound to the
    shopper's device), and what the holding caps count: the device and a keyed hash of the address."""

    showcase: Showcase
    submission_key: str
    device_id: str = ""
    client_key: str = ""


class CreatedOrder(NamedTuple):
    order: Order
    created: bool  # False: the same submission or external id had already made this order


def create_order(
    store: Store,
    lines: Sequence[CartLine],
    *,
    source: OrderSource,
    by: Actor,
    contact: ShopperContact,
    external_id: str = "",
    due_at: datetime | None = None,
    comments: str = "",
    origin_store: Store | None = None,
    showcase: ShowcaseSubmission | None = None,
    locale: str = "en",
    read: CreationRead | None = None,
) -> CreatedOrder:
    """Create the order in `store` (the one that fills it and where it is collected) and hold its stock, or
    raise and write nothing. `origin_store`: the store of the same organization that took the order, when
    it is collected elsewhere. `read`: what the caller has just read for this order (`read_for_import`,
    with `store` filling it and this source and external id), not read again; not with a showcase, whose
    items decide what may be ordered.

    The same (store, source, external id), or the same showcase submission key from the same device, gives
    back the order it made the first time, also when both arrive at the same moment.

    A new order keeps the lines it was made with: `order.lines.all()` answers them, as created, without a
    query. That is a snapshot, not a read: after another action on the order (a pick, a substitute), read it
    again. An order given back (`created` False) keeps none; its lines are read when asked for.
    """
    same = _same_order(source, external_id, showcase)
    if read is None:
        read = _read_for_order(store, [line.product_id for line in lines], same, showcase)
    elif showcase is not None:
        raise ValueError("a showcase's items decide what its orders may have: read them here")
    if read.existing is not None:
        return CreatedOrder(read.existing, False)
    _check_contact(store, contact)
    check_order_size(store, [line.product_id for line in lines], sum(max(line.qty, 0) for line in lines))
    try:
        order = _create(
            store,
            lines,
            source=source,
            by=by,
            contact=contact,
            external_id=external_id,
            due_at=due_at,
            comments=comments,
            origin_store=origin_store,
            showcase=showcase,
            locale=locale,
            read=read,
        )
    except IntegrityError:
        # The same order arrived twice at the same moment: the other request created it.
        if existing := _find_existing(store, same):
            return CreatedOrder(existing, False)
        raise
    return CreatedOrder(order, True)


def _same_order(source: OrderSource, external_id: str, showcase: ShowcaseSubmission | None) -> SameOrder:
    if showcase is not None and showcase.submission_key:
        return SameOrder.submission(showcase.device_id, showcase.submission_key)
    return SameOrder.external(str(source), external_id)


def _read_for_order(
    store: Store, product_ids: Sequence[int], same: SameOrder, showcase: ShowcaseSubmission | None
) -> CreationRead:
    if showcase is not None:
        return read_for_showcase(showcase.showcase, product_ids, same=same)
    return read_for_import(store.organization_id, (store.pk, store.pk), ids=product_ids, same=same)


def _first_order_of_store_where(first: str, second: str) -> CompiledGet[Order]:
    return CompiledGet(
        lambda store_id, a, b: Order.objects.filter(store_id=store_id, **{first: a, second: b}).order_by("pk")[:1],
        int,
        str,
        str,
    )


# The order made meanwhile by the same submission or import, once its insert failed: compiled once.
_SAME_ORDER = {columns: _first_order_of_store_where(*columns) for columns in (SAME_SUBMISSION, SAME_EXTERNAL_ID)}
_INSERT_ORDER = CompiledInsert(Order)
_INSERT_LINES = CompiledInsert(OrderLine)


def _find_existing(store: Store, same: SameOrder) -> Order | None:
    return _SAME_ORDER[same.columns].first(store.pk, *same.values) if same.values[1] else None


def _check_contact(store: Store, contact: ShopperContact) -> None:
    if store.require_shopper_name and not contact.name.strip():
        raise ContactRequired("name", _("Please enter your first name so the team can call you."))
    if store.require_shopper_contact and not (contact.phone.strip() or contact.email.strip()):
        raise ContactRequired("phone", _("Please enter a phone number or an email address."))


def _offered_products(store: Store, read: CreationRead, showcase: ShowcaseSubmission | None) -> dict[int, Product]:
    """What may be ordered: a showcase's active items (read as such), or else the organization's active
    products."""
    if showcase is not None:
        return {product.pk: product for product in read.products}
    return {p.pk: p for p in read.products if p.active and p.organization_id == store.organization_id}


@transaction.atomic
def _create(
    store: Store,
    lines: Sequence[CartLine],
    *,
    source: OrderSource,
    by: Actor,
    contact: ShopperContact,
    external_id: str,
    due_at: datetime | None,
    comments: str,
    origin_store: Store | None,
    showcase: ShowcaseSubmission | None,
    locale: str,
    read: CreationRead,
) -> Order:
    offered, levels = _offered_products(store, read, showcase), read.levels
    problems = [
        line_problem(
            line.product_id,
            line.qty,
            product=offered.get(line.product_id),
            available=levels[line.product_id].available if line.product_id in levels else 0,
            store=store,
            seen_price=line.seen_price,
        )
        for line in lines
    ]
    if problems := [problem for problem in problems if problem]:
        raise CartProblems(problems)
    # Taking the number locks the store's row until commit: what the client holds is counted after it.
    number, units = _next_order_number(store.pk), sum(line.qty for line in lines)
    if showcase is not None and (showcase.device_id or showcase.client_key):
        holdings.check_room(store, device_id=showcase.device_id, client_key=showcase.client_key, units=units)

    now = clock.now()
    team_id = showcase.showcase.team_id if showcase else None
    order = _INSERT_ORDER.create(
        Order(
            store=store,
            origin_store=origin_store if origin_store != store else None,
            team_id=team_id,
            showcase=showcase.showcase if showcase else None,
            source=source,
            external_id=external_id,
            number=number,
            submission_key=showcase.submission_key if showcase else "",
            device_id=showcase.device_id if showcase else "",
            client_key=showcase.client_key if showcase else "",
            held_units=units,
            locale=locale,
            shopper_name=contact.name.strip()[:80],
            shopper_phone=contact.phone.strip()[:32],
            phone_key=phone_key(contact.phone),
            shopper_email=contact.email.strip().lower()[:254],
            comments=comments.strip(),
            currency=store.currency,
            total_amount=sum((offered[line.product_id].price * line.qty for line in lines), Decimal("0")),
            created_at=now,
            updated_at=now,
            due_at=due_at or now + timedelta(minutes=store.pick_target_minutes),
            next_escalation_at=hooks.timer_policy.first_escalation_at(store.pk, team_id, now),
            # An order due later (a webshop's pick-up slot) waits from its due time, not from its creation.
            expires_at=store.unclaimed_expiry_at(max(due_at or now, now)),
        )
    )
    hooks.timers_written(vars(order))  # the timers it was made with
    order_lines = _INSERT_LINES.create_many([new_line(order, offered[line.product_id], line.qty) for line in lines])
    hold_for_new_lines(order, order_lines, levels, reason=ReservationReason.CREATED, by=by)
    keep_lines(order, order_lines)  # the order as made, with its lines: the caller's answer, unread
    record(
        order,
        EventType.CREATED,
        actor=by,
        source=order.source,
        lines=[
            {"line_id": line.pk, "sku": line.sku, "name": line.name, "variant": line.variant, "qty": line.requested_qty}
            for line in order_lines
        ],
    )
    return order


def hold_for_new_lines(
    order: Order,
    order_lines: Sequence[OrderLine],
    levels: dict[int, StockLevel],
    *,
    reason: ReservationReason,
    by: Actor,
) -> None:
    """Reserve each new line's units (a new reservation each), or raise CartProblems: the caller's
    transaction must then roll back."""
    moves = [
        (Reservation(line=line, order=order, stock_level=levels[line.product_id], held_qty=0), line.requested_qty)
        for line in order_lines
    ]
    if short := reservations.hold(moves, reason=reason, by=by):
        raise CartProblems(
            [
                not_enough(reservation.stock_level, qty)
                for reservation, qty in moves
                if reservation.stock_level_id in short
            ]
        )


def not_enough(level: StockLevel, qty: int) -> LineProblem:
    """The hold lost a race for the last units: say what is left now (fewer than `qty`, as the hold saw it)."""
    level.refresh_from_db(fields=["on_hand", "reserved"])
    return shortage(level.product_id, min(level.available, qty - 1))


def _next_order_number(store_id: int) -> int:
    table = Store._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET order_seq = order_seq + 1 WHERE id = %s RETURNING order_seq",  # noqa: S608
            [store_id],
        )
        return cursor.fetchone()[0]


def new_line(order: Order, product: Product, qty: int) -> OrderLine:
    return OrderLine(
        order=order,
        product=product,
        sku=product.sku,
        name=product.name,
        variant=product.variant,
        unit_price=product.price,
        requested_qty=qty,
    )
