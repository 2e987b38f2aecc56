"""POS customer orders and webshop imports: create, recall by number, phone or email, change the lines
before picking starts, and read the order's stock reservation journal."""

import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Schema

from shelfcall.api import auth, queries
from shelfcall.api.auth import ApiRequest
from shelfcall.api.endpoints.orders import READ_ERRORS, router
from shelfcall.api.errors import InvalidInput, NotFound
from shelfcall.api.idempotency import idempotent
from shelfcall.api.order_input import (
    PRINTABLE,
    AddLineIn,
    ChangeLineIn,
    CreateOrderIn,
    WrongCurrency,
    cart_lines,
    match_lines,
    read_for_order,
    refused_line,
    resolve_lines,
)
from shelfcall.api.responses import ErrorOut
from shelfcall.api.schemas import (
    OrderList,
    OrderOut,
    ReservationEntryOut,
    ReservationJournal,
    ReservationLineOut,
    RowId,
)
from shelfcall.core import clock
from shelfcall.orders import actions
from shelfcall.orders.errors import CartProblems, ContactRequired
from shelfcall.orders.events import Actor
from shelfcall.orders.models import DeliveryMethod, Order, OrderSource, Reservation, ReservationKind, ReservationReason
from shelfcall.stores.models import Store

# `router` is the orders router: ninja serves one path from one router only, and GET /orders lives there.
WRITE_ERRORS = {**READ_ERRORS, 409: ErrorOut}
_IF_MATCH = re.compile(r'(?:W/)?"?([0-9]{1,18})"?')


def _actor(request: ApiRequest) -> Actor:
    return Actor.api(request.auth.name)


def _order_response(order: Order, response: HttpResponse) -> OrderOut:
    """The order with its version as the ETag."""
    answer = OrderOut.of(order)
    response["ETag"] = f'"{answer.version}"'
    return answer


def _filling_store_id(taken_at_id: int, payload: CreateOrderIn) -> int:
    """The store the order names to collect it (and so to fill it); the taking store when it names none."""
    if payload.delivery == DeliveryMethod.PICKUP_HERE or payload.pickup_store is None:
        return taken_at_id
    return payload.pickup_store


def _taking_store(stores: dict[int, Store], store_id: int) -> Store:
    if (store := stores.get(store_id)) is None:
        raise NotFound(_("No such store."))
    return store


def _pickup_store(stores: dict[int, Store], taken_at: Store, payload: CreateOrderIn) -> Store:
    """Where the order is collected (and so the store that fills it): here, or another of the organization's
    (`stores`: those of the organization the order names)."""
    if payload.delivery == DeliveryMethod.PICKUP_HERE:
        if payload.pickup_store not in {None, taken_at.pk}:
            raise InvalidInput(
                _("Leave pickup_store out, or choose delivery pickup_other_store."), field="pickup_store"
            )
        return taken_at
    pickup = stores.get(payload.pickup_store) if payload.pickup_store is not None else None
    if pickup is None or pickup.pk == taken_at.pk:
        raise InvalidInput(
            _("Name another store of your organization (its id) for delivery pickup_other_store."),
            field="pickup_store",
        )
    return pickup


