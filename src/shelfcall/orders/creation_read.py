"""What a new order reads before it writes, in one statement: the products its lines name, their stock at
the store that fills it, the order the same external id or showcase submission made already (if any)
and, for an API order, the stores it names.

One UNION ALL of JSON rows (orders/json_rows.py), compiled once per shape and process (orders/compiled.py).
Its lists of references are padded to the next power of two with their last value (a value twice in an
IN list matches what it matches once), so a handful of shapes serve every order; the few kept are bounded.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

from django.db.models import QuerySet
from django.db.models.functions import JSONObject

from shelfcall.catalog.models import Product, Showcase, StockLevel
from shelfcall.catalog.queries import products_by_reference
from shelfcall.orders.compiled import CompiledRows, padded
from shelfcall.orders.json_rows import instance, json_of, json_rows, json_rows_of, union_of
from shelfcall.orders.models import Order
from shelfcall.stores.models import Store

SAME_SUBMISSION = ("device_id", "submission_key")
SAME_EXTERNAL_ID = ("source", "external_id")


@dataclass(frozen=True)
class SameOrder:
    """What makes an order the same one again: two of its columns and their values, unique per store where
    the second is not blank (orders/models.py, order_submission_unique and order_external_unique)."""

    columns: tuple[str, str]
    values: tuple[str, str]

    @classmethod
    def submission(cls, device_id: str, submission_key: str) -> "SameOrder":
        return cls(SAME_SUBMISSION, (device_id, submission_key))

    @classmethod
    def external(cls, source: str, external_id: str) -> "SameOrder":
        return cls(SAME_EXTERNAL_ID, (source, external_id))


@dataclass(frozen=True)
class CreationRead:
    """What creating an order reads before it writes (`read_for_import`, `read_for_showcase`)."""

    stores: dict[int, Store]  # by id: the stores an API order names (a showcase order has its own)
    products: list[Product]  # those its lines name (inactive ones too; but a showcase's: its offers only)
    levels: dict[int, StockLevel]  # by product id, at the store that fills the order
    existing: Order | None  # the order the same submission or external id made already


def read_for_import(
    organization_id: int,
    store_ids: tuple[int, int],
    *,
    skus: Sequence[str] = (),
    barcodes: Sequence[str] = (),
    ids: Sequence[int] = (),
    same: SameOrder,
) -> CreationRead:
    """For an order that names its products itself (a till's, a webshop's): the organization's stores
    `store_ids`, the one taking the order and the one filling it (the second: its stock and orders are read),
    and the organization's products with these SKUs, barcodes (UPC/EAN) or ids, inactive ones too."""
    skus, barcodes, ids = padded(skus), padded(barcodes), padded(ids)
    statement = _import_read(len(skus), len(barcodes), len(ids), same.columns)
    return _read(statement.rows(organization_id, *store_ids, *skus, *barcodes, *ids, *same.values))


def read_for_showcase(showcase: Showcase, product_ids: Sequence[int], *, same: SameOrder) -> CreationRead:
    """For a showcase's order: its active items among `product_ids` (their products, active ones only) and
    their stock at its store."""
    ids = padded(product_ids)
    # The showcase, then the ids; an empty cart has no offers to read (and so no showcase in the statement),
    # only whether it was sent already: a second click on Send.
    offers = [showcase.pk, *ids] if ids else []
    statement = _showcase_read(len(offers), same.columns)
    return _read(statement.rows(showcase.store_id, *offers, *same.values))


def _split(sizes: Sequence[int], args: Sequence[Any]) -> list[list[Any]]:
    """`args` cut into lists of these sizes, and a last list of the rest."""
    parts, start = [], 0
    for size in sizes:
        parts.append(list(args[start : start + size]))
        start += size
    return [*parts, list(args[start:])]


# A shape: how many SKUs, barcodes and ids (each a power of two), and which columns make the same order.
@lru_cache(maxsize=32)
def _import_read(skus: int, barcodes: int, ids: int, same: tuple[str, str]) -> CompiledRows:
    kinds = (int, int, int, *[str] * (skus + barcodes), *[int] * ids, str, str)
    return CompiledRows(partial(_import_union, (skus, barcodes, ids), same), *kinds, model=Product)


@lru_cache(maxsize=16)
def _showcase_read(offers: int, same: tuple[str, str]) -> CompiledRows:
    return CompiledRows(partial(_showcase_union, offers, same), int, *[int] * offers, str, str, model=Product)


def _import_union(sizes: tuple[int, int, int], same: tuple[str, str], *args: Any) -> QuerySet:
    [organization_id, *store_ids], skus, barcodes, ids, values = _split((3, *sizes), args)
    stores = Store.objects.filter(organization_id=organization_id, pk__in=store_ids)
    products = products_by_reference(organization_id, skus=skus, barcodes=barcodes, ids=ids)
    store_rows = json_rows("store", stores, JSONObject(row=json_of(Store)))
    return union_of([store_rows, *_order_parts(products, store_ids[-1], same, values)])


def _showcase_union(offers: int, same: tuple[str, str], store_id: int, *args: Any) -> QuerySet:
    showcase_and_ids, values = _split((offers,), args)
    products = Product.objects.none()
    if showcase_and_ids:
        showcase_id, *ids = showcase_and_ids
        products = Product.objects.filter(
            pk__in=ids, active=True, showcase_items__showcase_id=showcase_id, showcase_items__active=True
        )
    return union_of(_order_parts(products, store_id, same, values))


def _order_parts(
    products: QuerySet[Product], store_id: int, same: tuple[str, str], values: Sequence[str]
) -> list[QuerySet]:
    """The products, their stock at `store_id`, and the order of `store_id` whose columns `same` have these
    `values` (none where the second is blank)."""
    levels = StockLevel.objects.filter(store_id=store_id, product__in=products.values("pk"))
    existing = Order.objects.filter(store_id=store_id, **dict(zip(same, values, strict=True))).exclude(**{same[1]: ""})
    return [
        json_rows("product", products, JSONObject(row=json_of(Product))),
        json_rows("level", levels, JSONObject(row=json_of(StockLevel))),
        json_rows("order", existing, JSONObject(row=json_of(Order))),
    ]


def _read(rows: list[tuple[Any, ...]]) -> CreationRead:
    stores, products, levels, existing = {}, [], {}, None
    for kind, data in json_rows_of(rows):
        if kind == "store":
            store = instance(Store, data["row"])
            stores[store.pk] = store
        elif kind == "product":
            products.append(instance(Product, data["row"]))
        elif kind == "level":
            level = instance(StockLevel, data["row"])
            levels[level.product_id] = level
        else:
            existing = instance(Order, data["row"])
    return CreationRead(stores, products, levels, existing)
