"""What a POS or a webshop sends to create an order or change its lines, and how its lines become products.

Lines name a product by `sku`, `barcode` (UPC/EAN) or `product_id`, exactly one. Every refusal names the
field: `lines.2.sku` for an unknown SKU in the third line, `lines.2.qty` for a quantity the store cannot
hold, `customer.email` for an address that is not one."""

from collections.abc import Sequence
from typing import Literal, Self, TypedDict

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import ConfigDict, field_validator, model_validator
from pydantic.json_schema import JsonDict

from shelfcall.api.endpoints.orders import IsoDatetime
from shelfcall.api.errors import ApiError, InvalidInput
from shelfcall.catalog.models import Product
from shelfcall.catalog.queries import products_by_reference
from shelfcall.orders.actions import CartLine
from shelfcall.orders.creation_read import CreationRead, SameOrder, read_for_import
from shelfcall.orders.errors import CartProblems, LineProblem
from shelfcall.orders.models import DeliveryMethod
from shelfcall.stores.models import Store

# No control characters (PostgreSQL cannot even compare a string holding NUL); comments may have line breaks.
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
MULTILINE = r"^[^\x00-\x08\x0b-\x1f\x7f]*$"
MAX_LINES = 100
MAX_ID = 2_147_483_647  # the columns are 32-bit
# Units the store cannot hold: its own caps (max_line_qty) refuse more by name, this only bounds the input.
MAX_QTY = 9_999
# A line problem that is about stock (the store's state now) is a conflict; the rest is bad input.
_CONFLICTS = {"out_of_stock", "not_enough"}

LINE_EXAMPLE: JsonDict = {"sku": "SHV-S9P", "qty": 2}
CREATE_EXAMPLE: JsonDict = {
    "source": "pos",
    "external_id": "POS-3-000417",
    "lines": [LINE_EXAMPLE, {"barcode": "4006381333931", "qty": 1}],
    "delivery": "pickup_here",
    "comments": "Gift wrap, please.",
    "customer": {"name": "Kim", "phone": "+33 6 12 34 56 78", "email": "kim@example.com"},
}


class _Strict(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is refused, not silently ignored


class ProductRef(_Strict):
    sku: str | None = Field(None, min_length=1, max_length=64, pattern=PRINTABLE)
    barcode: str | None = Field(None, min_length=1, max_length=32, pattern=PRINTABLE)
    product_id: int | None = Field(None, ge=1, le=MAX_ID)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if sum(ref is not None for ref in (self.sku, self.barcode, self.product_id)) != 1:
            raise ValueError("give exactly one of sku, barcode or product_id")
        return self

    @property
    def key(self) -> str:
        """The field that names the product, for errors."""
        return "sku" if self.sku is not None else "barcode" if self.barcode is not None else "product_id"


class LineIn(ProductRef):
    model_config = ConfigDict(json_schema_extra={"examples": [LINE_EXAMPLE]})

    qty: int = Field(..., ge=1, le=MAX_QTY)


class CustomerIn(_Strict):
    # `default=` by name: the pydantic plugin does not see ninja Schemas, and dataclass_transform reads only that.
    name: str = Field(default="", max_length=80, pattern=PRINTABLE)
    phone: str = Field(default="", max_length=32, pattern=r"^[0-9+() ./-]*$")
    email: str = Field(default="", max_length=254, pattern=PRINTABLE)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        try:
            validate_email(value) if value else None
        except DjangoValidationError:
            raise ValueError("enter an email address, e.g. kim@example.com") from None
        return value


class CreateOrderIn(_Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [CREATE_EXAMPLE]})

    store: int | None = Field(
        None, ge=1, le=MAX_ID, description="The store taking the order; a store key may leave it out."
    )
    source: Literal["pos", "online"]
    external_id: str = Field(
        "",
        max_length=100,
        pattern=PRINTABLE,
        description="Your id for the order: the same (source, store, external_id) again gives back this order.",
    )
    lines: list[LineIn] = Field(..., min_length=1, max_length=MAX_LINES)
    delivery: DeliveryMethod = DeliveryMethod.PICKUP_HERE
    pickup_store: int | None = Field(
        None, ge=1, le=MAX_ID, description="With pickup_other_store: the store of your organization that hands it over."
    )
    comments: str = Field("", max_length=1000, pattern=MULTILINE)
    due_at: IsoDatetime | None = Field(
        None, description="When the shopper comes for it; default: the store's pick target."
    )
    currency: str | None = Field(
        None, min_length=3, max_length=3, pattern=r"^[A-Z]{3}$", description="If sent, the store's (ISO 4217)."
    )
    customer: CustomerIn = CustomerIn()


