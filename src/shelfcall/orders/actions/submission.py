"""A shopper's (or a till's, or a webshop's) cart becomes an order holding its stock."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from shelfcall.catalog.models import Showcase, ShowcaseItem, StockLevel
from shelfcall.core import clock
from shelfcall.orders import holdings, hooks, reservations
from shelfcall.orders.errors import CartProblems, ContactRequired, LineProblem
from shelfcall.orders.events import SHOPPER, EventType, record
from shelfcall.orders.models import Order, OrderLine, OrderSource, Reservation
from shelfcall.stores.models import Store


@dataclass(frozen=True)
class CartLine:
    product_id: int
    qty: int
    seen_price: Decimal  # the price the shopper agreed to; a change must be shown before ordering


@dataclass(frozen=True)
class ShopperContact:
    name: str = ""
    phone: str = ""
    email: str = ""


def submit_showcase_order(
    showcase: Showcase,
    lines: Sequence[CartLine],
    *,
    contact: ShopperContact,
    submission_key: str,
    device_id: str = "",
    client_address: str = "",
    locale: str = "en",
) -> Order:
    """Create the order and reserve its stock, or raise and write nothing.

    `device_id` (the shopper's session) and `client_address` (their address key, `core.clients.address_key`)
    are what the store's holding caps count; orders keep only a keyed hash of the address.

    Submitting the same cart twice (same `submission_key`, same device) returns the first order. A key is
    bound to the device that made it: the same key from another device is a new submission of its own.
    """
    store = showcase.store
    if existing := _find_submitted(store.pk, submission_key, device_id):
        return existing
    _check_contact(store, contact)
    _check_quantities(store, lines)
    try:
        return _create(showcase, lines, contact, submission_key, device_id, holdings.client_key(client_address), locale)
    except IntegrityError:
        # The same cart arrived twice at the same moment: the other request created it.
        if existing := _find_submitted(store.pk, submission_key, device_id):
            return existing
        raise


def _find_submitted(store_id: int, submission_key: str, device_id: str) -> Order | None:
    return Order.objects.filter(store_id=store_id, device_id=device_id, submission_key=submission_key).first()


def _check_contact(store: Store, contact: ShopperContact) -> None:
    if store.require_shopper_name and not contact.name.strip():
        raise ContactRequired("name", _("Please enter your first name so the team can call you."))
    if store.require_shopper_contact and not (contact.phone.strip() or contact.email.strip()):
        raise ContactRequired("phone", _("Please enter a phone number or an email address."))


def _check_quantities(store: Store, lines: Sequence[CartLine]) -> None:
    if not lines:
        raise CartProblems([], _("Your cart is empty. Add a product first."))
    problems = [
        LineProblem(
            line.product_id,
            "over_line_max",
            _("You can request at most %(max)s of this item.") % {"max": store.max_line_qty},
        )
        for line in lines
        if line.qty > store.max_line_qty
    ]
    problems += [
        LineProblem(line.product_id, "bad_quantity", _("Choose a quantity of 1 or more."))
        for line in lines
        if line.qty < 1
    ]
    if problems:
        raise CartProblems(problems)
    if sum(line.qty for line in lines) > store.max_order_qty:
        raise CartProblems(
            [],
            _("You can request at most %(max)s items in one order. Remove some and send the rest.")
            % {"max": store.max_order_qty},
        )


@transaction.atomic
def _create(
    showcase: Showcase,
    lines: Sequence[CartLine],
    contact: ShopperContact,
    submission_key: str,
    device_id: str,
    client_key: str,
    locale: str,
) -> Order:
    store = showcase.store
    wanted = {line.product_id: line.qty for line in lines}
    items = {
        item.product_id: item
        for item in ShowcaseItem.objects.filter(
            showcase=showcase, product_id__in=wanted, active=True, product__active=True
        ).select_related("product")
    }
    levels = {level.product_id: level for level in StockLevel.objects.filter(store=store, product_id__in=wanted)}
    problems = [_line_problem(line, items, levels) for line in lines]
    if problems := [problem for problem in problems if problem]:
        raise CartProblems(problems)
    # Taking the number locks the store's row until commit: what the client holds is counted after it.
    number, units = _next_order_number(store.pk), sum(wanted.values())
    if device_id or client_key:
        holdings.check_room(store, device_id=device_id, client_key=client_key, units=units)
    if short := reservations.hold(levels, wanted):
        raise CartProblems([_not_enough(product_id, levels[product_id]) for product_id in short])

    now = clock.now()
    order = Order.objects.create(
        store=store,
        team_id=showcase.team_id,
        showcase=showcase,
        source=OrderSource.SHOWCASE,
        number=number,
        submission_key=submission_key,
        device_id=device_id,
        client_key=client_key,
        held_units=units,
        locale=locale,
        shopper_name=contact.name.strip()[:80],
        shopper_phone=contact.phone.strip()[:32],
        shopper_email=contact.email.strip()[:254],
        currency=store.currency,
        total_amount=sum((items[pid].product.price * qty for pid, qty in wanted.items()), Decimal("0")),
        created_at=now,
        updated_at=now,
        due_at=now + timedelta(minutes=store.pick_target_minutes),
        next_escalation_at=hooks.timer_policy.first_escalation_at(store.pk, showcase.team_id, now),
        expires_at=store.unclaimed_expiry_at(now),
    )
    order_lines = OrderLine.objects.bulk_create(
        [_order_line(order, items[line.product_id], line.qty) for line in lines]
    )
    Reservation.objects.bulk_create(
        Reservation(line=line, order=order, stock_level=levels[line.product_id], held_qty=line.requested_qty)
        for line in order_lines
    )
    record(
        order,
        EventType.CREATED,
        actor=SHOPPER,
        source=order.source,
        lines=[
            {"line_id": line.pk, "sku": line.sku, "name": line.name, "variant": line.variant, "qty": line.requested_qty}
            for line in order_lines
        ],
    )
    return order


def _line_problem(line: CartLine, items: dict[int, ShowcaseItem], levels: dict[int, StockLevel]) -> LineProblem | None:
    item = items.get(line.product_id)
    if item is None:
        return LineProblem(line.product_id, "unavailable", _("This item is no longer offered here."))
    level = levels.get(line.product_id)
    if level is None or level.available == 0:
        return LineProblem(line.product_id, "out_of_stock", _("Sold out just now."), available=0)
    if line.qty > level.available:
        return _not_enough(line.product_id, level)
    if item.product.price != line.seen_price:
        return LineProblem(
            line.product_id,
            "price_changed",
            _("The price changed. Check the new price, then send again."),
        )
    return None


def _not_enough(product_id: int, level: StockLevel) -> LineProblem:
    level.refresh_from_db(fields=["on_hand", "reserved"])
    available = level.available
    if available == 0:
        return LineProblem(product_id, "out_of_stock", _("Sold out just now."), available=0)
    return LineProblem(
        product_id,
        "not_enough",
        _("Only %(count)s left. Lower the quantity.") % {"count": available},
        available=available,
    )


def _next_order_number(store_id: int) -> int:
    table = Store._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET order_seq = order_seq + 1 WHERE id = %s RETURNING order_seq",  # noqa: S608
            [store_id],
        )
        return cursor.fetchone()[0]


def _order_line(order: Order, item: ShowcaseItem, qty: int) -> OrderLine:
    product = item.product
    return OrderLine(
        order=order,
        product=product,
        sku=product.sku,
        name=product.name,
        variant=product.variant,
        unit_price=product.price,
        requested_qty=qty,
    )
