"""What the catalogue endpoints take and return. Bulk rows are checked one by one (catalog/imports.py), so
every row's problems come back together: the body's arrays are documented with the row's schema but
taken as they come."""

from decimal import Decimal
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import ConfigDict, WithJsonSchema
from pydantic.json_schema import JsonDict

from shelfcall.api.schemas import STORE_EXAMPLE, StoreOut
from shelfcall.catalog.imports import MAX_ROWS, PRINTABLE, ProductRow, StockRow
from shelfcall.catalog.models import Product, Showcase, StockLevel
from shelfcall.catalog.queries import Availability, Fill, Offer, StoreFill, availability

MAX_BASKET_LINES = 100
MAX_LINE_QTY = 10_000


_ROW_COUNT = Field(min_length=1, max_length=MAX_ROWS)


def _documented_as(row: type[ProductRow | StockRow]) -> WithJsonSchema:
    return WithJsonSchema({"type": "array", "minItems": 1, "maxItems": MAX_ROWS, "items": row.model_json_schema()})


PRODUCT_ROW_EXAMPLE: JsonDict = {
    "sku": "SHV-S9P",
    "name": "Series 9 Pro shaver",
    "price": "299.99",
    "currency": "EUR",
    "upc": "4210201434412",
    "colour": "Black",
    "active": True,
}


class ProductsBulkIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"products": [PRODUCT_ROW_EXAMPLE]}]})

    products: Annotated[list[Any], _ROW_COUNT, _documented_as(ProductRow)]


class StockBulkIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "levels": [
                        {"sku": "SHV-S9P", "store": 1, "on_hand": 12},
                        {"sku": "SHV-S9P", "store": 2, "on_hand": 0},
                    ]
                }
            ]
        }
    )

    levels: Annotated[list[Any], _ROW_COUNT, _documented_as(StockRow)]


class ProductsBulkOut(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"created": 1200, "updated": 3800}]})

    created: int
    updated: int


class OversoldOut(Schema):
    sku: str
    store_id: int
    on_hand: int
    reserved: int = Field(description="Units held by open orders, more than the count you sent.")


class StockBulkOut(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "created": 2,
                    "updated": 4998,
                    "oversold": [{"sku": "SHV-S9P", "store_id": 1, "on_hand": 1, "reserved": 2}],
                }
            ]
        }
    )

    created: int
    updated: int
    oversold: list[OversoldOut] = Field(
        description="Levels now counting fewer units than open orders hold: available shows 0 there, and "
        "associates will find some of those orders short."
    )


class BasketLine(Schema):
    sku: str = Field(min_length=1, max_length=64, pattern=PRINTABLE)
    qty: int = Field(ge=1, le=MAX_LINE_QTY)


class Coordinates(Schema):
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lng: float = Field(ge=-180, le=180, allow_inf_nan=False)


class AvailabilityIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lines": [{"sku": "SHV-S9P", "qty": 2}, {"sku": "TB-500", "qty": 1}],
                    "near": {"lat": 48.85, "lng": 2.35},
                }
            ]
        }
    )

    lines: list[BasketLine] = Field(min_length=1, max_length=MAX_BASKET_LINES)
    near: Coordinates | None = Field(None, description="The shopper's location: nearest stores first.")


class LineAvailabilityOut(Schema):
    sku: str
    requested: int
    available: int = Field(description="Units this store could hand over now (on hand − held by orders).")


class StoreAvailabilityOut(Schema):
    store: StoreOut
    fill: Fill = Field(description="full: every line; partial: some units of some lines; none: nothing.")
    distance_km: float | None = Field(description="From `near`; null without it or without store coordinates.")
    lines: list[LineAvailabilityOut]

    @staticmethod
    def of(found: StoreFill) -> "StoreAvailabilityOut":
        return StoreAvailabilityOut(
            store=StoreOut.of(found.store),
            fill=found.fill,
            distance_km=None if found.distance_km is None else round(found.distance_km, 3),
            lines=[
                LineAvailabilityOut(sku=line.sku, requested=line.requested, available=line.available)
                for line in found.lines
            ],
        )