class AddLineIn(ProductRef):
    model_config = ConfigDict(json_schema_extra={"examples": [{"sku": "SHV-S9P", "qty": 1, "version": 913}]})

    qty: int = Field(..., ge=1, le=MAX_QTY)
    version: int | None = Field(None, ge=0, description="The order's version you read; or send If-Match.")


class ChangeLineIn(_Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"qty": 0, "version": 913}]})

    qty: int = Field(..., ge=0, le=MAX_QTY, description="The line's new quantity; 0 voids the line.")
    version: int | None = Field(None, ge=0, description="The order's version you read; or send If-Match.")


class LineRefused(ApiError):
    """One line of the request cannot be ordered as it is; the whole request was refused."""

    def __init__(self, code: str, message: str, field: str) -> None:
        self.code, self.status = code, 409 if code in _CONFLICTS else 422
        super().__init__(message, field=field)


class WrongCurrency(ApiError):
    code = "wrong_currency"
    status = 422
    field = "currency"

    def __init__(self, currency: str) -> None:
        super().__init__(_("This store sells in %(currency)s: send its prices in it.") % {"currency": currency})


def _where(index: int, key: str, in_list: bool) -> str:
    return f"lines.{index}.{key}" if in_list else key


class _Named(TypedDict):
    skus: list[str]
    barcodes: list[str]
    ids: list[int]


def _named(refs: Sequence[ProductRef]) -> _Named:
    return {
        "skus": [ref.sku for ref in refs if ref.sku is not None],
        "barcodes": [ref.barcode for ref in refs if ref.barcode is not None],
        "ids": [ref.product_id for ref in refs if ref.product_id is not None],
    }


def read_for_order(organization_id: int, store_ids: tuple[int, int], payload: CreateOrderIn) -> CreationRead:
    """What the new order needs read, in one statement (orders/creation_read.py): the stores (the one taking it,
    the one filling it), the products its lines name, their stock, the order its external id made already."""
    same = SameOrder.external(payload.source, payload.external_id)
    return read_for_import(organization_id, store_ids, **_named(payload.lines), same=same)


def resolve_lines(store: Store, refs: Sequence[ProductRef], *, in_list: bool = True) -> list[Product]:
    """The product each line names, in the store's organization, in one query; or LineRefused naming the
    line (`lines.2.sku`; `sku` alone for the one line of an edit, `in_list` False)."""
    return match_lines(list(products_by_reference(store.organization_id, **_named(refs))), refs, in_list=in_list)


def match_lines(products: Sequence[Product], refs: Sequence[ProductRef], *, in_list: bool = True) -> list[Product]:
    """The product each line names, among `products` (those the lines' references found); or LineRefused
    naming the line, as `resolve_lines`."""
    matches: dict[tuple[str, object], list[Product]] = {}
    for product in products:
        for key, value in (("sku", product.sku), ("barcode", product.upc), ("product_id", product.pk)):
            matches.setdefault((key, value), []).append(product)
    resolved = []
    for index, ref in enumerate(refs):
        found = matches.get((ref.key, getattr(ref, ref.key)), [])
        if not found:
            message = _("No product of this store's catalogue has this %(key)s.") % {"key": ref.key}
            raise LineRefused("unknown_product", message, _where(index, ref.key, in_list))
        if len(found) > 1:
            message = _("Several products have this barcode: name the product by its SKU.")
            raise LineRefused("ambiguous_barcode", message, _where(index, ref.key, in_list))
        resolved.append(found[0])
    return resolved


def refused_line(
    refused: CartProblems, products: Sequence[Product], refs: Sequence[ProductRef], *, in_list: bool = True
) -> ApiError:
    """The first problem of a refused order or edit, naming its line and field; the order as a whole
    (empty, too many units) is `lines` (`qty` for an edit)."""
    if not refused.problems:
        return InvalidInput(refused.message, field="lines" if in_list else "qty")
    problem: LineProblem = refused.problems[0]
    # The last line of that product: a duplicate is the second line naming it.
    index = max((i for i, product in enumerate(products) if product.pk == problem.product_id), default=0)
    key = refs[index].key if refs and problem.code in {"unavailable", "duplicate"} else "qty"
    return LineRefused(problem.code, problem.message, _where(index, key, in_list))


def cart_lines(products: Sequence[Product], lines: Sequence[LineIn]) -> list[CartLine]:
    return [CartLine(product.pk, line.qty) for product, line in zip(products, lines, strict=True)]
