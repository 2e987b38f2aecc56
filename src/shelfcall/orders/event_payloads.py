"""What each event type's payload holds: the public contract of the events feed and of webhooks.

`orders.events.PAYLOADS` maps each EventType to its model here; `record` validates every payload
against it before writing, and stores the model's JSON (so what is stored is what is documented).
Canonical shape: every field is always present (`drop_zone_id` is null when staged at a place in free
text, never missing); amounts are decimal strings with two places ("12.50"), as the API gives them.

Models are strict and closed (EventPayload): a payload that does not fit is a programming error,
refused before anything is written. Each model's docstring says when the event happens (the API
documents it), and its example is checked by the tests.
"""

from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shelfcall.orders.models import OrderSource

CENT = Decimal("0.01")
Amount = Annotated[
    str,
    Field(pattern=r"^\d+\.\d{2}$", description="A decimal string in the order's currency.", examples=["12.50"]),
]
CheckInMode = Literal["in_store", "curbside"]


def as_amount(value: Decimal) -> str:
    """An amount as payloads state it: Decimal("5") → "5.00"."""
    return str(value.quantize(CENT))


_CREATED_LINE = {"line_id": 7, "sku": "SHV-S9P", "name": "Series 9 Pro shaver", "variant": "", "qty": 2}


def _with_example(schema: dict[str, Any], model: type["EventPayload"]) -> None:
    schema["examples"] = [model.example]


class EventPayload(BaseModel):
    """Strict (an int is an int, not "3" nor True), closed (unknown keys are refused), with an example."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, json_schema_extra=_with_example)
    example: ClassVar[dict[str, Any]]


class CreatedLine(EventPayload):
    """A line of the new order."""

    example = _CREATED_LINE

    line_id: int = Field(description="The order line (`id` in the order's `lines`).")
    sku: str = Field(description="The product's SKU.")
    name: str = Field(description="The product's name when ordered.")
    variant: str = Field(description="Empty when the product has no variant.")
    qty: int = Field(ge=1, description="Units requested.")


class CreatedPayload(EventPayload):
    """An order was placed: its source and the lines it requests (their stock is now held)."""

    example = {"source": "showcase", "lines": [_CREATED_LINE]}

    source: OrderSource = Field(strict=False, description="Where the order came from.")
    lines: list[CreatedLine] = Field(description="What the order requests, line by line.")


class ClaimedPayload(EventPayload):
    """Picking started: by an associate, or by a store system (API) that named none."""

    example = {"assignee_id": 3, "assignee_name": "Alex"}

    assignee_id: int | None = Field(description="The associate's user id; null when a store system claimed it.")
    assignee_name: str = Field(description="The associate's display name; empty when no associate was named.")


class UnclaimedPayload(EventPayload):
    """The order went back to the queue; units already picked stay picked."""

    example = {"previous_assignee_name": "Alex"}

    previous_assignee_name: str = Field(description="Who was picking it.")


class ReassignedPayload(EventPayload):
    """A supervisor handed the order to another associate."""

    example = {"assignee_id": 4, "assignee_name": "Sam", "previous_assignee_name": "Alex"}

    assignee_id: int = Field(description="The new associate's user id.")
    assignee_name: str = Field(description="The new associate's display name.")
    previous_assignee_name: str = Field(description="Who held it before; empty if nobody did.")


class CheckedInPayload(EventPayload):
    """The shopper said they have arrived (again, when the details changed)."""

    example = {"mode": "curbside", "note": "Blue van, bay 4"}

    mode: CheckInMode = Field(description="In the store, or outside in a car.")
    note: str = Field(description="Where the shopper is (required curbside); may be empty in store.")


class EscalatedPayload(EventPayload):
    """Nobody has started picking in time: the order rose one escalation level."""

    example = {"level": 1, "waited_minutes": 12}

    level: int = Field(ge=1, description="The escalation level now reached, from 1.")
    waited_minutes: int = Field(ge=0, description="Whole minutes since the order was placed.")


class RemindedPayload(EventPayload):
    """The shopper was reminded that the order waits for them."""

    example = {"kind": "reminder"}

    kind: Literal["reminder", "expiry_warning"] = Field(
        description="`expiry_warning`: the last reminder before the order expires."
    )


class MessageResentPayload(EventPayload):
    """An associate (or customer service) sent the shopper's message again."""

    example = {"purpose": "ready", "via": None}

    purpose: Literal["ready", "status"] = Field(
        description="Which message: `ready` (ready for pickup) or `status` (the link to the order's status page)."
    )
    via: Literal["sms", "email"] | None = Field(
        default=None, description="Only by SMS or only by email; null: every contact the order has."
    )


