"""Reads of the catalogue for the shopper pages and the API: a constant few queries, whatever the size."""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from shelfcall.catalog.errors import InvalidRows, RowError, duplicates
from shelfcall.catalog.models import Product, Showcase, ShowcaseItem, StockLevel
from shelfcall.orders.compiled import CompiledGet, CompiledList
from shelfcall.stores.models import Store

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class Availability(StrEnum):
    IN_STOCK = "in_stock"
    FEW_LEFT = "few_left"
    OUT_OF_STOCK = "out_of_stock"


def availability(available: int, store: Store) -> Availability:
    if available <= 0:
        return Availability.OUT_OF_STOCK
    if available <= store.low_stock_threshold:
        return Availability.FEW_LEFT
    return Availability.IN_STOCK


@dataclass(frozen=True)
class Offer:
    """A product as the shopper sees it on a showcase, right now."""

    item_code: str
    product: Product
    available: int
    availability: Availability


# Every shopper page reads its showcase and most its offers: compiled once per process (orders/compiled.py).
_SHOWCASE = CompiledGet(lambda code: Showcase.objects.select_related("store").filter(code=code), str)


def find_showcase(code: str) -> Showcase | None:
    """Any showcase with this code, enabled or not, with its store; None if the code is unknown."""
    return _SHOWCASE.first(code.upper()[:16])


class _Stock(TypedDict):
    on_hand: int
    reserved: int


def _offered_items(store_id: int | OuterRef) -> "QuerySet[WithAnnotations[ShowcaseItem, _Stock]]":
    """Items shoppers may request, with their product and the stock of `store_id` (a showcase's store)."""
    # The stubs take an int or an OuterRef for the lookup, not a union of the two.
    stock = StockLevel.objects.filter(store_id=store_id, product_id=OuterRef("product_id"))  # type: ignore[misc]
    return (
        ShowcaseItem.objects.filter(active=True, product__active=True)
        .select_related("product")
        .annotate(
            on_hand=Coalesce(Subquery(stock.values("on_hand")), 0, output_field=IntegerField()),
            reserved=Coalesce(Subquery(stock.values("reserved")), 0, output_field=IntegerField()),
        )
    )


def _offer(item: "WithAnnotations[ShowcaseItem, _Stock]", store: Store) -> Offer:
    available = max(item.on_hand - item.reserved, 0)
    return Offer(item.code, item.product, available, availability(available, store))


_OFFERED_ON = CompiledList(
    lambda store_id, showcase_id: _offered_items(store_id).filter(showcase_id=showcase_id), int, int
)


def list_offers(showcase: Showcase, product_ids: list[int] | None = None) -> list[Offer]:
    if product_ids is None:
        items = _OFFERED_ON.all(showcase.store_id, showcase.pk)
    else:
        items = list(_offered_items(showcase.store_id).filter(showcase=showcase, product_id__in=product_ids))
    return [_offer(item, showcase.store) for item in items]


def showcases_with_offers(showcases: QuerySet[Showcase]) -> list[tuple[Showcase, list[Offer]]]:
    """Each showcase with what it offers now, by store and name: two statements for any number of them."""
    items = Prefetch("items", queryset=_offered_items(OuterRef("showcase__store_id")), to_attr="offered")
    found = showcases.select_related("store").prefetch_related(items).order_by("store_id", "name", "pk")
    return [(showcase, [_offer(item, showcase.store) for item in showcase.offered]) for showcase in found]


def find_item(code: str) -> ShowcaseItem | None:
    return ShowcaseItem.objects.select_related("showcase__store", "product").filter(code=code.upper()[:16]).first()


def products_by_reference(
    organization_id: int, *, skus: Iterable[str] = (), barcodes: Iterable[str] = (), ids: Iterable[int] = ()
) -> QuerySet[Product]:
    """The organization's products that any of these SKUs, barcodes (UPC/EAN) or ids name, for an API
    order's lines. Inactive products are included: the order refuses them by name, as unavailable."""
    named = Q(sku__in=list(skus)) | Q(upc__in=list(barcodes)) | Q(pk__in=list(ids))
    return Product.objects.filter(named, organization_id=organization_id)


