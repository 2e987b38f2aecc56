"""Substitutes: units of a line were not found, and the associate offers other products in their place.

A substitute is a line of its own (`substitute_for` the line it stands in for), made when it is offered:
its units are held at once (orders/reservations.py, with the journal), so the shopper is offered only
what is on the shelf and nobody else takes it meanwhile. It is no part of the total and cannot be picked
until accepted. The shopper accepts or declines each one on the status page (staff or a till may answer
for them); once its `decide_by` passes, the store's default answer applies (orders/timers.py). Accepting
adds it to the total; declining gives its units back and the line then requests nothing, like a voided
line. The payment status and any refund due follow the new total (settle_new_total).

Two answers at once: each locks the order's row first, then answers with a conditional update of the
line, so exactly one is recorded; the same answer again changes nothing, and the other answer is refused.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from shelfcall.catalog.models import Product, StockLevel
from shelfcall.core import clock
from shelfcall.orders import hooks, policy, reservations
from shelfcall.orders.actions._common import fetch, settle_new_total
from shelfcall.orders.actions.closing import close_order
from shelfcall.orders.actions.creation import new_line
from shelfcall.orders.actions.picking import count_not_found, line_to_work_on
from shelfcall.orders.errors import (
    LineNotInOrder,
    NotASubstitute,
    NothingNotFound,
    SubstituteAlreadyDecided,
    SubstituteOutOfStock,
    SubstituteRefused,
    SubstitutesRequired,
)
from shelfcall.orders.event_payloads import as_amount
from shelfcall.orders.events import SYSTEM, Actor, EventType, record, record_many
from shelfcall.orders.models import (
    Order,
    OrderLine,
    OrderStatus,
    Reservation,
    ReservationReason,
    Substitution,
)
from shelfcall.orders.policy import OrderAction
from shelfcall.stores.models import Store, SubstituteDefault


@dataclass(frozen=True)
class Offer:
    """A product offered in place of what was not found, and how many units of it."""

    product_id: int
    qty: int


@transaction.atomic
def propose_substitutes(
    order_id: int, line_id: int, *, by: Actor, offers: Sequence[Offer], not_found_qty: int = 0
) -> list[OrderLine]:
    """Offer `offers` for the units of a line not found, marking `not_found_qty` more of them not found
    first (all in one transaction: nothing is marked when an offer is refused).

    Each offer is checked before the shopper sees it: a product of the store's catalogue, stocked here,
    not in the order already, within the store's quantity per line, and free on the shelf (held now, by
    a conditional update: a unit sold meanwhile refuses the offer with SubstituteOutOfStock).
    """
    line = line_to_work_on(order_id, line_id, by, OrderAction.SUBSTITUTE)
    if not offers:
        raise SubstitutesRequired()
    order = line.order
    if not_found_qty:
        order = count_not_found(line, not_found_qty, by)
    elif not line.short_qty:
        raise NothingNotFound(line.name)
    products, levels = _check_offers(order, offers)
    decide_by = clock.now() + timedelta(minutes=order.store.substitute_wait_minutes)
    substitutes = OrderLine.objects.bulk_create(
        [_substitute_line(order, products[offer.product_id], offer.qty, line, decide_by) for offer in offers]
    )
    moves = [
        (Reservation(line=sub, order=order, stock_level=levels[sub.product_id], held_qty=0), sub.requested_qty)
        for sub in substitutes
    ]
    if short := reservations.hold(moves, reason=ReservationReason.SUBSTITUTE_PROPOSED, by=by):
        position, offer = next((i, o) for i, o in enumerate(offers) if levels[o.product_id].pk in short)
        raise _out_of_stock(products[offer.product_id], levels[offer.product_id], position)
    units = sum(offer.qty for offer in offers)
    due_at = min(filter(None, [order.substitute_due_at, decide_by]))
    order.held_units += units
    order.substitute_due_at, order.updated_at = due_at, clock.now()
    Order.objects.filter(pk=order.pk).update(
        held_units=F("held_units") + units, substitute_due_at=due_at, updated_at=order.updated_at
    )
    hooks.timers_written({"substitute_due_at": due_at})
    if not_found_qty:
        settle_new_total(order, by)  # a paid order: a refund falls due until a substitute is accepted
    record_many([(order, EventType.SUBSTITUTE_PROPOSED, _proposed_payload(sub)) for sub in substitutes], actor=by)
    return substitutes


def _check_offers(order: Order, offers: Sequence[Offer]) -> tuple[dict[int, Product], dict[int, StockLevel]]:
    """The offered products and their stock here, or SubstituteRefused naming the offer (`substitutes.<i>`)."""
    ids = [offer.product_id for offer in offers]
    products = {
        product.pk: product
        for product in Product.objects.filter(pk__in=ids, organization_id=order.store.organization_id, active=True)
    }
    levels = {
        level.product_id: level for level in StockLevel.objects.filter(store_id=order.store_id, product_id__in=ids)
    }
    in_order = set(
        OrderLine.objects.filter(order_id=order.pk, requested_qty__gt=0).values_list("product_id", flat=True)
    )
    store: Store = order.store
    for position, offer in enumerate(offers):
        field = f"substitutes.{position}"
        product, level = products.get(offer.product_id), levels.get(offer.product_id)
        if product is None or level is None:
            raise SubstituteRefused(_("That product is not sold in this store: offer another."), field=f"{field}.sku")
        if offer.product_id in in_order or ids.count(offer.product_id) > 1:
            raise SubstituteRefused(
                _("%(name)s is in the order already: offer another product.") % {"name": product.name},
                field=f"{field}.sku",
            )
        if not 1 <= offer.qty <= store.max_line_qty:
            raise SubstituteRefused(
                _("Offer from 1 to %(max)s units.") % {"max": store.max_line_qty}, field=f"{field}.qty"
            )
        if offer.qty > level.available:
            raise _out_of_stock(product, level, position)
    return products, levels


def _out_of_stock(product: Product, level: StockLevel, position: int) -> SubstituteOutOfStock:
    level.refresh_from_db(fields=["on_hand", "reserved"])
    field = f"substitutes.{position}.qty"
    if level.available <= 0:
        return SubstituteOutOfStock(
            _("%(name)s is out of stock here: offer another product.") % {"name": product.name}, field=field
        )
    return SubstituteOutOfStock(
        _("Only %(count)s of %(name)s are free on the shelf: offer fewer, or another product.")
        % {"count": level.available, "name": product.name},
        field=field,
    )


def _substitute_line(order: Order, product: Product, qty: int, replaces: OrderLine, decide_by: datetime) -> OrderLine:
    line = new_line(order, product, qty)
    line.substitute_for = replaces
    line.substitution, line.proposed_qty, line.decide_by = Substitution.PROPOSED, qty, decide_by
    return line


def _proposed_payload(line: OrderLine) -> dict[str, Any]:
    assert line.decide_by is not None, "a proposed substitute has its deadline"
    return _line_payload(line) | {"unit_price": as_amount(line.unit_price), "decide_by": line.decide_by.isoformat()}


def _line_payload(line: OrderLine) -> dict[str, Any]:
    return {
        "line_id": line.pk,
        "for_line_id": line.substitute_for_id,
        "sku": line.sku,
        "name": line.name,
        "variant": line.variant,
        "qty": line.proposed_qty,
    }


@transaction.atomic
def answer_substitute(order_id: int, line_id: int, *, accept: bool, by: Actor) -> OrderLine:
    """The shopper's answer to one substitute (or staff's or a till's, for them).

    The same answer again changes nothing (a double tap, a retry); the other answer to a substitute
    already answered is refused (SubstituteAlreadyDecided), as is any answer once the order has moved
    on (WrongStatus: cancelled, staged …)."""
    order = fetch(order_id, lock=True)
    line = (
        OrderLine.objects.filter(pk=line_id, order_id=order_id, substitute_for__isnull=False)
        .select_related("reservation")
        .first()
    )
    if line is None:
        if not OrderLine.objects.filter(pk=line_id, order_id=order_id).exists():
            raise LineNotInOrder()
        raise NotASubstitute()
    if not line.is_proposed:
        if (line.substitution == Substitution.ACCEPTED) == accept:
            return line
        raise SubstituteAlreadyDecided(line.name, line.get_substitution_display().lower())
    policy.require(by, order, OrderAction.DECIDE_SUBSTITUTE)
    _answer(order, line, accept=accept, by=by, by_default=False)
    return line


@transaction.atomic
def apply_substitute_defaults(order_id: int) -> Order:
    """The timers' part: every substitute of the order whose answer is overdue gets the store's default
    answer; the order's timer then moves to the next one due (or is cleared)."""
    order = fetch(order_id, lock=True)
    policy.require(SYSTEM, order, OrderAction.DECIDE_SUBSTITUTE)
    overdue = OrderLine.objects.filter(
        order_id=order_id, substitution=Substitution.PROPOSED, decide_by__lte=clock.now()
    ).select_related("reservation")
    accept = order.store.substitute_default == SubstituteDefault.ACCEPT
    answered = [_answer(order, line, accept=accept, by=SYSTEM, by_default=True) for line in overdue]
    if not answered:  # the timer ran ahead of its lines (a line answered meanwhile): set it right
        timer = {"substitute_due_at": _next_due(order_id)}
        Order.objects.filter(pk=order_id).update(**timer)
        hooks.timers_written(timer)
    return order


