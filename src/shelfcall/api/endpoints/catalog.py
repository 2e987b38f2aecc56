"""Products, stock levels and the availability of a basket: what a retailer's ERP pushes and a webshop reads."""

from typing import Annotated, Any

from ninja import Field, Query, Router, Schema

from shelfcall.api import auth, cursors, queries
from shelfcall.api.auth import ApiRequest
from shelfcall.api.catalog_schemas import (
    AvailabilityIn,
    AvailabilityOut,
    ProductOut,
    ProductPage,
    ProductsBulkIn,
    ProductsBulkOut,
    ShowcaseList,
    ShowcaseOut,
    StockBulkIn,
    StockBulkOut,
    StoreAvailabilityOut,
)
from shelfcall.api.endpoints.orders import READ_ERRORS
from shelfcall.api.errors import OrganizationKeyRequired
from shelfcall.api.idempotency import idempotent
from shelfcall.api.responses import ErrorOut
from shelfcall.api.schemas import RowId
from shelfcall.catalog import imports
from shelfcall.catalog.imports import PRINTABLE
from shelfcall.catalog.models import Showcase
from shelfcall.catalog.queries import Location, basket_availability, products_page, showcases_with_offers

router = Router(tags=["catalogue"])

# For writes, 409 and 422 also come from Idempotency-Key (still running; reused for another body).
BODY_ERRORS = READ_ERRORS
WRITE_ERRORS = {**BODY_ERRORS, 409: ErrorOut}


@router.post(
    "/products/bulk",
    response={200: ProductsBulkOut, **WRITE_ERRORS},
    auth=auth.CATALOG_WRITE,
    summary="Create or update products (bulk)",
)
@idempotent
def upsert_products(request: ApiRequest, payload: ProductsBulkIn) -> dict[str, int]:
    """Up to 5,000 products of the organization by SKU, in one transaction: all are applied, or none
    when any row is wrong (422 `invalid_rows`, every row's problems in `error.rows`). Fields a row leaves out
    keep their value. Prices are decimal strings ("12.50") in the stores' currency. Products are shared by
    every store of the organization, so this takes an organization key (403 `organization_key_required`);
    stock levels are per store: `POST /stock/bulk`."""
    api_key = request.auth
    if api_key.store_id is not None:
        raise OrganizationKeyRequired()
    rows, errors = imports.parse_rows(imports.ProductRow, payload.products)
    result = imports.upsert_products(api_key.organization_id, rows, errors)
    return {"created": result.created, "updated": result.updated}


@router.post(
    "/stock/bulk",
    response={200: StockBulkOut, **WRITE_ERRORS},
    auth=auth.CATALOG_WRITE,
    summary="Set stock levels (bulk)",
)
@idempotent
def upsert_stock(request: ApiRequest, payload: StockBulkIn) -> dict[str, Any]:
    """Up to 5,000 on-hand counts by (store, SKU), in one transaction: all are applied, or none when any
    row is wrong (422 `invalid_rows`). A store key writes its own store (`store` may be left out); an
    organization key names the store of each row. `on_hand` is your count, units held by open orders
    included: what shoppers can get is on hand minus held. Levels now counting fewer units than are held come
    back in `oversold`."""
    api_key = request.auth
    rows, errors = imports.parse_rows(imports.StockRow, payload.levels)
    result = imports.upsert_stock(api_key.organization_id, rows, errors, only_store_id=api_key.store_id)
    return {
        "created": result.created,
        "updated": result.updated,
        "oversold": [
            {"sku": level.sku, "store_id": level.store_id, "on_hand": level.on_hand, "reserved": level.reserved}
            for level in result.oversold
        ],
    }


@router.post(
    "/availability",
    response={200: AvailabilityOut, **BODY_ERRORS},
    auth=auth.ORDERS_READ,
    summary="Which stores can fill a basket",
)
def basket_availability_per_store(
    request: ApiRequest, payload: AvailabilityIn
) -> dict[str, list[StoreAvailabilityOut]]:
    """For a webshop's "choose your pickup store": per store the key reaches, whether it can fill the basket
    now (`full`), some of it (`partial`, see each line's `available`) or nothing (`none`). Nearest first
    when `near` is given (stores without coordinates last), otherwise by name. A read: nothing is held; an
    unknown SKU is a 422 `invalid_rows` naming the line (`lines`, index, `sku`)."""
    api_key = request.auth
    near = Location(payload.near.lat, payload.near.lng) if payload.near else None
    lines = [(line.sku, line.qty) for line in payload.lines]
    fills = basket_availability(queries.stores_of(api_key), api_key.organization_id, lines, near)
    return {"data": [StoreAvailabilityOut.of(fill) for fill in fills]}


class ProductFilters(Schema):
    store: RowId | None = Field(None, description="Only what this store stocks, with its stock only.")
    sku: list[Annotated[str, Field(min_length=1, max_length=64, pattern=PRINTABLE)]] = Field(
        [], max_length=100, description="Only these SKUs (repeat the parameter)."
    )
    active: bool | None = None
    cursor: str | None = Field(None, max_length=500, description="The next_cursor of the previous page.")
    limit: int = Field(100, ge=1, le=500)


@router.get("/products", response={200: ProductPage, **READ_ERRORS}, auth=auth.ORDERS_READ, summary="List products")
def list_products(request: ApiRequest, filters: Query[ProductFilters]) -> dict[str, Any]:
    """The organization's products in id order, each with its stock in the stores the key reaches, paged by
    cursor."""
    api_key = request.auth
    after_id = cursors.decode("products", filters.cursor, "cursor")[0] if filters.cursor else None
    products = products_page(
        api_key.organization_id,
        api_key.store_filter(),
        store_id=filters.store,
        skus=filters.sku,
        active=filters.active,
        after_id=after_id,
        limit=filters.limit + 1,
    )
    page, more = products[: filters.limit], len(products) > filters.limit
    next_cursor = cursors.encode("products", [page[-1].pk]) if more else None
    return {"data": [ProductOut.of(product) for product in page], "next_cursor": next_cursor, "has_more": more}


@router.get(
    "/showcases",
    response={200: ShowcaseList, **READ_ERRORS},
    auth=auth.ORDERS_READ,
    summary="Showcases and their items",
)
def list_showcases(request: ApiRequest, store: RowId | None = None) -> dict[str, list[ShowcaseOut]]:
    """The showcases of the stores the key reaches (or of `store`), by store and name, each with what shoppers
    may request from it now and how much is available."""
    showcases = Showcase.objects.filter(request.auth.store_filter())
    if store is not None:
        showcases = showcases.filter(store_id=store)
    return {"data": [ShowcaseOut.of(showcase, offers) for showcase, offers in showcases_with_offers(showcases)]}