class PickingPayload(EventPayload):
    """Units of a line were picked."""

    example = {"line_id": 7, "sku": "SHV-S9P", "qty": 1, "picked_qty": 1}

    line_id: int = Field(description="The order line (`id` in the order's `lines`).")
    sku: str = Field(description="The product's SKU.")
    qty: int = Field(ge=1, description="Units picked by this action.")
    picked_qty: int = Field(ge=1, description="Units of the line picked so far.")


class LineNotFoundPayload(EventPayload):
    """Units of a line were not on the shelf: the order shrinks and their stock is released."""

    example = {"line_id": 7, "sku": "SHV-S9P", "qty": 1, "short_qty": 1}

    line_id: int = Field(description="The order line (`id` in the order's `lines`).")
    sku: str = Field(description="The product's SKU.")
    qty: int = Field(ge=1, description="Units marked not found by this action.")
    short_qty: int = Field(ge=1, description="Units of the line not found so far.")


class FulfilledPayload(EventPayload):
    """The order is picked and staged: ready for pickup (the shopper is told)."""

    example = {"location": "Customer Service desk", "drop_zone_id": 1}

    location: str = Field(description="Where it waits: the drop zone's name and/or a note.")
    drop_zone_id: int | None = Field(description="The drop zone; null when staged at a place in free text.")


class RestagedPayload(EventPayload):
    """A ready order was moved to another place."""

    example = {"location": "Locker 3", "drop_zone_id": 2, "previous_location": "Customer Service desk"}

    location: str = Field(description="Where it waits now.")
    drop_zone_id: int | None = Field(description="The drop zone; null when staged at a place in free text.")
    previous_location: str = Field(description="Where it waited before.")


class PaidPayload(EventPayload):
    """A payment was recorded: a deposit, a part of what is owed, or the rest."""

    example = {"amount": "50.00", "method": "card", "reference": "POS-7781", "paid_total": "50.00", "owed": "249.99"}

    amount: Amount = Field(description="The amount taken by this payment (a deposit, a part or the rest).")
    method: str = Field(description="How: cash, card, gift_card or other.")
    reference: str = Field(description="The till's or payment provider's reference; may be empty.")
    paid_total: Amount = Field(description="All paid on the order so far, this payment included.")
    owed: Amount = Field(description="What is still owed after this payment; 0.00 when fully paid.")


class RefundDuePayload(EventPayload):
    """The order was paid for more than it is now worth (items not found or rejected, or cancelled)."""

    example = {"amount": "20.00"}

    amount: Amount = Field(description="The total refund now due.")


class RefundedPayload(EventPayload):
    """(Part of) the refund due was paid back to the shopper."""

    example = {
        "amount": "20.00",
        "method": "card",
        "reference": "REF-118",
        "refunded_total": "20.00",
        "refund_due": "0.00",
    }

    amount: Amount = Field(description="The amount refunded by this action.")
    method: str = Field(description="How: cash, card, gift_card or other.")
    reference: str = Field(description="The till's or payment provider's reference; may be empty.")
    refunded_total: Amount = Field(description="All refunded on the order so far, this refund included.")
    refund_due: Amount = Field(description="What is still due back after this refund.")


class AcceptedLine(EventPayload):
    """A line as handed over."""

    example = {"line_id": 7, "qty": 1}

    line_id: int = Field(description="The order line (`id` in the order's `lines`).")
    qty: int = Field(ge=0, description="Units the shopper took.")


class RejectedLine(EventPayload):
    """Units of a line the shopper turned down at hand-off."""

    example = {"line_id": 7, "qty": 1, "reason": "damaged"}

    line_id: int = Field(description="The order line (`id` in the order's `lines`).")
    qty: int = Field(ge=1, description="Units the shopper turned down.")
    reason: str = Field(description="The reason's code, as in the line's `reject_reason` (e.g. damaged).")


class CompletedPayload(EventPayload):
    """The order was handed over to the shopper (picked up): accepted units leave the stock."""

    example = {
        "accepted": [{"line_id": 7, "qty": 1}],
        "rejected": [{"line_id": 7, "qty": 1, "reason": "damaged"}],
        "collected_by": "",
    }

    accepted: list[AcceptedLine] = Field(description="Every line, with the units taken.")
    rejected: list[RejectedLine] = Field(description="Each rejection at hand-off; empty when none.")
    collected_by: str = Field(description="Who collected it when not the shopper; empty otherwise.")