def _answer(order: Order, line: OrderLine, *, accept: bool, by: Actor, by_default: bool) -> OrderLine:
    """Inside the caller's transaction, the order's row locked and `line` proposed."""
    won = OrderLine.objects.filter(pk=line.pk, substitution=Substitution.PROPOSED)
    if accept:
        won.update(substitution=Substitution.ACCEPTED, decide_by=None)
        line.substitution = Substitution.ACCEPTED
        order.total_amount += line.unit_price * line.requested_qty
    else:
        reservations.withdraw(
            [(line.reservation, line.reservation.held_qty)], reason=ReservationReason.SUBSTITUTE_DECLINED, by=by
        )
        won.update(substitution=Substitution.DECLINED, decide_by=None, requested_qty=0)
        order.held_units -= line.requested_qty
        line.substitution, line.requested_qty = Substitution.DECLINED, 0
    line.decide_by = None
    order.substitute_due_at, order.updated_at = _next_due(order.pk), clock.now()
    Order.objects.filter(pk=order.pk).update(
        total_amount=order.total_amount,
        held_units=order.held_units,
        substitute_due_at=order.substitute_due_at,
        updated_at=order.updated_at,
    )
    hooks.timers_written({"substitute_due_at": order.substitute_due_at})
    event = EventType.SUBSTITUTE_ACCEPTED if accept else EventType.SUBSTITUTE_DECLINED
    record(order, event, actor=by, **_line_payload(line), by_default=by_default, total=as_amount(order.total_amount))
    if not OrderLine.objects.filter(order_id=order.pk, requested_qty__gt=F("short_qty")).exists():
        reason = _("None of the items could be found, and no substitute was accepted.")
        close_order(order, status=OrderStatus.CANCELLED, by=SYSTEM, reason=reason)
    elif accept:
        settle_new_total(order, by)
    return line


def _next_due(order_id: int) -> datetime | None:
    """When the next substitute of the order still waiting for an answer falls due; None when none waits."""
    waiting = OrderLine.objects.filter(order_id=order_id, substitution=Substitution.PROPOSED)
    return waiting.order_by("decide_by").values_list("decide_by", flat=True).first()
