"""Bulk upserts of the catalogue from a retailer's systems: products, and stock levels per store.

A call is checked whole before anything is written: every row's problems are reported together
(`InvalidRows`), and either every row is applied, in one transaction, or none is. Writes are
`INSERT … ON CONFLICT DO UPDATE` in batches, so thousands of rows cost a handful of statements.

Stock: `on_hand` is the retailer's count and is taken as sent, written through catalog/stock.py, which
never writes `reserved` (units held by open orders); a count below what is held is reported back as
oversold, so the sender knows.
"""

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from django.db import transaction
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StrictBool, StrictInt, StrictStr, WithJsonSchema
from pydantic import ValidationError as RowValidationError

from shelfcall.catalog.errors import InvalidRows, RowError, duplicates
from shelfcall.catalog.models import Product, StockLevel
from shelfcall.catalog.stock import MAX_ON_HAND, set_on_hand_of_levels
from shelfcall.stores.models import Store

MAX_ROWS = 5000

# No control characters: PostgreSQL cannot even compare a string holding NUL, and none belong in a catalogue.
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
# What the price column holds (10 digits, 2 of them decimals), written the one way money is written.
_PRICE = re.compile(r"(0|[1-9][0-9]{0,7})(\.[0-9]{1,2})?", re.ASCII)


def _price(value: object) -> Decimal:
    """A decimal string only: a float (19.99) or an exponent ("1e3") is how cents go missing."""
    if not isinstance(value, str) or not _PRICE.fullmatch(value):
        raise ValueError(_('use a decimal string with at most 2 decimals and no sign, e.g. "12.50"'))
    return Decimal(value)


Price = Annotated[
    Decimal,
    PlainValidator(_price),
    WithJsonSchema({"type": "string", "pattern": rf"^{_PRICE.pattern}$", "examples": ["12.50"]}),
]
Text = Annotated[StrictStr, Field(pattern=PRINTABLE)]


class ProductRow(BaseModel):
    """A product of the organization, by SKU. Fields left out keep their value (new products get the
    defaults); `sku`, `name` and `price` are always sent."""

    model_config = ConfigDict(extra="forbid", title="ProductRow")

    sku: Text = Field(min_length=1, max_length=64)
    name: Text = Field(min_length=1, max_length=200)
    price: Price
    currency: StrictStr | None = Field(
        None, pattern=r"^[A-Z]{3}$", description="Checked against the stores' currency; the price is in it."
    )
    upc: StrictStr = Field("", pattern=r"^[0-9]*$", max_length=32, description="UPC or EAN barcode, digits.")
    size: Text = Field("", max_length=60)
    colour: Text = Field("", max_length=60)
    image_url: Text = Field("", max_length=500)
    location_hint: Text = Field("", max_length=120, description="Where associates find it, e.g. 'Aisle 4'.")
    active: StrictBool = True


class StockRow(BaseModel):
    """Units on hand of one product (by SKU) in one store."""

    model_config = ConfigDict(extra="forbid", title="StockRow")

    sku: Text = Field(min_length=1, max_length=64)
    store: StrictInt | None = Field(None, description="The store's id; a store key may leave it out.")
    on_hand: StrictInt = Field(ge=0, le=MAX_ON_HAND, description="The count of your system, held units included.")


# What a product row may change; `currency` is only checked.
_PRODUCT_FIELDS = ("name", "price", "upc", "size", "colour", "image_url", "location_hint", "active")


RowT = TypeVar("RowT", bound=BaseModel)


def parse_rows(model: type[RowT], raw_rows: Iterable[Any]) -> tuple[list[tuple[int, RowT]], list[RowError]]:
    """Each row checked on its own: the rows that parse, with their index, and every problem of the others."""
    parsed: list[tuple[int, RowT]] = []
    errors: list[RowError] = []
    for index, raw in enumerate(raw_rows):
        try:
            parsed.append((index, model.model_validate(raw)))
        except RowValidationError as invalid:
            errors += [_row_error(index, problem) for problem in invalid.errors()]
    return parsed, errors


def _row_error(index: int, problem: Any) -> RowError:
    field = ".".join(str(part) for part in problem["loc"]) or None
    code = "unknown_field" if problem["type"] == "extra_forbidden" else "invalid"
    message = str(problem["msg"]).removeprefix("Value error, ")
    return RowError(index, field, code, message)


@dataclass(frozen=True)
class UpsertResult:
    created: int
    updated: int


@dataclass(frozen=True)
class OversoldLevel:
    sku: str
    store_id: int
    on_hand: int
    reserved: int


@dataclass(frozen=True)
class StockResult(UpsertResult):
    oversold: list[OversoldLevel]


def _currency_message(currencies: set[str]) -> str:
    if len(currencies) > 1:
        return _("This organization's stores use several currencies (%(currencies)s): leave currency out.") % {
            "currencies": ", ".join(sorted(currencies))
        }
    return _("Prices here are in %(currency)s: send that, or leave currency out.") % {
        "currency": next(iter(currencies))
    }