@router.post(
    "/orders",
    response={200: OrderOut, 201: OrderOut, **WRITE_ERRORS},
    auth=auth.ORDERS_WRITE,
    summary="Create an order: a POS customer order or a webshop import",
)
@idempotent
def create_order(request: ApiRequest, payload: CreateOrderIn, response: HttpResponse) -> tuple[int, OrderOut]:
    """Holds the stock of every line at the store that fills it, or refuses the whole order and writes nothing.
    Lines name products by `sku`, `barcode` or `product_id`; prices come from the catalogue. 201 with the new
    order; 200 with the existing one when the same (source, store, external_id) was sent before, whatever
    else the request says (also when both arrive at once). Refusals name the field: `lines.2.sku`
    (`unknown_product`), `lines.0.qty` (`over_line_max`, `bad_quantity`; `not_enough` and `out_of_stock`
    are 409), `lines` (`cart_problems`: too many units in all), `currency` (`wrong_currency`),
    `customer.name` / `customer.phone` (`contact_required`, when the store requires them).

    `delivery`: `pickup_here` (the store taking it, or the webshop's pick-up store `store`) or
    `pickup_other_store` with `pickup_store`: the order then belongs to the pick-up store, and
    `origin_store_id` says where it was taken; the key of the taking store still reads it."""
    api_key = request.auth
    taken_at_id = queries.store_id_for_lookup(api_key, payload.store)
    # One statement reads what the checks below need: the stores, the products and their stock, the order
    # its external id made already. The checks come in the order they always had, each on what it read.
    read = read_for_order(api_key.organization_id, (taken_at_id, _filling_store_id(taken_at_id, payload)), payload)
    taken_at = _taking_store(read.stores, taken_at_id)
    pickup = _pickup_store(read.stores, taken_at, payload)
    if payload.currency is not None and payload.currency != pickup.currency:
        raise WrongCurrency(pickup.currency)
    if payload.due_at is not None and payload.due_at < clock.now():
        raise InvalidInput(_("Give a due time in the future."), field="due_at")
    products = match_lines(read.products, payload.lines)
    try:
        order, created = actions.create_order(
            pickup,
            cart_lines(products, payload.lines),
            source=OrderSource(payload.source),
            by=_actor(request),
            contact=actions.ShopperContact(**payload.customer.model_dump()),
            external_id=payload.external_id,
            due_at=payload.due_at,
            comments=payload.comments,
            origin_store=taken_at,
            read=read,
        )
    except CartProblems as refused:
        raise refused_line(refused, products, payload.lines) from None
    except ContactRequired as missing:
        missing.field = f"customer.{missing.field}"
        raise
    if not created:  # made before: as it is now
        return 200, _order_response(queries.get_order(api_key, order.pk), response)
    return 201, _order_response(order, response)  # as the action made it, its lines and event with it


class RecallParams(Schema):
    number: str | None = Field(None, max_length=20, description="The barcode's value (SC1001) or the number.")
    phone: str | None = Field(
        None, max_length=32, pattern=r"^[0-9+() ./-]*[0-9][0-9+() ./-]*$", description="Any spacing."
    )
    email: str | None = Field(None, max_length=254, pattern=PRINTABLE, description="Any case.")
    store: RowId | None = Field(None, description="Only this store's orders.")
    limit: int = Field(20, ge=1, le=50)


@router.get(
    "/orders/search",
    response={200: OrderList, **READ_ERRORS},
    auth=auth.ORDERS_READ,
    summary="Recall orders by number, shopper phone or email",
)
def search_orders(request: ApiRequest, params: Query[RecallParams]) -> dict[str, list[OrderOut]]:
    """Newest first, at most `limit`, of every store the key reaches (a store key: also the orders it took for
    pick-up elsewhere). Give at least one of `number`, `phone`, `email`; several must all match. A phone
    matches by its digits (and leading +), so `06 12 34 56 78` finds `0612345678`."""
    if not (params.number or params.phone or params.email):
        raise InvalidInput(_("Give a number, a phone or an email to look for."), field="number")
    orders = queries.search_orders(
        request.auth,
        store_id=params.store,
        number=queries.parse_order_code(params.number, field="number") if params.number else None,
        phone=params.phone or "",
        email=params.email or "",
        limit=params.limit,
    )
    return {"data": [OrderOut.of(order) for order in orders]}


def _version(request: HttpRequest, sent: int | None) -> int:
    """The version the client read: `version` in the body, else the If-Match header (an ETag we gave)."""
    if sent is not None:
        return sent
    header = request.headers.get("If-Match")
    if header is None:
        raise InvalidInput(_("Send the order's version you read: `version` in the body, or If-Match."), field="version")
    found = _IF_MATCH.fullmatch(header.strip())
    if found is None:
        raise InvalidInput(_('Send If-Match as the order\'s ETag, e.g. "913".'), field="If-Match")
    return int(found.group(1))


