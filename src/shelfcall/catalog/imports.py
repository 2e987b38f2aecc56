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
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from django.db import connection, transaction
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StrictBool, StrictInt, StrictStr, WithJsonSchema
from pydantic import ValidationError as RowValidationError

from shelfcall.catalog import bulk
from shelfcall.catalog.errors import InvalidRows, RowError, duplicates
from shelfcall.catalog.models import Product, StockLevel
from shelfcall.catalog.stock import MAX_ON_HAND, set_on_hand_of_levels
from shelfcall.stores.models import Store

MAX_ROWS = 5000
MAX_PRICE_DIGITS = 8  # before the point: the column holds 10 digits, 2 of them decimals
# Above this many SKUs a look-up reads the organization's whole catalogue instead of a list of SKUs
# (SQLite takes at most 32,766 parameters a statement, and a 100,000-row file has 100,000 SKUs).
_SKU_LIST_LIMIT = 2000

# No control characters: PostgreSQL cannot even compare a string holding NUL, and none belong in a catalogue.
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
# What the price column holds (10 digits, 2 of them decimals), written the one way money is written.
_PRICE = re.compile(rf"(0|[1-9][0-9]{{0,{MAX_PRICE_DIGITS - 1}}})(\.[0-9]{{1,2}})?", re.ASCII)


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


# Their PostgreSQL types, where not text (bulk.upsert).
_SQL_TYPES = {"price": "numeric", "active": "boolean"}
# What a product row may change; `currency` is only checked.
PRODUCT_FIELDS = ("name", "price", "upc", "size", "colour", "image_url", "location_hint", "active")


RowT = TypeVar("RowT", bound=BaseModel)


def parse_rows(model: type[RowT], raw_rows: Iterable[Any]) -> tuple[list[tuple[int, RowT]], list[RowError]]:
    """Each row checked on its own: the rows that parse, with their index, and every problem of the others."""
    parsed: list[tuple[int, RowT]] = []
    errors: list[RowError] = []
    for index, raw in enumerate(raw_rows):
        try:
            parsed.append((index, model.model_validate(raw)))
        except RowValidationError as invalid:
            errors += row_errors(index, invalid)
    return parsed, errors


def row_errors(index: int, invalid: RowValidationError) -> list[RowError]:
    """Each problem pydantic found in the row, as a row error."""
    return [_row_error(index, problem) for problem in invalid.errors()]


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


def product_problems(organization_id: int, rows: Sequence[tuple[int, ProductRow]]) -> list[RowError]:
    """What is wrong with the rows together: a SKU sent twice, a currency the stores do not use."""
    currencies = set(Store.objects.filter(organization_id=organization_id).values_list("currency", flat=True))
    problems = duplicates([(index, row.sku) for index, row in rows], "sku")
    problems += [
        RowError(index, "currency", "currency_mismatch", _currency_message(currencies))
        for index, row in rows
        if row.currency is not None and currencies and currencies != {row.currency}
    ]
    return problems


def upsert_products(
    organization_id: int, rows: Sequence[tuple[int, ProductRow]], errors: Sequence[RowError] = ()
) -> UpsertResult:
    """Create or update the organization's products by SKU; `errors` are problems found earlier (parse_rows),
    which refuse the call too."""
    problems = [*errors, *product_problems(organization_id, rows)]
    if problems:
        raise InvalidRows(problems, field="products")
    with transaction.atomic():
        existing = len(product_ids(organization_id, [row.sku for _index, row in rows]))
        write_products(organization_id, [row for _index, row in rows])
    return UpsertResult(created=len(rows) - existing, updated=existing)


def product_ids(organization_id: int, skus: Collection[str]) -> dict[str, int]:
    """The organization's products among `skus`, by SKU: one statement, whatever the number of SKUs."""
    products = Product.objects.filter(organization_id=organization_id)
    if len(skus) <= _SKU_LIST_LIMIT:
        return dict(products.filter(sku__in=skus).values_list("sku", "pk"))
    wanted = set(skus)
    return {sku: pk for sku, pk in products.values_list("sku", "pk").iterator(chunk_size=10_000) if sku in wanted}


_PRODUCT_TABLE = Product._meta.db_table
_PRODUCT_COLUMNS = (
    ("organization_id", "bigint"),
    ("sku", "text"),
    *((name, _SQL_TYPES.get(name, "text")) for name in PRODUCT_FIELDS),
)


def write_products(organization_id: int, rows: Sequence[ProductRow]) -> dict[str, int]:
    """Create or update products by SKU, the rows checked already (product_problems): one
    `INSERT … ON CONFLICT DO UPDATE` a batch and set of fields sent (usually one), so what a row leaves
    out keeps its value (new products get the defaults). The products' ids, by SKU."""
    by_fields: dict[tuple[str, ...], list[ProductRow]] = defaultdict(list)
    for row in sorted(rows, key=lambda row: row.sku):  # one lock order for concurrent calls
        by_fields[tuple(name for name in PRODUCT_FIELDS if name in row.model_fields_set)].append(row)
    ids: dict[str, int] = {}
    for sent, group in by_fields.items():
        quoted = [connection.ops.quote_name(name) for name in sent or ("sku",)]
        # Nothing sent to change: `sku = sku` still returns the existing product's id.
        update = ", ".join(f"{name} = excluded.{name}" for name in quoted)
        values = [(organization_id, row.sku, *(getattr(row, name) for name in PRODUCT_FIELDS)) for row in group]
        tail = f"ON CONFLICT (organization_id, sku) DO UPDATE SET {update} RETURNING sku, id"
        ids.update(bulk.upsert(_PRODUCT_TABLE, _PRODUCT_COLUMNS, values, tail=tail))
    return ids


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
        levels = StockLevel.objects.filter(store_id__in={w.store_id for w in writes})
        if len(writes) <= _SKU_LIST_LIMIT:
            levels = levels.filter(product_id__in={w.product_id for w in writes})
        known = {
            (store_id, product_id): pk
            for store_id, product_id, pk in levels.values_list("store_id", "product_id", "pk").iterator(
                chunk_size=10_000
            )
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
    ids = product_ids(organization_id, {row.sku for _index, row in rows})
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
        elif row.sku not in ids:
            problems.append(
                RowError(
                    index,
                    "sku",
                    "unknown_sku",
                    _("No product with this SKU: send it to POST /api/v1/products/bulk first."),
                )
            )
        else:
            writes.append(_LevelWrite(index, store_id, ids[row.sku], row))
    return writes, problems