def upsert_products(
    organization_id: int, rows: Sequence[tuple[int, ProductRow]], errors: Sequence[RowError] = ()
) -> UpsertResult:
    """Create or update the organization's products by SKU; `errors` are problems found earlier (parse_rows),
    which refuse the call too."""
    currencies = set(Store.objects.filter(organization_id=organization_id).values_list("currency", flat=True))
    problems = [*errors, *duplicates([(index, row.sku) for index, row in rows], "sku")]
    problems += [
        RowError(index, "currency", "currency_mismatch", _currency_message(currencies))
        for index, row in rows
        if row.currency is not None and currencies and currencies != {row.currency}
    ]
    if problems:
        raise InvalidRows(problems, field="products")
    skus = [row.sku for _index, row in rows]
    with transaction.atomic():
        existing = Product.objects.filter(organization_id=organization_id, sku__in=skus).count()
        # One statement per set of fields sent (usually one), so what a row leaves out keeps its value.
        by_fields: dict[tuple[str, ...], list[Product]] = defaultdict(list)
        for _index, row in sorted(rows, key=lambda item: item[1].sku):  # one lock order for concurrent calls
            sent = tuple(name for name in _PRODUCT_FIELDS if name in row.model_fields_set)
            values = {name: getattr(row, name) for name in _PRODUCT_FIELDS}
            by_fields[sent].append(Product(organization_id=organization_id, sku=row.sku, **values))
        for sent, products in by_fields.items():
            Product.objects.bulk_create(
                products, update_conflicts=True, unique_fields=["organization", "sku"], update_fields=list(sent)
            )
    return UpsertResult(created=len(rows) - existing, updated=existing)


@dataclass(frozen=True)
class _LevelWrite:
    index: int
    store_id: int
    product_id: int
    row: StockRow

    @property
    def key(self) -> tuple[int, int]:
        return (self.store_id, self.product_id)


def upsert_stock(
    organization_id: int,
    rows: Sequence[tuple[int, StockRow]],
    errors: Sequence[RowError] = (),
    *,
    only_store_id: int | None = None,
) -> StockResult:
    """Set on-hand counts by (store, SKU). `only_store_id`: a store's own system, which may write its store
    only (and may leave `store` out); otherwise any store of the organization. Another organization's store
    is a row error, like an unknown one: never a write."""
    writes, problems = _resolve_levels(organization_id, rows, only_store_id)
    problems = [*errors, *problems, *duplicates([(w.index, w.key) for w in writes], "sku")]
    if problems:
        raise InvalidRows(problems, field="levels")
    with transaction.atomic():
        known = {
            (store_id, product_id): pk
            for store_id, product_id, pk in StockLevel.objects.filter(
                store_id__in={w.store_id for w in writes}, product_id__in={w.product_id for w in writes}
            ).values_list("store_id", "product_id", "pk")
        }
        counts = set_on_hand_of_levels(
            StockLevel(pk=known.get(w.key), store_id=w.store_id, product_id=w.product_id, on_hand=w.row.on_hand)
            for w in writes
        )
    oversold = [
        OversoldLevel(w.row.sku, w.store_id, counts[w.key].on_hand, counts[w.key].reserved)
        for w in sorted(writes, key=lambda w: w.index)
        if counts[w.key].oversold
    ]
    updated = sum(w.key in known for w in writes)
    return StockResult(created=len(writes) - updated, updated=updated, oversold=oversold)


def _resolve_levels(
    organization_id: int, rows: Sequence[tuple[int, StockRow]], only_store_id: int | None
) -> tuple[list[_LevelWrite], list[RowError]]:
    """Each row's store and product, or why it has none: two statements for any number of rows."""
    stores = Store.objects.filter(organization_id=organization_id)
    if only_store_id is not None:
        stores = stores.filter(pk=only_store_id)
    store_ids = set(stores.values_list("pk", flat=True))
    skus = {row.sku for _index, row in rows}
    product_ids = dict(Product.objects.filter(organization_id=organization_id, sku__in=skus).values_list("sku", "pk"))
    writes: list[_LevelWrite] = []
    problems: list[RowError] = []
    for index, row in rows:
        store_id = row.store if row.store is not None else only_store_id
        if store_id is None:
            problems.append(
                RowError(index, "store", "missing", _("Name the store (its id): this key is for a whole organization."))
            )
        elif store_id not in store_ids:
            problems.append(
                RowError(index, "store", "unknown_store", _("No such store for this key: see GET /api/v1/stores."))
            )
        elif row.sku not in product_ids:
            problems.append(
                RowError(
                    index,
                    "sku",
                    "unknown_sku",
                    _("No product with this SKU: send it to POST /api/v1/products/bulk first."),
                )
            )
        else:
            writes.append(_LevelWrite(index, store_id, product_ids[row.sku], row))
    return writes, problems