EDIT_DESCRIPTION = """Only while the order is `submitted` (nobody has started picking: else 409
`wrong_status`), and only at the version you read (`version` in the body or `If-Match` with the ETag: else 409
`version_mismatch`; read the order again). The stock reservation follows (see …/reservations), the total is
recomputed, `order.lines_changed` is recorded; the store's per-line and per-order maxima apply."""


@router.post(
    "/orders/{int:order_id}/lines",
    response={201: OrderOut, **WRITE_ERRORS},
    auth=auth.ORDERS_WRITE,
    summary="Add a line to an order",
    description=EDIT_DESCRIPTION,
)
@idempotent
def add_order_line(
    request: ApiRequest, order_id: int, payload: AddLineIn, response: HttpResponse
) -> tuple[int, OrderOut]:
    order = queries.get_order(request.auth, order_id)
    version = _version(request, payload.version)
    [product] = resolve_lines(order.store, [payload], in_list=False)
    try:
        actions.add_line(order.pk, product.pk, payload.qty, by=_actor(request), version=version)
    except CartProblems as refused:
        raise refused_line(refused, [product], [payload], in_list=False) from None
    return 201, _order_response(queries.get_order(request.auth, order.pk), response)


@router.patch(
    "/orders/{int:order_id}/lines/{int:line_id}",
    response={200: OrderOut, **WRITE_ERRORS},
    auth=auth.ORDERS_WRITE,
    summary="Change a line's quantity, or void it (qty 0)",
    description=EDIT_DESCRIPTION + " A voided line stays on the order with nothing requested; the last line "
    "cannot be voided (409 `last_line`): cancel the order instead.",
)
@idempotent
def change_order_line(
    request: ApiRequest, order_id: int, line_id: int, payload: ChangeLineIn, response: HttpResponse
) -> tuple[int, OrderOut]:
    order = queries.get_order(request.auth, order_id)
    version = _version(request, payload.version)
    try:
        actions.change_line_qty(order.pk, line_id, payload.qty, by=_actor(request), version=version)
    except CartProblems as refused:
        raise refused_line(refused, [], [], in_list=False) from None
    return 200, _order_response(queries.get_order(request.auth, order.pk), response)


@router.get(
    "/orders/{int:order_id}/reservations",
    response={200: ReservationJournal, **READ_ERRORS},
    auth=auth.ORDERS_READ,
    summary="The order's stock reservation journal",
)
def get_reservations(request: ApiRequest, order_id: int) -> dict[str, Any]:
    """Every hold, release and consumption of the order's stock, with when, why and by whom, oldest first; and
    per line what is held, released and consumed now. Reasons: created, line_added, line_changed, line_voided,
    not_found, cancelled, expired, handed_over, rejected."""
    order: Order = queries.get_order(request.auth, order_id)
    held = {r.line_id: r for r in Reservation.objects.filter(order_id=order.pk)}
    lines = [
        ReservationLineOut(
            line_id=line.pk,
            sku=line.sku,
            requested=line.requested_qty,
            held=held[line.pk].held_qty,
            released=held[line.pk].released_qty,
            consumed=held[line.pk].consumed_qty,
        )
        for line in order.lines.all()
        if line.pk in held
    ]
    entries = [
        ReservationEntryOut(
            id=entry.pk,
            line_id=entry.line_id,
            sku=entry.line.sku,
            kind=ReservationKind(entry.kind),
            qty=entry.qty,
            reason=ReservationReason(entry.reason),
            at=entry.created_at,
            actor_kind=entry.actor_kind,
            actor_label=entry.actor_label,
        )
        for entry in queries.list_reservation_entries(order)
    ]
    return {"order_id": order.pk, "lines": lines, "entries": entries}