class Fill(StrEnum):
    FULL = "full"
    PARTIAL = "partial"
    NONE = "none"


@dataclass(frozen=True)
class LineAvailability:
    sku: str
    requested: int
    available: int


@dataclass(frozen=True)
class StoreFill:
    """What one store could hand over of a basket right now."""

    store: Store
    distance_km: float | None
    lines: list[LineAvailability]

    @property
    def fill(self) -> Fill:
        if all(line.available >= line.requested for line in self.lines):
            return Fill.FULL
        return Fill.PARTIAL if any(line.available for line in self.lines) else Fill.NONE


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float


_EARTH_RADIUS_KM = 6371.0088


def distance_km(a: Location, b: Location) -> float:
    """Great-circle distance (haversine): plenty for "which store is nearer", no GIS needed."""
    lat_a, lat_b = math.radians(a.latitude), math.radians(b.latitude)
    d_lat, d_lng = lat_b - lat_a, math.radians(b.longitude - a.longitude)
    h = math.sin(d_lat / 2) ** 2 + math.cos(lat_a) * math.cos(lat_b) * math.sin(d_lng / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _location_of(store: Store) -> Location | None:
    if store.latitude is None or store.longitude is None:
        return None
    return Location(float(store.latitude), float(store.longitude))


def basket_availability(
    stores: Iterable[Store], organization_id: int, lines: Sequence[tuple[str, int]], near: Location | None = None
) -> list[StoreFill]:
    """Per store, how much of each (SKU, quantity) line it has available: nearest first when `near` is given
    (stores without coordinates last), else by name. Three statements whatever the basket: the stores, the
    products, their levels. Inactive products are available nowhere. An unknown or repeated SKU is a row
    error of `lines`."""
    stores = list(stores)
    products = dict(
        Product.objects.filter(organization_id=organization_id, sku__in={sku for sku, _qty in lines}).values_list(
            "sku", "pk"
        )
    )
    unknown = [
        RowError(index, "sku", "unknown_sku", _("No product with this SKU."))
        for index, (sku, _qty) in enumerate(lines)
        if sku not in products
    ]
    if problems := unknown + duplicates([(index, sku) for index, (sku, _qty) in enumerate(lines)], "sku"):
        raise InvalidRows(problems, field="lines")
    available = {
        (level.store_id, level.product_id): level.available
        for level in StockLevel.objects.filter(
            store__in=[store.pk for store in stores], product_id__in=products.values(), product__active=True
        ).only("store_id", "product_id", "on_hand", "reserved")
    }
    fills: list[StoreFill] = []
    for store in stores:
        here = _location_of(store)
        wanted = [LineAvailability(sku, qty, available.get((store.pk, products[sku]), 0)) for sku, qty in lines]
        fills.append(StoreFill(store, distance_km(near, here) if near and here else None, wanted))
    return sorted(fills, key=lambda fill: (fill.distance_km is None, fill.distance_km or 0.0, fill.store.name))


def products_page(
    organization_id: int,
    levels_in_reach: Q,
    *,
    store_id: int | None = None,
    skus: Sequence[str] = (),
    active: bool | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[Product]:
    """The organization's products in id order, each with its levels in the stores of `levels_in_reach` (a
    filter on StockLevel): two statements for any page. With `store_id`, only what that store stocks."""
    levels = StockLevel.objects.filter(levels_in_reach).select_related("store").order_by("store_id")
    products = Product.objects.filter(organization_id=organization_id).order_by("pk")
    if store_id is not None:
        levels = levels.filter(store_id=store_id)
        products = products.filter(Exists(levels.filter(product_id=OuterRef("pk"))))
    if skus:
        products = products.filter(sku__in=skus)
    if active is not None:
        products = products.filter(active=active)
    if after_id is not None:
        products = products.filter(pk__gt=after_id)
    return list(products.prefetch_related(Prefetch("stock_levels", queryset=levels))[:limit])