class AvailabilityOut(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "data": [
                        {
                            "store": STORE_EXAMPLE,
                            "fill": "partial",
                            "distance_km": 1.204,
                            "lines": [
                                {"sku": "SHV-S9P", "requested": 2, "available": 1},
                                {"sku": "TB-500", "requested": 1, "available": 4},
                            ],
                        }
                    ]
                }
            ]
        }
    )

    data: list[StoreAvailabilityOut]


class StockOut(Schema):
    store_id: int
    on_hand: int
    reserved: int = Field(description="Held by open orders.")
    available: int
    availability: Availability = Field(description="As the shopper pages show it ('few left' per the store).")

    @staticmethod
    def of(level: StockLevel) -> "StockOut":
        return StockOut(
            store_id=level.store_id,
            on_hand=level.on_hand,
            reserved=level.reserved,
            available=level.available,
            availability=availability(level.available, level.store),
        )


PRODUCT_EXAMPLE: JsonDict = {
    "id": 7,
    "sku": "SHV-S9P",
    "upc": "4210201434412",
    "name": "Series 9 Pro shaver",
    "size": "",
    "colour": "Black",
    "variant": "Black",
    "price": "299.99",
    "image_url": "",
    "location_hint": "Aisle 4",
    "active": True,
    "stock": [{"store_id": 1, "on_hand": 5, "reserved": 1, "available": 4, "availability": "in_stock"}],
}


class ProductOut(Schema):
    id: int
    sku: str
    upc: str
    name: str
    size: str
    colour: str
    variant: str = Field(description="Size and colour, as order lines show them.")
    price: Decimal = Field(description="In the currency of the organization's stores.")
    image_url: str
    location_hint: str
    active: bool
    stock: list[StockOut] = Field(description="Per store the key reaches that stocks it, by store id.")

    @staticmethod
    def of(product: Product) -> "ProductOut":
        return ProductOut(
            id=product.pk,
            sku=product.sku,
            upc=product.upc,
            name=product.name,
            size=product.size,
            colour=product.colour,
            variant=product.variant,
            price=product.price,
            image_url=product.image_url,
            location_hint=product.location_hint,
            active=product.active,
            stock=[StockOut.of(level) for level in product.stock_levels.all()],
        )


class ProductPage(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"data": [PRODUCT_EXAMPLE], "next_cursor": "WyJwcm9kdWN0cyI…", "has_more": True}]
        }
    )

    data: list[ProductOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one.")
    has_more: bool


class OfferOut(Schema):
    code: str = Field(description="The item's own code: its QR opens /p/<code>.")
    product_id: int
    sku: str
    name: str
    variant: str
    price: Decimal
    available: int
    availability: Availability

    @staticmethod
    def of(offer: Offer) -> "OfferOut":
        product = offer.product
        return OfferOut(
            code=offer.item_code,
            product_id=product.pk,
            sku=product.sku,
            name=product.name,
            variant=product.variant,
            price=product.price,
            available=offer.available,
            availability=offer.availability,
        )


class ShowcaseOut(Schema):
    id: int
    store_id: int
    name: str
    code: str = Field(description="The showcase's public code: its QR opens /s/<code>.")
    location_hint: str
    active: bool
    items: list[OfferOut] = Field(description="What shoppers may request from it now: active items and products.")

    @staticmethod
    def of(showcase: Showcase, offers: list[Offer]) -> "ShowcaseOut":
        return ShowcaseOut(
            id=showcase.pk,
            store_id=showcase.store_id,
            name=showcase.name,
            code=showcase.code,
            location_hint=showcase.location_hint,
            active=showcase.active,
            items=[OfferOut.of(offer) for offer in offers],
        )


SHOWCASE_EXAMPLE: JsonDict = {
    "id": 3,
    "store_id": 1,
    "name": "Shavers",
    "code": "SHAVE24X",
    "location_hint": "Aisle 4, locked case",
    "active": True,
    "items": [
        {
            "code": "K7QZP2MA",
            "product_id": 7,
            "sku": "SHV-S9P",
            "name": "Series 9 Pro shaver",
            "variant": "Black",
            "price": "299.99",
            "available": 4,
            "availability": "in_stock",
        }
    ],
}


class ShowcaseList(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"data": [SHOWCASE_EXAMPLE]}]})

    data: list[ShowcaseOut]
