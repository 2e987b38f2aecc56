"""Reads of the catalogue for the shopper pages: one query each, whatever the number of products."""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from shelfcall.catalog.models import Product, Showcase, ShowcaseItem, StockLevel
from shelfcall.stores.models import Store


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


def find_showcase(code: str) -> Showcase | None:
    """Any showcase with this code, enabled or not, with its store; None if the code is unknown."""
    return Showcase.objects.select_related("store").filter(code=code.upper()[:16]).first()


def list_offers(showcase: Showcase, product_ids: list[int] | None = None) -> list[Offer]:
    stock = StockLevel.objects.filter(store_id=showcase.store_id, product_id=OuterRef("product_id"))
    items = (
        ShowcaseItem.objects.filter(showcase=showcase, active=True, product__active=True)
        .select_related("product")
        .annotate(
            on_hand=Coalesce(Subquery(stock.values("on_hand")), 0, output_field=IntegerField()),
            reserved=Coalesce(Subquery(stock.values("reserved")), 0, output_field=IntegerField()),
        )
    )
    if product_ids is not None:
        items = items.filter(product_id__in=product_ids)
    offers = []
    for item in items:
        available = max(item.on_hand - item.reserved, 0)
        offers.append(Offer(item.code, item.product, available, availability(available, showcase.store)))
    return offers


def find_item(code: str) -> ShowcaseItem | None:
    return ShowcaseItem.objects.select_related("showcase__store", "product").filter(code=code.upper()[:16]).first()


def list_products_by_reference(
    organization_id: int, *, skus: Iterable[str] = (), barcodes: Iterable[str] = (), ids: Iterable[int] = ()
) -> list[Product]:
    """The organization's products that any of these SKUs, barcodes (UPC/EAN) or ids name: one query, for an
    API order's lines. Inactive products are included: the order refuses them by name, as unavailable."""
    named = Q(sku__in=list(skus)) | Q(upc__in=list(barcodes)) | Q(pk__in=list(ids))
    return list(Product.objects.filter(named, organization_id=organization_id))
