"""Payments for tills and self-checkouts: the order's list, a deposit or part, the balance, a refund."""

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Field as F
from ninja import Router, Schema, Status
from pydantic import BeforeValidator, ConfigDict, WithJsonSchema

from shelfcall.api import auth, queries
from shelfcall.api.auth import ApiRequest
from shelfcall.api.endpoints.orders import READ_ERRORS
from shelfcall.api.errors import NotFound
from shelfcall.api.idempotency import idempotent
from shelfcall.api.responses import ErrorOut
from shelfcall.api.schemas import OrderOut, PaymentList, PaymentOut, ReceiptOut
from shelfcall.orders import actions
from shelfcall.orders.errors import OrderNotFound
from shelfcall.orders.events import Actor
from shelfcall.orders.models import PaymentMethod

router = Router(tags=["payments"])

# 409: the order was cancelled or expired (wrong_status), or the Idempotency-Key's first request still runs.
WRITE_ERRORS = {**READ_ERRORS, 409: ErrorOut}
WRITE_CODES = """
Refusals: `nothing_owed` (422, the order is paid), `overpayment` (422, `amount` above what is owed; the
message says how much is), `invalid_amount` / `invalid` (422, `amount`), `wrong_currency` (422, `currency`),
`wrong_status` (409, the order was cancelled or expired), `not_found` (404, also another store's order).
Send `Idempotency-Key`: a retry gets the first response."""

# ASCII digits, a point and at most two places: no floats, signs, exponents or other scripts' digits.
_AMOUNT = re.compile(r"[0-9]{1,10}(?:\.[0-9]{1,2})?", re.ASCII)


def _amount(value: object) -> Decimal:
    if not isinstance(value, str) or not _AMOUNT.fullmatch(value):
        raise ValueError('give a decimal string with at most two decimal places, e.g. "12.50"')
    return Decimal(value)


Amount = Annotated[
    Decimal,
    BeforeValidator(_amount),
    WithJsonSchema({"type": "string", "pattern": rf"^{_AMOUNT.pattern}$", "examples": ["12.50"]}),
]
Reference = Annotated[str, F("", max_length=120, pattern=r"^[^\x00-\x1f\x7f]*$", examples=["till-3/8812"])]


class MarkPaidIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"method": "card", "reference": "till-3/8812"}]})

    method: PaymentMethod
    reference: Reference = ""


class PaymentIn(MarkPaidIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"amount": "50.00", "currency": "EUR", "method": "cash", "reference": "till-3/8813"}]
        }
    )

    amount: Amount = F(description='In the order\'s currency, e.g. "12.50"; at most what is owed.')
    currency: str | None = F(
        None, pattern=r"^[A-Z]{3}$", description="ISO 4217; when sent, it must be the order's currency."
    )


class RefundIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"method": "card", "reference": "refund-88"}, {}]})

    amount: Amount | None = F(None, description="At most the refund due; leave it out to settle all that is due.")
    method: PaymentMethod = PaymentMethod.OTHER
    reference: Reference = ""


def _settle(
    request: ApiRequest, order_id: int, action: Callable[..., actions.Receipt], payload: Schema
) -> Status[ReceiptOut]:
    """Run the payment action on an order the key reaches; 201 with the row and the order as it is now.

    The payload's fields are the action's keyword arguments, by name. The action's read of the order under
    its lock, narrowed to the orders the key reaches, is the key's look-up too: another store's order is the same 404
    as one that does not exist; the order's lines come with it. The order's version is the payment's event,
    as the action recorded it."""
    api_key = request.auth
    try:
        receipt = action(
            order_id, by=Actor.api(api_key.name), within=queries.reached(api_key), with_lines=True, **dict(payload)
        )
    except OrderNotFound:
        raise NotFound(_("No order with this id.")) from None
    return Status(201, ReceiptOut(payment=PaymentOut.of(receipt.payment), order=OrderOut.of(receipt.order)))


@router.get(
    "/orders/{order_id}/payments",
    response={200: PaymentList, **READ_ERRORS},
    auth=auth.ORDERS_READ,
    summary="List an order's payments and refunds",
)
def list_payments(request: ApiRequest, order_id: int) -> dict[str, list[PaymentOut]]:
    """Every deposit, part payment, balance and refund, oldest first. The order's `paid`, `refunded`, `owed`
    and `refund_due` are their sums."""
    return {"data": [PaymentOut.of(payment) for payment in queries.payments_of(request.auth, order_id)]}


@router.post(
    "/orders/{order_id}/payments",
    response={201: ReceiptOut, **WRITE_ERRORS},
    auth=auth.PAYMENTS_WRITE,
    summary="Record a payment: a deposit, a part or the rest",
    description="Records money taken for the order, up to what is owed; the order becomes `partially_paid` "
    "until nothing is owed, then `paid`. Two tills paying the last balance at once: one wins, the other gets "
    "`overpayment` or `nothing_owed`." + WRITE_CODES,
)
@idempotent
def record_payment(request: ApiRequest, order_id: int, payload: PaymentIn) -> Status[ReceiptOut]:
    return _settle(request, order_id, actions.record_payment, payload)


@router.post(
    "/orders/{order_id}/mark-paid",
    response={201: ReceiptOut, **WRITE_ERRORS},
    auth=auth.PAYMENTS_WRITE,
    summary="Pay what is still owed",
    description="Records one payment of exactly what is owed now, so the till need not send the amount; "
    "refused with `nothing_owed` when nothing is." + WRITE_CODES,
)
@idempotent
def mark_paid(request: ApiRequest, order_id: int, payload: MarkPaidIn) -> Status[ReceiptOut]:
    return _settle(request, order_id, actions.mark_paid, payload)


@router.post(
    "/orders/{order_id}/refunds",
    response={201: ReceiptOut, **WRITE_ERRORS},
    auth=auth.PAYMENTS_WRITE,
    summary="Settle (part of) the refund due",
    description="After short picks, turned-down items or a cancelled paid order the order shows `refund_due`; "
    "this records money given back, at most what is due (`nothing_to_refund`, 422, `amount`, says how much "
    "is)." + WRITE_CODES,
)
@idempotent
def refund(request: ApiRequest, order_id: int, payload: RefundIn) -> Status[ReceiptOut]:
    return _settle(request, order_id, actions.refund_order, payload)
