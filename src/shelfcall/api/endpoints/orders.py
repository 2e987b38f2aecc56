from datetime import UTC, datetime
from typing import Annotated, Any

from django.utils.dateparse import parse_datetime
from ninja import Field as F
from ninja import Query, Router, Schema
from pydantic import BeforeValidator

from shelfcall.api import auth, queries
from shelfcall.api.auth import ApiRequest
from shelfcall.api.responses import ErrorOut
from shelfcall.api.schemas import OrderOut, OrderPage, RowId, StoreList, StoreOut
from shelfcall.orders.models import OrderSource, OrderStatus

router = Router(tags=["orders"])

# What each read can answer besides 200; documented once, used by every endpoint.
READ_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}


def _iso_datetime(value: object) -> object:
    """ISO 8601 with a time zone only: lax parsing would read `0.5` as a Unix time, `2026-11-23` as midnight
    somewhere unknown."""
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        raise ValueError("use ISO 8601 with a time zone, e.g. 2026-11-23T10:00:00Z")
    try:
        # In UTC: PostgreSQL refuses offsets beyond ±15:59, which ISO 8601 allows.
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError("use a date between the years 1 and 9999") from None


IsoDatetime = Annotated[datetime, BeforeValidator(_iso_datetime)]


# No control characters (PostgreSQL cannot even compare a string holding NUL): nothing stored has them.
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"


class OrderFilters(Schema):
    store: RowId | None = F(None, description="Only this store's orders.")
    status: OrderStatus | None = None
    source: OrderSource | None = None
    updated_since: IsoDatetime | None = F(None, description="Orders changed at or after this time (ISO 8601).")
    cursor: str | None = F(None, max_length=500, description="The next_cursor of the previous page.")
    limit: int = F(50, ge=1, le=100)


@router.get(
    "/stores", response={200: StoreList, **READ_ERRORS}, auth=auth.ANY_KEY, tags=["stores"], summary="The key's stores"
)
def list_stores(request: ApiRequest) -> dict[str, Any]:
    """Every store this key reaches: one for a store key, all of the organization's for an organization key."""
    return {"data": [StoreOut.of(store) for store in queries.stores_of(request.auth)]}


@router.get("/orders", response={200: OrderPage, **READ_ERRORS}, auth=auth.ORDERS_READ, summary="List orders")
def list_orders(request: ApiRequest, filters: Query[OrderFilters]) -> dict[str, Any]:
    """Oldest change first, paged by cursor on (updated_at, id). An order changed while you page moves to the
    end and shows again; poll the events feed to follow every change exactly once."""
    orders, next_cursor = queries.list_orders(
        request.auth,
        store_id=filters.store,
        status=filters.status,
        source=filters.source,
        updated_since=filters.updated_since,
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {"data": [OrderOut.of(order) for order in orders], "next_cursor": next_cursor, "has_more": bool(next_cursor)}


@router.get(
    "/orders/by-code/{code}",
    response={200: OrderOut, **READ_ERRORS},
    auth=auth.ORDERS_READ,
    summary="Look an order up by its barcode (tills)",
)
def get_order_by_code(request: ApiRequest, code: str, store: RowId | None = None) -> OrderOut:
    """`code` is what the shopper's barcode encodes (`SC1001`) or the number alone (`1001`). A store key looks in
    its store; an organization key names the store with `?store=<id>`."""
    return OrderOut.of(queries.get_order_by_code(request.auth, code, store))


@router.get(
    "/orders/by-external-id",
    response={200: OrderOut, **READ_ERRORS},
    auth=auth.ORDERS_READ,
    summary="Get an order by the id your system gave it",
)
def get_order_by_external_id(
    request: ApiRequest,
    source: OrderSource,
    external_id: str = Query(..., min_length=1, max_length=100, pattern=PRINTABLE),
    store: RowId | None = None,
) -> OrderOut:
    return OrderOut.of(queries.get_order_by_external_id(request.auth, source, external_id, store))


@router.get(
    "/orders/{int:order_id}", response={200: OrderOut, **READ_ERRORS}, auth=auth.ORDERS_READ, summary="Get an order"
)
def get_order(request: ApiRequest, order_id: int) -> OrderOut:
    return OrderOut.of(queries.get_order(request.auth, order_id))