class CancelledPayload(EventPayload):
    """The order was cancelled (by the shopper, staff, the API, or because nothing could be found)."""

    example = {"reason": "Cancelled by the shopper."}

    reason: str = Field(description="Why, in words; may be empty.")


class ExpiredPayload(EventPayload):
    """Nobody claimed or collected the order in time: it expired and its stock went back."""

    example = {"reason": "Nobody collected it in time."}

    reason: str = Field(description="Why, in words.")


class LineChange(EventPayload):
    """One line's quantity before and after the change; `to_qty` 0 means the line was voided."""

    example = {"line_id": 7, "sku": "SHV-S9P", "name": "Series 9 Pro shaver", "variant": "", "from_qty": 1, "to_qty": 2}

    line_id: int = Field(description="The order line (`id` in the order's `lines`).")
    sku: str = Field(description="The product's SKU.")
    name: str = Field(description="The product's name when ordered.")
    variant: str = Field(description="Empty when the product has no variant.")
    from_qty: int = Field(ge=0, description="Units requested before; 0 for a line just added.")
    to_qty: int = Field(ge=0, description="Units requested now; 0 when the line was voided.")


class LinesChangedPayload(EventPayload):
    """The order's lines were changed before picking started (POS or API); its stock hold follows."""

    example = {"changes": [LineChange.example], "total": "599.98"}

    changes: list[LineChange] = Field(description="What changed, line by line.")
    total: Amount = Field(description="The order's total after the change.")


class SubStatusChangedPayload(EventPayload):
    """Staff set one of the organization's sub-statuses inside the order's current status (or cleared it)."""

    example = {
        "status": "picking",
        "code": "engraving",
        "name": "Waiting for engraving",
        "shopper_text": "Your item is being engraved.",
        "previous_code": "",
        "shopper_notified": True,
    }

    status: str = Field(description="The lifecycle status the sub-status belongs to (unchanged by it).")
    code: str = Field(description="The sub-status's code; empty when it was cleared.")
    name: str = Field(description="Its name for staff; empty when it was cleared.")
    shopper_text: str = Field(description="What the shopper's page says, in the order's language; may be empty.")
    previous_code: str = Field(description="The sub-status before; empty when there was none.")
    shopper_notified: bool = Field(description="Whether the shopper gets a message about it.")


_SUBSTITUTE = {"line_id": 9, "for_line_id": 7, "sku": "SHV-S8", "name": "Series 8 shaver", "variant": "", "qty": 1}


class _SubstitutePayload(EventPayload):
    """What every substitute event says of the substitute."""

    line_id: int = Field(description="The substitute's own line (`id` in the order's `lines`).")
    for_line_id: int = Field(description="The line whose units were not found.")
    sku: str = Field(description="The substitute's SKU.")
    name: str = Field(description="The substitute's name.")
    variant: str = Field(description="Empty when the product has no variant.")
    qty: int = Field(ge=1, description="Units offered.")


class SubstituteProposedPayload(_SubstitutePayload):
    """Units of a line were not found and an associate offers another product in their place: its units
    are held for the shopper, who accepts or declines it (or the store's default applies at `decide_by`).
    It is no part of the total until accepted."""

    example = {**_SUBSTITUTE, "unit_price": "249.99", "decide_by": "2026-11-23T10:20:00+00:00"}

    unit_price: Amount = Field(description="The substitute's unit price, from the catalogue.")
    decide_by: str = Field(description="When the store's default answer applies if the shopper gives none (ISO 8601).")


class SubstituteDecidedPayload(_SubstitutePayload):
    """The answer to a substitute: `order.substitute_accepted` (its units join the order and its total) or
    `order.substitute_declined` (its held units go back on the shelf)."""

    example = {**_SUBSTITUTE, "by_default": False, "total": "249.99"}

    by_default: bool = Field(description="True when nobody answered in time and the store's default applied.")
    total: Amount = Field(description="The order's total after the answer.")


class MovedPayload(EventPayload):
    """Customer service moved an order nobody had started to another store of the organization: its
    stock is held there now, that store picks it and the shopper collects it there."""

    example = {"from_store_id": 3, "from_store": "Lyon Part-Dieu", "to_store_id": 4, "to_store": "Lyon Bellecour"}

    from_store_id: int = Field(description="The store the order was to be collected at before.")
    from_store: str = Field(description="That store's name.")
    to_store_id: int = Field(description="The store that fills the order now.")
    to_store: str = Field(description="That store's name.")
